//! The intervention record: the 5W core, each instrument's fields, and the words (enums)
//! they use. A value of [`Intervention`] has passed the checker ([`super::parse_value`]).

use super::problems::Lang;
use crate::codes::{CountryCode, IatiIdentifier};
use crate::money::CurrencyCode;
use crate::period::Period;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

// ---------------------------------------------------------------------------------------------
// The record

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The stored and typed word.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            /// Parses the word (any case, `-` for `_`).
            pub fn parse(raw: &str) -> Option<Self> {
                let s = raw.trim().to_ascii_lowercase().replace('-', "_");
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
            /// Every word, for messages.
            pub fn words() -> Vec<String> {
                Self::ALL.iter().map(|v| v.as_str().to_owned()).collect()
            }
        }
    };
}

word_enum!(
    /// The strategy's instrument ("tool") an intervention uses.
    Instrument {
        /// A diplomatic engagement, ask or commitment.
        Diplomacy = "diplomacy",
        /// A funded activity, published in IATI.
        ForeignAssistance = "foreign_assistance",
        /// A public-messaging campaign.
        PublicMessaging = "public_messaging",
        /// A U.S. immigration initiative or lawful pathway.
        ImmigrationInitiatives = "immigration_initiatives",
    }
);

word_enum!(
    /// Where an entered record is in its review: only `published` ones are public.
    Workflow {
        /// Being written by its organisation.
        Draft = "draft",
        /// Sent for review.
        Submitted = "submitted",
        /// Approved by a coordinator, not yet public.
        Approved = "approved",
        /// Public.
        Published = "published",
    }
);

word_enum!(
    /// The intervention's own status.
    Status {
        /// Not started.
        Planned = "planned",
        /// Under way.
        Active = "active",
        /// Finished.
        Completed = "completed",
        /// Paused.
        Suspended = "suspended",
        /// Stopped for good.
        Cancelled = "cancelled",
    }
);

word_enum!(
    /// What an amount of money is.
    MoneyKind {
        /// Money planned.
        Budget = "budget",
        /// Money committed (obligated).
        Commitment = "commitment",
        /// Money paid out.
        Disbursement = "disbursement",
    }
);

word_enum!(
    /// Who a diplomatic engagement is with.
    CounterpartKind {
        /// A national or local government.
        Government = "government",
        /// A public institution (a ministry, a migration agency, a court).
        Institution = "institution",
        /// An international organization.
        InternationalOrganization = "international_organization",
        /// Anyone else.
        Other = "other",
    }
);

word_enum!(
    /// The state of a diplomatic ask or commitment.
    CommitmentStatus {
        /// Asked for.
        Raised = "raised",
        /// Promised by the counterpart.
        Committed = "committed",
        /// Being carried out.
        InProgress = "in_progress",
        /// Done.
        Fulfilled = "fulfilled",
        /// Stopped, not done.
        Stalled = "stalled",
    }
);

/// A line of effort chosen for an intervention, with the reason (chosen, not inferred).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineChoice {
    /// The line of effort's id in the strategy, e.g. `LOE7`.
    pub line_of_effort: String,
    /// Why the intervention serves it.
    pub reason: String,
}

/// A text in English and/or Spanish (at least one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bilingual {
    /// English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    /// Spanish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
}

impl Bilingual {
    /// The text in `lang`, else in the other language.
    pub fn get(&self, lang: Lang) -> &str {
        let (a, b) = match lang {
            Lang::En => (&self.en, &self.es),
            Lang::Es => (&self.es, &self.en),
        };
        a.as_deref().or(b.as_deref()).unwrap_or_default()
    }
}

/// `YYYY-MM-DD` as text in the stored form.
mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        crate::codes::parse_iso_date(&s).map_err(serde::de::Error::custom)
    }
    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.collect_str(d),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| crate::codes::parse_iso_date(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

/// An amount of money with its currency and date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyEntry {
    /// Budget, commitment or disbursement.
    pub kind: MoneyKind,
    /// The amount, exact, not negative.
    pub amount: Decimal,
    /// ISO 4217.
    pub currency: CurrencyCode,
    /// The date of the budget, commitment or disbursement.
    #[serde(with = "iso_date")]
    pub date: Date,
}

/// One dated step of a diplomatic ask or commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentEvent {
    /// When.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// The state from that date.
    pub status: CommitmentStatus,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A diplomatic engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diplomacy {
    /// Who (e.g. `Ministry of Foreign Affairs of Guatemala`).
    pub counterpart: String,
    /// What kind of counterpart.
    pub counterpart_kind: CounterpartKind,
    /// The ask or the commitment, in words.
    pub ask: String,
    /// Its history, oldest first; the last entry is the current status.
    pub history: Vec<CommitmentEvent>,
}

impl Diplomacy {
    /// The current status (the history's last entry).
    pub fn status(&self) -> Option<CommitmentStatus> {
        self.history.last().map(|e| e.status)
    }
}

/// People reached by a messaging campaign in one period and place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    /// The period.
    pub period: Period,
    /// The country.
    pub country: CountryCode,
    /// The department (ISO 3166-2), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// People reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people_reached: Option<u64>,
    /// Impressions (views, plays, prints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impressions: Option<u64>,
}

/// A public-messaging campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messaging {
    /// Channels (radio, television, WhatsApp, ...).
    pub channels: Vec<String>,
    /// Languages of the messages (`es`, `en`, `mam`, `k'iche'`, ...).
    pub languages: Vec<String>,
    /// Audiences (e.g. `young people in Western Highlands`).
    pub audiences: Vec<String>,
    /// Reach per period and place.
    #[serde(default)]
    pub reach: Vec<Reach>,
}

/// Applications, approvals and arrivals of a pathway in one period and country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathwayFigures {
    /// The period.
    pub period: Period,
    /// The country (of the applicants).
    pub country: CountryCode,
    /// Applications received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<u64>,
    /// Applications approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<u64>,
    /// People who arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<u64>,
}

/// An immigration initiative or lawful pathway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pathway {
    /// The programme (`Central American Minors`, `H-2B`, `Safe Mobility Office`, ...).
    pub programme: String,
    /// Figures per period and country.
    #[serde(default)]
    pub figures: Vec<PathwayFigures>,
}

/// A foreign-assistance activity: a link to imported IATI data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistanceLink {
    /// The `iati-identifier` of the activity (imported now or later).
    pub iati_identifier: IatiIdentifier,
}

/// The fields of the intervention's instrument (the key is the instrument's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Details {
    /// `diplomacy`.
    Diplomacy(Diplomacy),
    /// `foreign_assistance`.
    ForeignAssistance(AssistanceLink),
    /// `public_messaging`.
    PublicMessaging(Messaging),
    /// `immigration_initiatives`.
    ImmigrationInitiatives(Pathway),
}

impl Details {
    /// The instrument these fields belong to.
    pub fn instrument(&self) -> Instrument {
        match self {
            Details::Diplomacy(_) => Instrument::Diplomacy,
            Details::ForeignAssistance(_) => Instrument::ForeignAssistance,
            Details::PublicMessaging(_) => Instrument::PublicMessaging,
            Details::ImmigrationInitiatives(_) => Instrument::ImmigrationInitiatives,
        }
    }
}

/// An intervention entered in Senda, checked ([`parse_value`]): it exists, so it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    /// The strategy whose lines of effort it serves (default `cmms-2021`).
    pub strategy: String,
    /// Who: the owning organisation (`organisation.id`); its editors edit the record.
    pub organisation: i64,
    /// Who: implementing partners, by name.
    #[serde(default)]
    pub implementing_partners: Vec<String>,
    /// What: lines of effort, each with its reason.
    pub lines_of_effort: Vec<LineChoice>,
    /// What: the instrument.
    pub instrument: Instrument,
    /// What: the sector (a DAC 5 code such as `15190`, or a short name), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// What: a title.
    pub title: Bilingual,
    /// What: a description.
    #[serde(default)]
    pub description: Bilingual,
    /// Where: countries (ISO 3166-1 alpha-2).
    pub countries: Vec<CountryCode>,
    /// Where: departments (ISO 3166-2, each in one of `countries`).
    #[serde(default)]
    pub departments: Vec<String>,
    /// When: start.
    #[serde(with = "iso_date")]
    pub start: Date,
    /// When: end, when known.
    #[serde(default, with = "iso_date::option", skip_serializing_if = "Option::is_none")]
    pub end: Option<Date>,
    /// For whom: population groups (`returnee`, `refugee`, ...).
    #[serde(default)]
    pub population_groups: Vec<String>,
    /// Status.
    pub status: Status,
    /// Money (budget, commitments, disbursements); none for foreign assistance.
    #[serde(default)]
    pub money: Vec<MoneyEntry>,
    /// Fields not for publication (sensitive): shown only to those who may edit or review the
    /// record ([`super::Sight`]); withheld from everyone else by the store's reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_for_publication: Vec<Restricted>,
    /// The instrument's own fields.
    #[serde(flatten)]
    pub details: Details,
}

word_enum!(
    /// A field that can be marked not for publication (issue 18, item 8): free text that may
    /// carry what a partner government said in confidence.
    Restricted {
        /// The description (both languages).
        Description = "description",
        /// A diplomatic engagement's ask or commitment, in words.
        DiplomacyAsk = "diplomacy_ask",
        /// The notes of a diplomatic engagement's dated history.
        DiplomacyNotes = "diplomacy_notes",
    }
);

impl Restricted {
    /// Whether the field exists on records of `instrument`.
    pub fn applies_to(self, instrument: Instrument) -> bool {
        match self {
            Restricted::Description => true,
            Restricted::DiplomacyAsk | Restricted::DiplomacyNotes => instrument == Instrument::Diplomacy,
        }
    }
}

impl Intervention {
    /// Whether `field` is marked not for publication.
    pub fn is_restricted(&self, field: Restricted) -> bool {
        self.not_for_publication.contains(&field)
    }

    /// Empties every field marked not for publication that holds something (an ask becomes
    /// empty text, notes and descriptions absent) and says which ones it emptied. The result
    /// is for showing only: it would not pass the checker again.
    pub fn withhold(&mut self) -> Vec<Restricted> {
        let mut out = Vec::new();
        for f in self.not_for_publication.clone() {
            let emptied = match (f, &mut self.details) {
                (Restricted::Description, _) => {
                    let had = self.description.en.is_some() || self.description.es.is_some();
                    self.description = Bilingual::default();
                    had
                }
                (Restricted::DiplomacyAsk, Details::Diplomacy(d)) => !std::mem::take(&mut d.ask).is_empty(),
                (Restricted::DiplomacyNotes, Details::Diplomacy(d)) => {
                    d.history.iter_mut().filter_map(|e| e.note.take()).count() > 0
                }
                _ => false,
            };
            if emptied {
                out.push(f);
            }
        }
        out
    }

    /// The line-of-effort ids, in the order given.
    pub fn line_ids(&self) -> Vec<&str> {
        self.lines_of_effort.iter().map(|l| l.line_of_effort.as_str()).collect()
    }

    /// The linked IATI identifier (foreign assistance only).
    pub fn iati_identifier(&self) -> Option<&IatiIdentifier> {
        match &self.details {
            Details::ForeignAssistance(l) => Some(&l.iati_identifier),
            _ => None,
        }
    }
}

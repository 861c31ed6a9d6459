//! Interventions entered in Senda (issue 18, item 1), for every instrument of the strategy:
//! a diplomatic engagement, a public-messaging campaign, an immigration initiative (a lawful
//! pathway), or a foreign-assistance activity that links to imported IATI data.
//!
//! Every intervention has the same 5W core (who: the owning organisation and implementing
//! partners; what: lines of effort chosen with a reason, instrument, sector, title and
//! description in English and/or Spanish; where: countries and departments by ISO 3166-2 code;
//! when: start and end; for whom: population groups; status; money with currency and date)
//! and the fields of its instrument.
//!
//! **One way in**: [`parse_value`] checks a record given as a JSON value; [`parse_json`] and
//! [`parse_toml`] only turn text into that value first. The command line (`senda intervention
//! add --file`), the JSON API (`POST /api/v1/interventions`) and, later, the web form all call
//! it. It never stops at the first problem: every problem is a [`FieldError`] naming the field
//! by its path (`public_messaging.reach[2].people_reached`), with a message in English and in
//! Spanish ([`FieldError::message`]). Unknown keys are refused (a misspelt field is never
//! silently dropped). Amounts are exact decimals (`"1500.25"`, or a whole number), never
//! floating point: a decimal number written without quotes is refused.
//!
//! The stored form (the `doc` column) is what [`Intervention`] serialises to, which is the
//! input format itself: `parse_value(&serde_json::to_value(&i))` gives `i` back (tested).
//!
//! Entered records go through a workflow ([`Workflow`]: draft, submitted, approved,
//! published); only published ones are public ([`Intervention`]s are `Resource::Record`s of
//! the access policy, owned by their organisation). [`Workflow::action_to`] says which policy
//! action a change of workflow needs.
//!
//! Not yet: the money of entered interventions is not in reports (the fact segments would
//! need a source mark; see ARCHITECTURE.md), and a foreign-assistance intervention carries no
//! money of its own at all: its money is the linked IATI activity's, counted once.

use crate::accounts::{Action, Decision, Principal, Resource, decide};
use crate::codes::{CountryCode, IatiIdentifier, parse_iso_date};
use crate::indicator::POPULATION_GROUPS;
use crate::money::{CurrencyCode, parse_amount};
use crate::period::Period;
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use time::Date;

// ---------------------------------------------------------------------------------------------
// Errors, in English and Spanish

/// A language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The text is not JSON or TOML at all.
    Syntax(String),
    /// A key Senda does not know (a misspelling, or a field of another record).
    UnknownField,
    /// A required field is absent.
    Missing,
    /// A text or list that must hold something is empty.
    Empty,
    /// The value has the wrong shape.
    WrongType(Shape),
    /// Text longer than allowed (characters).
    TooLong(usize),
    /// A list longer than allowed.
    TooMany(usize),
    /// Text with a control character (other than line breaks and tabs).
    Control,
    /// A value not among those allowed.
    NotOneOf {
        /// The value given.
        value: String,
        /// The values allowed.
        allowed: Vec<String>,
    },
    /// A value given twice in a list.
    Duplicate(String),
    /// Not an ISO 8601 date.
    Date(String),
    /// The end is before the start.
    EndBeforeStart,
    /// Not an ISO 3166-1 alpha-2 country code.
    Country(String),
    /// Not an ISO 3166-2 code of a department of the country it names.
    Department(String),
    /// A department of a country that is not among the intervention's countries.
    DepartmentOutside(String),
    /// A country that is not among the intervention's countries.
    CountryOutside(String),
    /// Not an ISO 4217 currency code.
    Currency(String),
    /// An amount that is not a plain decimal number (`N/A`, `1,5`, `<5`).
    Amount(String),
    /// An amount beyond 10^15 or with more than 6 decimal places.
    AmountRange(String),
    /// A negative amount.
    AmountNegative(String),
    /// A decimal number written without quotes (it would be read as floating point).
    UnquotedDecimal,
    /// A count that is negative.
    Negative(String),
    /// A count that is not a whole number.
    NotWholeNumber(String),
    /// Not a period (`2024-03`, `2024-Q1`, `FY2024`, `2024`).
    Period(String),
    /// Not an IATI identifier.
    Identifier(String),
    /// Neither `en` nor `es` given.
    NoLanguage,
    /// The section of another instrument than the one chosen.
    OtherInstrument(String),
    /// Money on a foreign-assistance intervention (it comes from the IATI data).
    MoneyFromIati,
    /// A dated history out of date order.
    HistoryOrder,
    /// No organisation with this id.
    UnknownOrganisation(i64),
    /// A warning, not an error: no imported activity has this `iati-identifier` yet; the
    /// link is kept and takes effect when it is imported.
    LinkPending(String),
    /// A workflow change that is not allowed from the current state.
    Transition {
        /// Current state.
        from: Workflow,
        /// Asked state.
        to: Workflow,
    },
}

/// The shape a value should have (for [`Problem::WrongType`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Text.
    Text,
    /// A list.
    List,
    /// A table / object.
    Object,
    /// A whole number.
    WholeNumber,
}

impl Shape {
    fn en(self) -> &'static str {
        match self {
            Shape::Text => "text",
            Shape::List => "a list",
            Shape::Object => "a table of fields",
            Shape::WholeNumber => "a whole number",
        }
    }
    fn es(self) -> &'static str {
        match self {
            Shape::Text => "un texto",
            Shape::List => "una lista",
            Shape::Object => "una tabla de campos",
            Shape::WholeNumber => "un número entero",
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Problem {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let es = lang == Lang::Es;
        match self {
            Problem::Syntax(m) if es => format!("no se puede leer: {m}"),
            Problem::Syntax(m) => format!("cannot be read: {m}"),
            Problem::UnknownField if es => "no es un campo que Senda conozca".into(),
            Problem::UnknownField => "is not a field Senda knows".into(),
            Problem::Missing if es => "es obligatorio".into(),
            Problem::Missing => "is required".into(),
            Problem::Empty if es => "está vacío".into(),
            Problem::Empty => "is empty".into(),
            Problem::WrongType(s) if es => format!("debe ser {}", s.es()),
            Problem::WrongType(s) => format!("must be {}", s.en()),
            Problem::TooLong(n) if es => format!("tiene más de {n} caracteres"),
            Problem::TooLong(n) => format!("is longer than {n} characters"),
            Problem::TooMany(n) if es => format!("tiene más de {n} elementos"),
            Problem::TooMany(n) => format!("has more than {n} entries"),
            Problem::Control if es => "contiene un carácter de control".into(),
            Problem::Control => "contains a control character".into(),
            Problem::NotOneOf { value, allowed } if es => {
                format!("{value:?} no es un valor válido; uno de: {}", allowed.join(", "))
            }
            Problem::NotOneOf { value, allowed } => format!("{value:?} is not allowed; one of: {}", allowed.join(", ")),
            Problem::Duplicate(v) if es => format!("{v:?} aparece dos veces"),
            Problem::Duplicate(v) => format!("{v:?} is given twice"),
            Problem::Date(v) if es => format!("{v:?} no es una fecha ISO 8601 como 2024-03-31"),
            Problem::Date(v) => format!("{v:?} is not an ISO 8601 date such as 2024-03-31"),
            Problem::EndBeforeStart if es => "la fecha de fin es anterior a la de inicio".into(),
            Problem::EndBeforeStart => "the end is before the start".into(),
            Problem::Country(v) if es => format!("{v:?} no es un código de país ISO 3166-1 alfa-2 como GT"),
            Problem::Country(v) => format!("{v:?} is not an ISO 3166-1 alpha-2 country code such as GT"),
            Problem::Department(v) if es => {
                format!("{v:?} no es un código ISO 3166-2 de un departamento del país que nombra (p. ej. GT-16, HN-CR, SV-SS)")
            }
            Problem::Department(v) => format!(
                "{v:?} is not the ISO 3166-2 code of a department of the country it names (e.g. GT-16, HN-CR, SV-SS)"
            ),
            Problem::DepartmentOutside(v) if es => format!("{v:?} no está en ninguno de los países elegidos"),
            Problem::DepartmentOutside(v) => format!("{v:?} is not in any of the countries chosen"),
            Problem::CountryOutside(v) if es => format!("{v:?} no está entre los países de la intervención"),
            Problem::CountryOutside(v) => format!("{v:?} is not among the intervention's countries"),
            Problem::Currency(v) if es => format!("{v:?} no es un código de moneda ISO 4217 como USD"),
            Problem::Currency(v) => format!("{v:?} is not an ISO 4217 currency code such as USD"),
            Problem::Amount(v) if es => format!("{v:?} no es un importe: escriba un número decimal como \"1500.25\""),
            Problem::Amount(v) => format!("{v:?} is not an amount: write a decimal number such as \"1500.25\""),
            Problem::AmountRange(v) if es => {
                format!("{v:?} está fuera de rango: como máximo 10^15 y 6 decimales")
            }
            Problem::AmountRange(v) => format!("{v:?} is out of range: at most 10^15 and 6 decimal places"),
            Problem::AmountNegative(v) if es => format!("{v:?} es negativo"),
            Problem::AmountNegative(v) => format!("{v:?} is negative"),
            Problem::UnquotedDecimal if es => {
                "un número decimal sin comillas se leería de forma inexacta: escríbalo entre comillas, como \"1500.25\"".into()
            }
            Problem::UnquotedDecimal => {
                "a decimal number without quotes would be read inexactly: write it in quotes, such as \"1500.25\"".into()
            }
            Problem::Negative(v) if es => format!("{v} es negativo; una cifra de personas o solicitudes no lo es"),
            Problem::Negative(v) => format!("{v} is negative; a count of people or applications is not"),
            Problem::NotWholeNumber(v) if es => format!("{v:?} no es un número entero"),
            Problem::NotWholeNumber(v) => format!("{v:?} is not a whole number"),
            Problem::Period(v) if es => {
                format!("{v:?} no es un período: AAAA-MM (mes), AAAA-Qn (trimestre), FYAAAA (año fiscal) o AAAA")
            }
            Problem::Period(v) => {
                format!("{v:?} is not a period: YYYY-MM (month), YYYY-Qn (quarter), FYYYYY (fiscal year) or YYYY")
            }
            Problem::Identifier(v) if es => format!("{v:?} no es un iati-identifier"),
            Problem::Identifier(v) => format!("{v:?} is not an iati-identifier"),
            Problem::NoLanguage if es => "indique en (inglés), es (español) o ambos".into(),
            Problem::NoLanguage => "give en (English), es (Spanish) or both".into(),
            Problem::OtherInstrument(i) if es => {
                format!("es la sección de otro instrumento; esta intervención es de {i}")
            }
            Problem::OtherInstrument(i) => format!("is the section of another instrument; this intervention is {i}"),
            Problem::MoneyFromIati if es => "una actividad de asistencia exterior toma su dinero de los datos IATI vinculados (no se cuenta dos veces): no indique dinero aquí".into(),
            Problem::MoneyFromIati => "a foreign-assistance activity takes its money from the linked IATI data (never counted twice): give no money here".into(),
            Problem::HistoryOrder if es => "las fechas del historial deben ir en orden".into(),
            Problem::HistoryOrder => "the history's dates must be in order".into(),
            Problem::UnknownOrganisation(id) if es => format!("no hay ninguna organización con id {id}"),
            Problem::UnknownOrganisation(id) => format!("no organisation has id {id}"),
            Problem::LinkPending(v) if es => format!(
                "ninguna actividad importada tiene el iati-identifier {v:?} todavía: el vínculo se guarda y vale cuando se importe"
            ),
            Problem::LinkPending(v) => format!(
                "no imported activity has iati-identifier {v:?} yet: the link is kept and takes effect when it is imported"
            ),
            Problem::Transition { from, to } if es => format!("no se puede pasar de {from} a {to}"),
            Problem::Transition { from, to } => format!("cannot go from {from} to {to}"),
        }
    }
}

/// A problem with one field of an intervention: the field's path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path, e.g. `departments[1]` or `public_messaging.reach[0].country`.
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        FieldError { field: field.into(), problem }
    }

    /// The message in `lang` (without the field).
    pub fn message(&self, lang: Lang) -> String {
        self.problem.message(lang)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem.message(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// The problems of one record, all of them, in the order met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Invalid {}

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

impl Workflow {
    /// Whether records in this state are public.
    pub fn published(self) -> bool {
        self == Workflow::Published
    }

    /// The policy action moving a record from `self` to `to` needs: submitting (and taking a
    /// submission back to draft) is a write of the record; approving, publishing,
    /// unpublishing and returning an approved record are approvals. Anything else (skipping a
    /// step, staying put) is a [`Problem::Transition`] on the field `workflow`.
    pub fn action_to(self, to: Workflow) -> Result<Action, FieldError> {
        use Workflow::*;
        match (self, to) {
            (Draft, Submitted) | (Submitted, Draft) => Ok(Action::Write),
            (Submitted, Approved) | (Approved, Published) | (Published, Approved) | (Approved, Draft) => {
                Ok(Action::Approve)
            }
            _ => Err(FieldError::new("workflow", Problem::Transition { from: self, to })),
        }
    }
}

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
    /// The instrument's own fields.
    #[serde(flatten)]
    pub details: Details,
}

impl Intervention {
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

    /// The policy's answer to `principal` entering this record (a write of a record of its
    /// organisation, not published).
    pub fn may_create(&self, principal: &Principal) -> Decision {
        decide(principal, Action::Write, Resource::Record { owner: Some(self.organisation), published: false })
    }
}

/// Whether `principal` may enter or review any record at all: a partner editor of an
/// organisation (its own records), a coordinator, an administrator. The API asks it before
/// reading a body, so a viewer's or the public's write is refused as such (403, 401) rather
/// than checked first.
pub fn may_edit_some(principal: &Principal) -> Decision {
    let own = match principal {
        Principal::Person(c) => c.organisation_id,
        Principal::Anonymous => None,
    };
    let mine = Resource::Record { owner: own.or(Some(i64::MIN)), published: false };
    let other = Resource::Record { owner: Some(i64::MIN), published: false };
    for (action, resource) in [(Action::Write, mine), (Action::Write, other), (Action::Approve, other)] {
        if decide(principal, action, resource).allowed() {
            return Decision::Allow;
        }
    }
    decide(principal, Action::Write, mine)
}

/// The policy's answer to `principal` moving a record of `owner` from `from` to `to`; a move
/// the workflow does not allow is an error on the field `workflow`.
pub fn may_move(principal: &Principal, owner: i64, from: Workflow, to: Workflow) -> Result<Decision, FieldError> {
    let action = from.action_to(to)?;
    Ok(decide(principal, action, Resource::Record { owner: Some(owner), published: from.published() }))
}

// ---------------------------------------------------------------------------------------------
// Parsing: the one way in

/// What the parser checks against: the strategies (lines of effort, instruments) and the
/// departments Senda knows (`senda_stats::countries::canonical_admin1` in the CLI and the web:
/// the canonical ISO 3166-2 code of a department of a country, or `None`).
pub struct Context<'a> {
    /// The strategies a record may name.
    pub strategies: Vec<&'a Strategy>,
    /// The canonical code of department `code` of `country`, if it is one.
    pub admin1: fn(CountryCode, &str) -> Option<String>,
}

/// Active ISO 4217 codes (the IATI Currency codelist, withdrawn codes left out).
pub const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLF", "CLP", "CNY",
    "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
    "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XBT", "XCD",
    "XDR", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
];

/// Longest short text (names, titles, reasons, programme), characters.
pub const MAX_SHORT: usize = 500;
/// Longest long text (descriptions, the diplomatic ask, notes), characters.
pub const MAX_LONG: usize = 20_000;
/// Longest list.
pub const MAX_ITEMS: usize = 1_000;

/// Parses a record written as JSON (a file, an API body). See [`parse_value`].
pub fn parse_json(text: &str, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")))]))?;
    parse_value(&v, ctx)
}

/// Parses a record written as TOML (a file). Dates may be TOML dates or strings. See
/// [`parse_value`].
pub fn parse_toml(text: &str, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let t: toml::Table = toml::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not TOML: {e}")))]))?;
    parse_value(&toml_to_json(toml::Value::Table(t)), ctx)
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        // Kept as a float so that the checker refuses it as an unquoted decimal.
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// **The check every way in uses**: a record given as a JSON value (from JSON, TOML or a form)
/// becomes an [`Intervention`], or every problem found, each naming its field.
pub fn parse_value(v: &Value, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let mut p = Checker { errors: Vec::new() };
    let out = p.intervention(v, ctx);
    match out {
        Some(i) if p.errors.is_empty() => Ok(i),
        _ => {
            if p.errors.is_empty() {
                p.errors.push(FieldError::new("(record)", Problem::Missing));
            }
            Err(Invalid(p.errors))
        }
    }
}

const TOP_FIELDS: &[&str] = &[
    "strategy",
    "organisation",
    "implementing_partners",
    "lines_of_effort",
    "instrument",
    "sector",
    "title",
    "description",
    "countries",
    "departments",
    "start",
    "end",
    "population_groups",
    "status",
    "money",
    "diplomacy",
    "foreign_assistance",
    "public_messaging",
    "immigration_initiatives",
];

struct Checker {
    errors: Vec<FieldError>,
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Checker {
    fn err(&mut self, field: impl Into<String>, p: Problem) {
        self.errors.push(FieldError::new(field, p));
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str, allowed: &[&str]) -> Option<&'v Map<String, Value>> {
        let Some(m) = v.as_object() else {
            self.err(if path.is_empty() { "(record)" } else { path }, Problem::WrongType(Shape::Object));
            return None;
        };
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(at(path, k), Problem::UnknownField);
            }
        }
        Some(m)
    }

    /// Text at `field`: trimmed, non-empty, bounded, no control characters but line breaks and
    /// tabs. `None` (with an error) when not acceptable; absent and optional: `None` silently.
    fn text_value(&mut self, v: &Value, field: &str, max: usize) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.err(field, Problem::WrongType(Shape::Text));
            return None;
        };
        let s = s.trim();
        if s.is_empty() {
            self.err(field, Problem::Empty);
            return None;
        }
        if s.chars().count() > max {
            self.err(field, Problem::TooLong(max));
            return None;
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            self.err(field, Problem::Control);
            return None;
        }
        Some(s.to_owned())
    }

    fn text(&mut self, m: &Map<String, Value>, path: &str, key: &str, max: usize, required: bool) -> Option<String> {
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(at(path, key), Problem::Missing);
                }
                None
            }
            Some(v) => self.text_value(v, &at(path, key), max),
        }
    }

    fn list<'v>(
        &mut self,
        m: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Vec<(String, &'v Value)> {
        let field = at(path, key);
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(field, Problem::Missing);
                }
                Vec::new()
            }
            Some(Value::Array(a)) => {
                if a.is_empty() && required {
                    self.err(field.clone(), Problem::Empty);
                }
                if a.len() > MAX_ITEMS {
                    self.err(field, Problem::TooMany(MAX_ITEMS));
                    return Vec::new();
                }
                a.iter().enumerate().map(|(i, v)| (format!("{field}[{i}]"), v)).collect()
            }
            Some(_) => {
                self.err(field, Problem::WrongType(Shape::List));
                Vec::new()
            }
        }
    }

    /// A list of short texts, each unique.
    fn texts(&mut self, m: &Map<String, Value>, path: &str, key: &str, required: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (f, v) in self.list(m, path, key, required) {
            if let Some(s) = self.text_value(v, &f, MAX_SHORT) {
                if out.contains(&s) {
                    self.err(f, Problem::Duplicate(s));
                } else {
                    out.push(s);
                }
            }
        }
        out
    }

    fn word<T: Copy>(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        key: &str,
        parse: fn(&str) -> Option<T>,
        words: Vec<String>,
    ) -> Option<T> {
        let field = at(path, key);
        let s = self.text(m, path, key, MAX_SHORT, true)?;
        let v = parse(&s);
        if v.is_none() {
            self.err(field, Problem::NotOneOf { value: s, allowed: words });
        }
        v
    }

    fn date(&mut self, m: &Map<String, Value>, path: &str, key: &str, required: bool) -> Option<Date> {
        let s = self.text(m, path, key, 40, required)?;
        match parse_iso_date(&s) {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(at(path, key), Problem::Date(s));
                None
            }
        }
    }

    fn country_value(&mut self, v: &Value, field: &str) -> Option<CountryCode> {
        let s = self.text_value(v, field, 10)?;
        match CountryCode::parse(&s) {
            Ok(c) => Some(c),
            Err(_) => {
                self.err(field, Problem::Country(s));
                None
            }
        }
    }

    fn period(&mut self, m: &Map<String, Value>, path: &str) -> Option<Period> {
        let s = self.text(m, path, "period", 20, true)?;
        match Period::parse(&s) {
            Ok(p) => Some(p),
            Err(_) => {
                self.err(at(path, "period"), Problem::Period(s));
                None
            }
        }
    }

    /// A count: a whole number (JSON integer, or text of digits), not negative.
    fn count(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<u64> {
        let field = at(path, key);
        match m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => {
                if let Some(u) = n.as_u64() {
                    Some(u)
                } else if n.as_i64().is_some_and(|i| i < 0) || n.as_f64().is_some_and(|f| f < 0.0) {
                    self.err(field, Problem::Negative(n.to_string()));
                    None
                } else {
                    self.err(field, Problem::NotWholeNumber(n.to_string()));
                    None
                }
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if let Some(rest) = t.strip_prefix('-')
                    && !rest.is_empty()
                    && rest.bytes().all(|b| b.is_ascii_digit())
                {
                    self.err(field, Problem::Negative(t.to_owned()));
                    return None;
                }
                match t.parse::<u64>() {
                    Ok(u) if t.bytes().all(|b| b.is_ascii_digit()) => Some(u),
                    _ => {
                        self.err(field, Problem::NotWholeNumber(s.clone()));
                        None
                    }
                }
            }
            Some(_) => {
                self.err(field, Problem::WrongType(Shape::WholeNumber));
                None
            }
        }
    }

    /// A department code of one of `countries`; `country` when the entry names one.
    fn department(&mut self, v: &Value, field: &str, countries: &[CountryCode], ctx: &Context<'_>) -> Option<String> {
        let s = self.text_value(v, field, 20)?;
        let prefix = s.split('-').next().unwrap_or_default();
        let Ok(cc) = CountryCode::parse(prefix) else {
            self.err(field, Problem::Department(s));
            return None;
        };
        if !countries.contains(&cc) {
            self.err(field, Problem::DepartmentOutside(s));
            return None;
        }
        match (ctx.admin1)(cc, &s) {
            Some(code) => Some(code),
            None => {
                self.err(field, Problem::Department(s));
                None
            }
        }
    }

    fn bilingual(&mut self, m: &Map<String, Value>, key: &str, max: usize, required: bool) -> Bilingual {
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(key, Problem::Missing);
                }
                Bilingual::default()
            }
            Some(v) => {
                let Some(o) = self.object(v, key, &["en", "es"]) else { return Bilingual::default() };
                let b = Bilingual { en: self.text(o, key, "en", max, false), es: self.text(o, key, "es", max, false) };
                if required && b.en.is_none() && b.es.is_none() && !o.contains_key("en") && !o.contains_key("es") {
                    self.err(key, Problem::NoLanguage);
                }
                b
            }
        }
    }

    fn money(&mut self, v: &Value, field: &str) -> Option<MoneyEntry> {
        let m = self.object(v, field, &["kind", "amount", "currency", "date"])?;
        let kind = self.word(m, field, "kind", MoneyKind::parse, MoneyKind::words());
        let amount_field = at(field, "amount");
        let amount = match m.get("amount") {
            None | Some(Value::Null) => {
                self.err(amount_field.clone(), Problem::Missing);
                None
            }
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            Some(Value::Number(_)) => {
                self.err(amount_field.clone(), Problem::UnquotedDecimal);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(amount_field.clone(), Problem::WrongType(Shape::Text));
                None
            }
        };
        let amount = amount.and_then(|raw| match parse_amount(&raw) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.err(amount_field.clone(), Problem::AmountNegative(raw));
                None
            }
            Ok(d) => Some(d),
            Err(crate::codes::CodeError::AmountRange(_)) => {
                self.err(amount_field.clone(), Problem::AmountRange(raw));
                None
            }
            Err(_) => {
                self.err(amount_field.clone(), Problem::Amount(raw));
                None
            }
        });
        let currency = self.text(m, field, "currency", 10, true).and_then(|s| {
            let up = s.to_ascii_uppercase();
            match CurrencyCode::parse(&up) {
                Ok(c) if ISO_4217.binary_search(&c.as_str()).is_ok() => Some(c),
                _ => {
                    self.err(at(field, "currency"), Problem::Currency(s));
                    None
                }
            }
        });
        let date = self.date(m, field, "date", true);
        Some(MoneyEntry { kind: kind?, amount: amount?, currency: currency?, date: date? })
    }

    fn intervention(&mut self, v: &Value, ctx: &Context<'_>) -> Option<Intervention> {
        let m = self.object(v, "", TOP_FIELDS)?;
        // Strategy: its lines of effort and instruments.
        let strategy_id =
            self.text(m, "", "strategy", 100, false).unwrap_or_else(|| crate::strategy::DEFAULT_STRATEGY.to_owned());
        let strategy = ctx.strategies.iter().copied().find(|s| s.id == strategy_id);
        if strategy.is_none() {
            let allowed = ctx.strategies.iter().map(|s| s.id.clone()).collect();
            self.err("strategy", Problem::NotOneOf { value: strategy_id.clone(), allowed });
        }
        let organisation = match m.get("organisation") {
            None | Some(Value::Null) => {
                self.err("organisation", Problem::Missing);
                None
            }
            Some(Value::Number(n)) => match n.as_i64().filter(|i| *i > 0) {
                Some(i) => Some(i),
                None => {
                    self.err("organisation", Problem::NotWholeNumber(n.to_string()));
                    None
                }
            },
            Some(Value::String(s)) => match s.trim().parse::<i64>().ok().filter(|i| *i > 0) {
                Some(i) => Some(i),
                None => {
                    self.err("organisation", Problem::NotWholeNumber(s.clone()));
                    None
                }
            },
            Some(_) => {
                self.err("organisation", Problem::WrongType(Shape::WholeNumber));
                None
            }
        };
        let implementing_partners = self.texts(m, "", "implementing_partners", false);

        let mut lines: Vec<LineChoice> = Vec::new();
        for (f, lv) in self.list(m, "", "lines_of_effort", true) {
            let Some(o) = self.object(lv, &f, &["line_of_effort", "reason"]) else { continue };
            let id = self.text(o, &f, "line_of_effort", 20, true).and_then(|id| {
                let s = strategy?;
                match s.lines_of_effort.iter().find(|l| l.id.eq_ignore_ascii_case(&id)) {
                    Some(l) => Some(l.id.clone()),
                    None => {
                        let allowed = s.lines_of_effort.iter().map(|l| l.id.clone()).collect();
                        self.err(at(&f, "line_of_effort"), Problem::NotOneOf { value: id, allowed });
                        None
                    }
                }
            });
            let reason = self.text(o, &f, "reason", MAX_LONG, true);
            let (Some(id), Some(reason)) = (id, reason) else { continue };
            if lines.iter().any(|l| l.line_of_effort == id) {
                self.err(at(&f, "line_of_effort"), Problem::Duplicate(id));
                continue;
            }
            lines.push(LineChoice { line_of_effort: id, reason });
        }

        let instrument = self.word(m, "", "instrument", Instrument::parse, Instrument::words());
        if let (Some(i), Some(s)) = (instrument, strategy)
            && !s.instruments.is_empty()
            && !s.instruments.iter().any(|x| x.id == i.as_str())
        {
            let allowed = s.instruments.iter().map(|x| x.id.clone()).collect();
            self.err("instrument", Problem::NotOneOf { value: i.as_str().to_owned(), allowed });
        }
        let sector = self.text(m, "", "sector", 200, false);
        let title = self.bilingual(m, "title", MAX_SHORT, true);
        let description = self.bilingual(m, "description", MAX_LONG, false);

        let mut countries: Vec<CountryCode> = Vec::new();
        for (f, cv) in self.list(m, "", "countries", true) {
            if let Some(c) = self.country_value(cv, &f) {
                if countries.contains(&c) {
                    self.err(f, Problem::Duplicate(c.to_string()));
                } else {
                    countries.push(c);
                }
            }
        }
        let mut departments: Vec<String> = Vec::new();
        for (f, dv) in self.list(m, "", "departments", false) {
            if let Some(d) = self.department(dv, &f, &countries, ctx) {
                if departments.contains(&d) {
                    self.err(f, Problem::Duplicate(d));
                } else {
                    departments.push(d);
                }
            }
        }

        let start = self.date(m, "", "start", true);
        let end = self.date(m, "", "end", false);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            self.err("end", Problem::EndBeforeStart);
        }

        let mut population_groups: Vec<String> = Vec::new();
        for (f, gv) in self.list(m, "", "population_groups", false) {
            let Some(g) = self.text_value(gv, &f, 100) else { continue };
            let g = g.to_ascii_lowercase();
            if !POPULATION_GROUPS.contains(&g.as_str()) {
                let allowed = POPULATION_GROUPS.iter().map(|s| (*s).to_owned()).collect();
                self.err(f, Problem::NotOneOf { value: g, allowed });
            } else if population_groups.contains(&g) {
                self.err(f, Problem::Duplicate(g));
            } else {
                population_groups.push(g);
            }
        }
        let status = self.word(m, "", "status", Status::parse, Status::words());

        let mut money = Vec::new();
        let money_items = self.list(m, "", "money", false);
        if instrument == Some(Instrument::ForeignAssistance) && !money_items.is_empty() {
            self.err("money", Problem::MoneyFromIati);
        } else {
            for (f, mv) in money_items {
                if let Some(e) = self.money(mv, &f) {
                    money.push(e);
                }
            }
        }

        // The instrument's section: present for the instrument chosen, absent for the others.
        let mut details = None;
        for other in Instrument::ALL {
            let key = other.as_str();
            let Some(section) = m.get(key) else { continue };
            match instrument {
                Some(i) if i == *other => details = self.details(i, section, &countries, ctx),
                Some(i) => self.err(key, Problem::OtherInstrument(i.as_str().to_owned())),
                None => {}
            }
        }
        if let Some(i) = instrument
            && !m.contains_key(i.as_str())
        {
            self.err(i.as_str(), Problem::Missing);
        }

        Some(Intervention {
            strategy: strategy?.id.clone(),
            organisation: organisation?,
            implementing_partners,
            lines_of_effort: lines,
            instrument: instrument?,
            sector,
            title,
            description,
            countries,
            departments,
            start: start?,
            end,
            population_groups,
            status: status?,
            money,
            details: details?,
        })
    }

    fn details(&mut self, i: Instrument, v: &Value, countries: &[CountryCode], ctx: &Context<'_>) -> Option<Details> {
        let path = i.as_str();
        match i {
            Instrument::ForeignAssistance => {
                let m = self.object(v, path, &["iati_identifier"])?;
                let raw = self.text(m, path, "iati_identifier", 2000, true)?;
                match IatiIdentifier::parse(&raw) {
                    Ok(id) => Some(Details::ForeignAssistance(AssistanceLink { iati_identifier: id })),
                    Err(_) => {
                        self.err(at(path, "iati_identifier"), Problem::Identifier(raw));
                        None
                    }
                }
            }
            Instrument::Diplomacy => {
                let m = self.object(v, path, &["counterpart", "counterpart_kind", "ask", "history"])?;
                let counterpart = self.text(m, path, "counterpart", MAX_SHORT, true);
                let kind = self.word(m, path, "counterpart_kind", CounterpartKind::parse, CounterpartKind::words());
                let ask = self.text(m, path, "ask", MAX_LONG, true);
                let mut history: Vec<CommitmentEvent> = Vec::new();
                let mut ordered = true;
                for (f, hv) in self.list(m, path, "history", true) {
                    let Some(o) = self.object(hv, &f, &["date", "status", "note"]) else { continue };
                    let date = self.date(o, &f, "date", true);
                    let status = self.word(o, &f, "status", CommitmentStatus::parse, CommitmentStatus::words());
                    let note = self.text(o, &f, "note", MAX_LONG, false);
                    if let (Some(date), Some(status)) = (date, status) {
                        if history.last().is_some_and(|l| l.date > date) && ordered {
                            ordered = false;
                            self.err(at(&f, "date"), Problem::HistoryOrder);
                        }
                        history.push(CommitmentEvent { date, status, note });
                    }
                }
                Some(Details::Diplomacy(Diplomacy {
                    counterpart: counterpart?,
                    counterpart_kind: kind?,
                    ask: ask?,
                    history,
                }))
            }
            Instrument::PublicMessaging => {
                let m = self.object(v, path, &["channels", "languages", "audiences", "reach"])?;
                let channels = self.texts(m, path, "channels", true);
                let languages = self.texts(m, path, "languages", true);
                let audiences = self.texts(m, path, "audiences", true);
                let mut reach = Vec::new();
                for (f, rv) in self.list(m, path, "reach", false) {
                    let Some(o) =
                        self.object(rv, &f, &["period", "country", "department", "people_reached", "impressions"])
                    else {
                        continue;
                    };
                    let period = self.period(o, &f);
                    let (country, department) = self.place(o, &f, countries, ctx);
                    let people_reached = self.count(o, &f, "people_reached");
                    let impressions = self.count(o, &f, "impressions");
                    if let (Some(period), Some(country)) = (period, country) {
                        reach.push(Reach { period, country, department, people_reached, impressions });
                    }
                }
                Some(Details::PublicMessaging(Messaging { channels, languages, audiences, reach }))
            }
            Instrument::ImmigrationInitiatives => {
                let m = self.object(v, path, &["programme", "figures"])?;
                let programme = self.text(m, path, "programme", MAX_SHORT, true);
                let mut figures = Vec::new();
                for (f, fv) in self.list(m, path, "figures", false) {
                    let Some(o) = self.object(fv, &f, &["period", "country", "applications", "approvals", "arrivals"])
                    else {
                        continue;
                    };
                    let period = self.period(o, &f);
                    let country = self.place_country(o, &f, countries);
                    let applications = self.count(o, &f, "applications");
                    let approvals = self.count(o, &f, "approvals");
                    let arrivals = self.count(o, &f, "arrivals");
                    if let (Some(period), Some(country)) = (period, country) {
                        figures.push(PathwayFigures { period, country, applications, approvals, arrivals });
                    }
                }
                Some(Details::ImmigrationInitiatives(Pathway { programme: programme?, figures }))
            }
        }
    }

    /// The `country` of a per-period entry: one of the intervention's countries.
    fn place_country(&mut self, o: &Map<String, Value>, f: &str, countries: &[CountryCode]) -> Option<CountryCode> {
        let field = at(f, "country");
        let Some(v) = o.get("country") else {
            self.err(field, Problem::Missing);
            return None;
        };
        let c = self.country_value(v, &field)?;
        if !countries.contains(&c) {
            self.err(field, Problem::CountryOutside(c.to_string()));
            return None;
        }
        Some(c)
    }

    /// The `country` and optional `department` of a per-period entry.
    fn place(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        countries: &[CountryCode],
        ctx: &Context<'_>,
    ) -> (Option<CountryCode>, Option<String>) {
        let country = self.place_country(o, f, countries);
        let department = match (o.get("department"), country) {
            (None | Some(Value::Null), _) => None,
            (Some(v), Some(c)) => self.department(v, &at(f, "department"), &[c], ctx),
            (Some(_), None) => None,
        };
        (country, department)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Caller, Role};

    fn admin1(c: CountryCode, code: &str) -> Option<String> {
        let up = code.trim().to_ascii_uppercase();
        let known = ["GT-01", "GT-16", "HN-CR", "SV-SS"];
        (known.contains(&up.as_str()) && up.starts_with(c.as_str())).then_some(up)
    }

    fn with<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
        let s = Strategy::builtin("cmms-2021").expect("strategy");
        f(&Context { strategies: vec![&s], admin1 })
    }

    fn messaging() -> Value {
        serde_json::json!({
            "organisation": 3,
            "implementing_partners": ["Radio Progreso"],
            "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "campaign on the risks of irregular migration"}],
            "instrument": "public_messaging",
            "title": {"en": "Know before you go", "es": "Infórmate antes de partir"},
            "countries": ["HN", "GT"],
            "departments": ["HN-CR", "gt-16"],
            "start": "2024-01-01",
            "end": "2024-12-31",
            "population_groups": ["returnee"],
            "status": "active",
            "money": [{"kind": "budget", "amount": "250000.50", "currency": "usd", "date": "2024-01-01"}],
            "public_messaging": {
                "channels": ["radio", "WhatsApp"],
                "languages": ["es"],
                "audiences": ["young people"],
                "reach": [{"period": "2024-Q1", "country": "HN", "department": "HN-CR", "people_reached": 2000000, "impressions": "5000000"}]
            }
        })
    }

    fn fields(v: &Value) -> Vec<String> {
        with(|c| parse_value(v, c)).expect_err("refused").0.into_iter().map(|e| e.field).collect()
    }

    fn problems(v: &Value) -> Vec<FieldError> {
        with(|c| parse_value(v, c)).expect_err("refused").0
    }

    #[test]
    fn a_messaging_campaign_parses_and_round_trips() {
        let i = with(|c| parse_value(&messaging(), c)).expect("valid");
        assert_eq!(i.strategy, "cmms-2021");
        assert_eq!(i.departments, ["HN-CR", "GT-16"]);
        assert_eq!(i.money[0].amount.to_string(), "250000.50");
        assert_eq!(i.money[0].currency.as_str(), "USD");
        let Details::PublicMessaging(m) = &i.details else { panic!("messaging") };
        assert_eq!(m.reach[0].impressions, Some(5_000_000));
        let stored = serde_json::to_value(&i).expect("serialise");
        assert_eq!(with(|c| parse_value(&stored, c)).expect("stored form parses"), i);
        let back: Intervention = serde_json::from_value(stored).expect("deserialise");
        assert_eq!(back, i);
    }

    #[test]
    fn every_instrument_round_trips_through_json_and_toml() {
        let dip = r#"
organisation = 1
instrument = "diplomacy"
countries = ["GT"]
start = 2024-02-01
status = "active"
title = { es = "Compromiso de ampliar la capacidad de asilo" }
[[lines_of_effort]]
line_of_effort = "LOE2"
reason = "asylum capacity"
[diplomacy]
counterpart = "Ministerio de Relaciones Exteriores"
counterpart_kind = "government"
ask = "Expand asylum capacity"
[[diplomacy.history]]
date = "2024-02-01"
status = "raised"
[[diplomacy.history]]
date = 2024-05-01
status = "committed"
note = "announced"
"#;
        let path = r#"{"organisation": 1, "instrument": "immigration_initiatives", "countries": ["SV"],
            "start": "2023-06-01", "status": "active", "title": {"en": "Safe Mobility Office"},
            "lines_of_effort": [{"line_of_effort": "loe8", "reason": "lawful pathway"}],
            "immigration_initiatives": {"programme": "Safe Mobility Office",
               "figures": [{"period": "FY2024", "country": "SV", "applications": 12000, "approvals": 3000, "arrivals": 1000}]}}"#;
        let fa = r#"{"organisation": 1, "instrument": "foreign_assistance", "countries": ["GT"],
            "start": "2023-06-01", "status": "planned", "title": {"en": "Returnee reception"},
            "lines_of_effort": [{"line_of_effort": "LOE5", "reason": "reception of returnees"}],
            "foreign_assistance": {"iati_identifier": "US-GOV-1-72052022CA00001"}}"#;
        with(|c| {
            let d = parse_toml(dip, c).expect("diplomacy");
            let Details::Diplomacy(x) = &d.details else { panic!("diplomacy") };
            assert_eq!(x.status(), Some(CommitmentStatus::Committed));
            let p = parse_json(path, c).expect("pathway");
            assert_eq!(p.line_ids(), ["LOE8"]);
            let f = parse_json(fa, c).expect("foreign assistance");
            assert_eq!(f.iati_identifier().map(|i| i.as_str()), Some("US-GOV-1-72052022CA00001"));
            for i in [d, p, f] {
                let v = serde_json::to_value(&i).expect("serialise");
                assert_eq!(parse_value(&v, c).expect("again"), i);
            }
        });
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut v = messaging();
        v["end"] = "2023-12-31".into();
        assert_eq!(fields(&v), ["end"]);
        let e = &problems(&v)[0];
        assert_eq!(e.message(Lang::En), "the end is before the start");
        assert_eq!(e.message(Lang::Es), "la fecha de fin es anterior a la de inicio");

        let mut v = messaging();
        v["departments"] = serde_json::json!(["SV-SS"]);
        assert_eq!(fields(&v), ["departments[0]"], "a department of a country not chosen");
        let mut v = messaging();
        v["departments"] = serde_json::json!(["GT-99"]);
        assert_eq!(fields(&v), ["departments[0]"], "not a department of GT");

        for bad in ["N/A", "1,5", "<5", "1e5"] {
            let mut v = messaging();
            v["money"][0]["amount"] = bad.into();
            let p = problems(&v);
            assert_eq!(
                (p[0].field.as_str(), &p[0].problem),
                ("money[0].amount", &Problem::Amount(bad.into())),
                "{bad}"
            );
        }
        let mut v = messaging();
        v["money"][0]["amount"] = serde_json::json!(1500.25);
        assert_eq!(problems(&v)[0].problem, Problem::UnquotedDecimal);
        let mut v = messaging();
        v["money"][0]["amount"] = "-5".into();
        assert_eq!(fields(&v), ["money[0].amount"]);
        let mut v = messaging();
        v["money"][0]["currency"] = "XYZ".into();
        assert_eq!(fields(&v), ["money[0].currency"], "three letters, not ISO 4217");

        let mut v = messaging();
        v["public_messaging"]["reach"][0]["people_reached"] = serde_json::json!(-3);
        assert_eq!(problems(&v)[0].problem, Problem::Negative("-3".into()));
        let mut v = messaging();
        v["public_messaging"]["reach"][0]["impressions"] = "-3".into();
        assert_eq!(fields(&v), ["public_messaging.reach[0].impressions"]);
        let mut v = messaging();
        v["public_messaging"]["reach"][0]["department"] = "GT-16".into();
        assert_eq!(fields(&v), ["public_messaging.reach[0].department"], "GT-16 is not in HN");
        let mut v = messaging();
        v["public_messaging"]["reach"][0]["period"] = "Q1".into();
        assert_eq!(fields(&v), ["public_messaging.reach[0].period"]);

        let mut v = messaging();
        v["colour"] = "blue".into();
        assert_eq!(fields(&v), ["colour"]);
        let mut v = messaging();
        v["diplomacy"] = serde_json::json!({});
        assert_eq!(fields(&v), ["diplomacy"], "another instrument's section");
        let mut v = messaging();
        v["lines_of_effort"][0]["line_of_effort"] = "LOE9".into();
        v["lines_of_effort"][0]["reason"] = "".into();
        assert_eq!(fields(&v), ["lines_of_effort[0].line_of_effort", "lines_of_effort[0].reason"]);
        let mut v = messaging();
        v["title"] = serde_json::json!({});
        assert_eq!(fields(&v), ["title"]);
        let mut v = messaging();
        v["title"]["en"] = "bell\u{7}".into();
        assert_eq!(fields(&v), ["title.en"]);
        let mut v = messaging();
        v["status"] = "finished".into();
        let p = problems(&v);
        assert_eq!(p[0].field, "status");
        assert!(p[0].message(Lang::Es).contains("planned, active"), "{}", p[0].message(Lang::Es));
        let mut v = messaging();
        v["population_groups"] = serde_json::json!(["tourists"]);
        assert_eq!(fields(&v), ["population_groups[0]"]);
        let mut v = messaging();
        v["countries"] = serde_json::json!(["XX"]);
        assert!(fields(&v).contains(&"countries[0]".to_owned()));
        assert_eq!(fields(&serde_json::json!([1])), ["(record)"]);
        assert_eq!(with(|c| parse_json("{", c)).expect_err("syntax").0[0].field, "(record)");
    }

    #[test]
    fn markup_is_kept_as_text() {
        let mut v = messaging();
        v["title"]["en"] = "<script>alert(1)</script>".into();
        let i = with(|c| parse_value(&v, c)).expect("kept as text");
        assert_eq!(i.title.en.as_deref(), Some("<script>alert(1)</script>"));
    }

    #[test]
    fn foreign_assistance_carries_no_money_of_its_own() {
        let v = serde_json::json!({"organisation": 1, "instrument": "foreign_assistance", "countries": ["GT"],
            "start": "2023-06-01", "status": "planned", "title": {"en": "x"},
            "lines_of_effort": [{"line_of_effort": "LOE5", "reason": "r"}],
            "money": [{"kind": "budget", "amount": "1", "currency": "USD", "date": "2024-01-01"}],
            "foreign_assistance": {"iati_identifier": "US-1"}});
        assert_eq!(problems(&v)[0].problem, Problem::MoneyFromIati);
    }

    #[test]
    fn diplomatic_history_is_in_date_order() {
        let v = serde_json::json!({"organisation": 1, "instrument": "diplomacy", "countries": ["GT"],
            "start": "2023-06-01", "status": "active", "title": {"en": "x"},
            "lines_of_effort": [{"line_of_effort": "LOE2", "reason": "r"}],
            "diplomacy": {"counterpart": "MINEX", "counterpart_kind": "government", "ask": "a",
               "history": [{"date": "2024-05-01", "status": "raised"}, {"date": "2024-01-01", "status": "stalled"}]}});
        assert_eq!(fields(&v), ["diplomacy.history[1].date"]);
    }

    #[test]
    fn the_workflow_asks_the_policy() {
        let editor = Principal::Person(Caller {
            person_id: 1,
            email: "e@x.org".into(),
            organisation_id: Some(3),
            role: Role::PartnerEditor,
            token_id: None,
        });
        let coord = Principal::Person(Caller {
            person_id: 2,
            email: "c@x.org".into(),
            organisation_id: None,
            role: Role::Coordinator,
            token_id: None,
        });
        use Workflow::*;
        assert_eq!(may_move(&editor, 3, Draft, Submitted), Ok(Decision::Allow));
        assert_eq!(may_move(&editor, 4, Draft, Submitted), Ok(Decision::Deny));
        assert_eq!(may_move(&editor, 3, Submitted, Approved), Ok(Decision::Deny));
        assert_eq!(may_move(&coord, 3, Submitted, Approved), Ok(Decision::Allow));
        assert_eq!(may_move(&coord, 3, Approved, Published), Ok(Decision::Allow));
        assert_eq!(may_move(&Principal::Anonymous, 3, Draft, Submitted), Ok(Decision::SignIn));
        assert_eq!(may_move(&coord, 3, Draft, Published).expect_err("skips").field, "workflow");
        assert_eq!(may_edit_some(&editor), Decision::Allow);
        assert_eq!(may_edit_some(&coord), Decision::Allow);
        assert_eq!(may_edit_some(&Principal::Anonymous), Decision::SignIn);
        let viewer = Principal::Person(Caller {
            person_id: 3,
            email: "v@x.org".into(),
            organisation_id: Some(3),
            role: Role::Viewer,
            token_id: None,
        });
        assert_eq!(may_edit_some(&viewer), Decision::Deny);
        let i = with(|c| parse_value(&messaging(), c)).expect("valid");
        assert!(i.may_create(&editor).allowed());
        assert!(!i.may_create(&Principal::Anonymous).allowed());
    }

    #[test]
    fn the_currency_list_is_sorted() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }
}

//! The IATI activity as Senda stores it. Each field names the IATI 2.03 element or attribute
//! it comes from (paths relative to `iati-activity`). Codes from IATI codelists are kept as
//! published strings (e.g. transaction type `"3"`); codes Senda computes with are parsed types.
//! Strings are [`CompactString`]s: stored inline up to 24 bytes (codes, vocabularies, languages
//! need no allocation), serialised exactly as `String`s.

use crate::codes::{CountryCode, IatiIdentifier, Percentage};
use crate::money::{CurrencyCode, Money};
pub use compact_str::{CompactString, format_compact};
use serde::{Deserialize, Serialize};
use time::Date;

/// The narratives of one element (`title`, `description`, an organisation's names, ...): most
/// elements have exactly one, kept inline (no allocation); more spill to the heap. Serialised
/// as a sequence, like a `Vec`.
pub type Narratives = smallvec::SmallVec<[Narrative; 1]>;

/// Text in one language (`narrative`, with `@xml:lang`; `None` = the activity's default language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    /// `narrative/@xml:lang`, lower case (e.g. `"es"`), if given.
    pub lang: Option<CompactString>,
    /// The text, whitespace-trimmed; markup inside is reduced to its words.
    pub text: CompactString,
}

/// An organisation as named in an activity (`reporting-org`, `participating-org`,
/// `transaction/provider-org`, `transaction/receiver-org`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    /// `@ref`: the organisation identifier (e.g. `US-GOV-11`, `XM-DAC-41121`); `None` if empty.
    pub r#ref: Option<CompactString>,
    /// `@type`: IATI OrganisationType code (e.g. `"10"` government).
    pub org_type: Option<CompactString>,
    /// `narrative` children (names).
    pub names: Narratives,
}

impl OrgRef {
    /// The best display name: the first English or language-less narrative, else the first
    /// narrative, else the `@ref`, else `""`.
    pub fn display_name(&self) -> &str {
        crate::text::pick_narrative(&self.names, Some("en"), None).or(self.r#ref.as_deref()).unwrap_or("")
    }
}

/// `participating-org`: an organisation's role in the activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipatingOrg {
    /// `@role`: 1 funding, 2 accountable, 3 extending, 4 implementing.
    pub role: Option<CompactString>,
    /// The organisation.
    pub org: OrgRef,
    /// `@activity-id`, if given.
    pub activity_id: Option<CompactString>,
}

/// `description` with its `@type` (1 general, 2 objectives, 3 target groups, 4 other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// `@type`.
    pub description_type: Option<CompactString>,
    /// Narratives.
    pub narratives: Narratives,
}

/// `activity-date`: `@type` (1 planned start, 2 actual start, 3 planned end, 4 actual end) and `@iso-date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDate {
    /// `@type`.
    pub date_type: CompactString,
    /// `@iso-date` (or, in 1.0x files, the element text, with a warning).
    pub date: Date,
}

/// `recipient-country` (activity or transaction level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientCountry {
    /// `@code`, ISO 3166-1 alpha-2.
    pub code: CountryCode,
    /// `@percentage` (activity level only).
    pub percentage: Option<Percentage>,
}

/// `recipient-region` (activity or transaction level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientRegion {
    /// `@code` (e.g. OECD DAC region `"389"`).
    pub code: CompactString,
    /// `@vocabulary` (default `"1"`, OECD DAC).
    pub vocabulary: CompactString,
    /// `@percentage`.
    pub percentage: Option<Percentage>,
}

/// `sector` (activity or transaction level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sector {
    /// `@vocabulary` (default `"1"`, DAC 5-digit; `"2"` DAC 3-digit; `"99"` reporting organisation's own).
    pub vocabulary: CompactString,
    /// `@code`.
    pub code: CompactString,
    /// `@percentage` (activity level).
    pub percentage: Option<Percentage>,
    /// `narrative` (the sector's name as published).
    pub name: Option<CompactString>,
}

/// `tag`: `@vocabulary` (e.g. `"3"` SDG targets) and `@code` (e.g. `"10.7"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// `@vocabulary`.
    pub vocabulary: CompactString,
    /// `@code`.
    pub code: CompactString,
    /// `narrative`.
    pub name: Option<CompactString>,
}

/// `policy-marker`: `@vocabulary` (default `"1"`), `@code`, `@significance` (0-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMarker {
    /// `@vocabulary`.
    pub vocabulary: CompactString,
    /// `@code`.
    pub code: CompactString,
    /// `@significance`.
    pub significance: Option<u8>,
}

// An activity may hold hundreds of thousands of transactions at once (the import keeps one
// activity whole): keep the struct small. 256 bytes: the 200,000-transaction activity imports
// in 185 MB (448 bytes, with both organisations inline: 258 MB, over the 256 MB budget).
const _: () = assert!(std::mem::size_of::<Transaction>() <= 256);

/// `transaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// `@ref`.
    pub r#ref: Option<CompactString>,
    /// `transaction-type/@code` as a 2.0x numeric code (1.0x letters are translated: IF=1,
    /// C=2, D=3, E=4, IR=5, LR=6, R=7, QP=8, QS=9, CG=10).
    pub transaction_type: CompactString,
    /// `transaction-date/@iso-date`.
    pub date: Option<Date>,
    /// `value` (amount, currency, value date). `None` when missing or invalid (with a diagnostic).
    pub value: Option<Money>,
    /// `description/narrative`.
    pub description: Narratives,
    /// `provider-org` (boxed: a transaction stays small when an activity holds hundreds of
    /// thousands of them; serialised as the `OrgRef` itself).
    pub provider_org: Option<Box<OrgRef>>,
    /// `receiver-org` (boxed, as `provider_org`).
    pub receiver_org: Option<Box<OrgRef>>,
    /// `recipient-country` (transaction level; wins over the activity's countries).
    pub recipient_countries: Vec<RecipientCountry>,
    /// `recipient-region` (transaction level).
    pub recipient_regions: Vec<RecipientRegion>,
    /// True when a `recipient-country` element was present but its code was invalid: the
    /// money is attributed to an unknown country, never to a guessed one.
    pub invalid_country: bool,
    /// `sector` (transaction level).
    pub sectors: Vec<Sector>,
    /// `aid-type/@code` values (any vocabulary).
    pub aid_types: Vec<CompactString>,
    /// `@humanitarian`.
    pub humanitarian: Option<bool>,
}

/// `budget`: `@type`, `@status`, `period-start`, `period-end`, `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// `@type` (1 original, 2 revised).
    pub budget_type: Option<CompactString>,
    /// `@status` (1 indicative, 2 committed).
    pub status: Option<CompactString>,
    /// `period-start/@iso-date`.
    pub period_start: Option<Date>,
    /// `period-end/@iso-date`.
    pub period_end: Option<Date>,
    /// `value`.
    pub value: Option<Money>,
}

/// A point in WGS 84 (`location/point/pos`, "lat lon").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Latitude, degrees, -90..=90.
    pub lat: f64,
    /// Longitude, degrees, -180..=180.
    pub lon: f64,
}

/// `location/administrative`: `@vocabulary`, `@level`, `@code` (e.g. admin-1 `GT-01`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrative {
    /// `@vocabulary` (GeographicVocabulary, e.g. `"A1"` GAUL, `"G1"` GeoNames).
    pub vocabulary: Option<CompactString>,
    /// `@level` (1 = admin-1 / department).
    pub level: Option<CompactString>,
    /// `@code`.
    pub code: CompactString,
}

/// `location`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// `@ref`.
    pub r#ref: Option<CompactString>,
    /// `name/narrative`.
    pub name: Narratives,
    /// `description/narrative`.
    pub description: Narratives,
    /// `administrative`.
    pub administratives: Vec<Administrative>,
    /// `point/pos`, when valid.
    pub point: Option<Point>,
}

/// `related-activity`: `@type` (1 parent, 2 child, 3 sibling, 4 co-funded, 5 third party) and `@ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedActivity {
    /// `@type`.
    pub relation_type: CompactString,
    /// `@ref`.
    pub r#ref: CompactString,
}

/// A `baseline`, `target` or `actual` of a result indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorValue {
    /// `@value` as published (may be non-numeric for qualitative indicators).
    pub value: Option<CompactString>,
    /// `@year` (baseline) .
    pub year: Option<i32>,
    /// `@iso-date` (baseline).
    pub date: Option<Date>,
    /// `comment/narrative`.
    pub comment: Narratives,
}

/// `result/indicator/period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorPeriod {
    /// `period-start/@iso-date`.
    pub start: Option<Date>,
    /// `period-end/@iso-date`.
    pub end: Option<Date>,
    /// `target` values.
    pub targets: Vec<IndicatorValue>,
    /// `actual` values.
    pub actuals: Vec<IndicatorValue>,
}

/// `result/indicator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// `@measure` (1 unit, 2 percentage, 3 nominal, 4 ordinal, 5 qualitative).
    pub measure: Option<CompactString>,
    /// `@ascending`.
    pub ascending: Option<bool>,
    /// `title/narrative`.
    pub title: Narratives,
    /// `baseline`.
    pub baselines: Vec<IndicatorValue>,
    /// `period`.
    pub periods: Vec<IndicatorPeriod>,
}

/// `result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultItem {
    /// `@type` (1 output, 2 outcome, 3 impact, 9 other).
    pub result_type: Option<CompactString>,
    /// `title/narrative`.
    pub title: Narratives,
    /// `indicator`.
    pub indicators: Vec<Indicator>,
}

/// An element, attribute or text Senda does not model, kept as published so that nothing is
/// lost: namespaced extensions such as `usg:treasury-account`, IATI elements Senda does not
/// model (`contact-info`, `document-link`, a result's `description`...) with every element
/// inside them, attributes of modelled elements (`@vocabulary-uri`), unread text (`#text`),
/// and values Senda could not read (an invalid date or amount, with its error diagnostic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Namespace URI (`None` for unknown elements in no namespace). Shared: every extension
    /// element of a file in one namespace points to the same string.
    pub namespace: Option<std::sync::Arc<str>>,
    /// Local name with the prefix as written, e.g. `usg:treasury-account`; attributes start with
    /// `@` (`@vocabulary-uri`); text of a modelled element is `#text`.
    pub name: CompactString,
    /// The element's own text (trimmed; its children are extensions of their own), or the
    /// attribute value.
    pub value: CompactString,
    /// Attributes of the element, as written.
    pub attributes: Vec<(CompactString, CompactString)>,
    /// Path of the parent element, with the 0-based position of repeated modelled elements,
    /// e.g. `iati-activity/transaction[3]`, `iati-activity/result[0]/indicator[1]`.
    pub parent: CompactString,
}

/// One `iati-activity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// `iati-identifier`.
    pub iati_identifier: IatiIdentifier,
    /// The file's `iati-activities/@version` (e.g. `"2.03"`, `"1.04"`).
    pub iati_version: Option<CompactString>,
    /// `@xml:lang`: the default language of narratives.
    pub default_language: Option<CompactString>,
    /// `@default-currency`.
    pub default_currency: Option<CurrencyCode>,
    /// `@last-updated-datetime` as published (RFC 3339); used to resolve duplicate identifiers.
    pub last_updated: Option<CompactString>,
    /// `@hierarchy` (1 = top level).
    pub hierarchy: Option<u32>,
    /// `@humanitarian`.
    pub humanitarian: Option<bool>,
    /// `reporting-org`.
    pub reporting_org: OrgRef,
    /// `participating-org`.
    pub participating_orgs: Vec<ParticipatingOrg>,
    /// `title/narrative` (1.0x: the element's own text).
    pub title: Narratives,
    /// `description`.
    pub descriptions: Vec<Description>,
    /// `activity-status/@code` (1 pipeline ... 6 suspended).
    pub status: Option<CompactString>,
    /// `activity-scope/@code`.
    pub scope: Option<CompactString>,
    /// `activity-date`.
    pub dates: Vec<ActivityDate>,
    /// `recipient-country`.
    pub recipient_countries: Vec<RecipientCountry>,
    /// `recipient-region`.
    pub recipient_regions: Vec<RecipientRegion>,
    /// True when an activity-level `recipient-country` had an invalid code.
    pub invalid_country: bool,
    /// `sector`.
    pub sectors: Vec<Sector>,
    /// `tag`.
    pub tags: Vec<Tag>,
    /// `policy-marker`.
    pub policy_markers: Vec<PolicyMarker>,
    /// `default-aid-type/@code` values.
    pub default_aid_types: Vec<CompactString>,
    /// `default-flow-type/@code`.
    pub default_flow_type: Option<CompactString>,
    /// `default-finance-type/@code`.
    pub default_finance_type: Option<CompactString>,
    /// `collaboration-type/@code`.
    pub collaboration_type: Option<CompactString>,
    /// `budget`.
    pub budgets: Vec<Budget>,
    /// `location`.
    pub locations: Vec<Location>,
    /// `related-activity`.
    pub related_activities: Vec<RelatedActivity>,
    /// `result`.
    pub results: Vec<ResultItem>,
    /// Unknown and namespaced elements and attributes, kept.
    pub extensions: Vec<Extension>,
    /// `transaction` elements, in document order.
    #[serde(skip)]
    pub transactions: Vec<Transaction>,
}

impl Activity {
    /// A new activity with only its identifier set.
    pub fn new(iati_identifier: IatiIdentifier) -> Self {
        Self {
            iati_identifier,
            iati_version: None,
            default_language: None,
            default_currency: None,
            last_updated: None,
            hierarchy: None,
            humanitarian: None,
            reporting_org: OrgRef::default(),
            participating_orgs: Vec::new(),
            title: Narratives::new(),
            descriptions: Vec::new(),
            status: None,
            scope: None,
            dates: Vec::new(),
            recipient_countries: Vec::new(),
            recipient_regions: Vec::new(),
            invalid_country: false,
            sectors: Vec::new(),
            tags: Vec::new(),
            policy_markers: Vec::new(),
            default_aid_types: Vec::new(),
            default_flow_type: None,
            default_finance_type: None,
            collaboration_type: None,
            budgets: Vec::new(),
            locations: Vec::new(),
            related_activities: Vec::new(),
            results: Vec::new(),
            extensions: Vec::new(),
            transactions: Vec::new(),
        }
    }

    /// The title in `lang` if published, else in the activity's default language, else the first.
    pub fn title_in(&self, lang: &str) -> &str {
        crate::text::pick_narrative(&self.title, Some(lang), self.default_language.as_deref()).unwrap_or("")
    }

    /// Names of implementing organisations (`participating-org/@role="4"`), in document order,
    /// without duplicates.
    pub fn implementing_orgs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.participating_orgs {
            if p.role.as_deref() == Some("4") {
                let n = p.org.display_name();
                if !n.is_empty() && !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Every country the activity names, at activity level or on any transaction, sorted.
    pub fn all_countries(&self) -> Vec<CountryCode> {
        let mut v: Vec<CountryCode> = self.recipient_countries.iter().map(|c| c.code).collect();
        for t in &self.transactions {
            v.extend(t.recipient_countries.iter().map(|c| c.code));
        }
        v.sort();
        v.dedup();
        v
    }
}

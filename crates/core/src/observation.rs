//! [`Observation`]: one number about one place, one period and one disaggregation: a migration
//! statistic (`kind = observed`, e.g. CBP encounters of Guatemalan citizens in 2023-10) or an
//! indicator's baseline, target or actual (`kind = baseline | target | actual`).
//!
//! The key of an observation is (series, place, period, disaggregation, kind): two rows with
//! the same key are duplicates; the importer keeps the last one read and warns.

use crate::codes::CountryCode;
use crate::period::Period;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a value applies. Text forms: `GT` (country, ISO 3166-1 alpha-2), `GT-GU` (admin-1
/// department, ISO 3166-2), `other:<label>` (a source's residual group such as CBP's "Other"
/// citizenships, which is not a country), `all` (a total over every place).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Place {
    /// A country.
    Country(CountryCode),
    /// An admin-1 unit (department), with its ISO 3166-2 code such as `GT-GU`.
    Admin1 {
        /// The country it belongs to.
        country: CountryCode,
        /// The full ISO 3166-2 code, e.g. `GT-GU`.
        code: String,
    },
    /// A residual group named by the source ("Other"), never guessed into a country.
    Other(String),
    /// Every place together (a source's grand total).
    All,
}

/// Why a place text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid place {0:?}: expected a country code (GT), an ISO 3166-2 code (GT-GU), other:<label> or all")]
pub struct PlaceError(pub String);

impl Place {
    /// The country, for a country or a department.
    pub fn country(&self) -> Option<CountryCode> {
        match self {
            Place::Country(c) | Place::Admin1 { country: c, .. } => Some(*c),
            _ => None,
        }
    }

    /// The ISO 3166-2 code, for a department.
    pub fn admin1(&self) -> Option<&str> {
        match self {
            Place::Admin1 { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Parses the text forms (see the type).
    pub fn parse(raw: &str) -> Result<Self, PlaceError> {
        let s = raw.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(Place::All);
        }
        if let Some(label) = s.strip_prefix("other:") {
            return Ok(Place::Other(label.to_owned()));
        }
        if let Some((cc, sub)) = s.split_once('-') {
            let country = CountryCode::parse(cc).map_err(|_| PlaceError(raw.to_owned()))?;
            let ok = (1..=3).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphanumeric());
            return if ok {
                Ok(Place::Admin1 { country, code: format!("{}-{}", country.as_str(), sub.to_ascii_uppercase()) })
            } else {
                Err(PlaceError(raw.to_owned()))
            };
        }
        CountryCode::parse(s).map(Place::Country).map_err(|_| PlaceError(raw.to_owned()))
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Country(c) => f.write_str(c.as_str()),
            Place::Admin1 { code, .. } => f.write_str(code),
            Place::Other(l) => write!(f, "other:{l}"),
            Place::All => f.write_str("all"),
        }
    }
}

impl TryFrom<String> for Place {
    type Error = PlaceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Place::parse(&s)
    }
}

impl From<Place> for String {
    fn from(p: Place) -> String {
        p.to_string()
    }
}

/// A disaggregation: dimension → category, e.g. `sex=female`, `population_group=returnee`,
/// or a source's own dimensions (`component=U.S. Border Patrol`). Empty = the total.
/// Canonical text form (sorted by dimension): `dim=value;dim=value`.
pub type Disaggregation = BTreeMap<String, String>;

/// The canonical text of a disaggregation (`""` for the total).
pub fn disaggregation_key(d: &Disaggregation) -> String {
    let mut s = String::new();
    for (k, v) in d {
        if !s.is_empty() {
            s.push(';');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Parses [`disaggregation_key`]'s form back.
pub fn parse_disaggregation_key(s: &str) -> Disaggregation {
    s.split(';')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A statistic as published (encounters, returns, visas).
    Observed,
    /// An indicator's baseline.
    Baseline,
    /// An indicator's target for the period.
    Target,
    /// An indicator's actual (achieved) value for the period.
    Actual,
}

impl ValueKind {
    /// `observed`, `baseline`, `target`, `actual`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Observed => "observed",
            ValueKind::Baseline => "baseline",
            ValueKind::Target => "target",
            ValueKind::Actual => "actual",
        }
    }

    /// Parses [`ValueKind::as_str`]'s words (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "observed" => Some(ValueKind::Observed),
            "baseline" => Some(ValueKind::Baseline),
            "target" => Some(ValueKind::Target),
            "actual" => Some(ValueKind::Actual),
            _ => None,
        }
    }
}

/// One value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Statistic series code (e.g. `cbp-swb-encounters`) or indicator code (e.g. `LOE5-1`).
    pub series: String,
    /// Where.
    pub place: Place,
    /// When.
    pub period: Period,
    /// For whom (empty = total).
    pub disaggregation: Disaggregation,
    /// What kind of value.
    pub kind: ValueKind,
    /// The value, exact, in the series' unit. For a ratio indicator, the numerator.
    pub value: rust_decimal::Decimal,
    /// For a ratio indicator (aggregation `ratio_of_sums`): the denominator.
    pub denominator: Option<Decimal>,
    /// 1-based row (line for CSV, sheet row for XLSX) it was read from; 0 when not from a file
    /// or read back from the store (where `origin` says `file:row`): then not serialized.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub row: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A statistic series: what a code in [`Observation::series`] means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatSeries {
    /// Stable code, kebab-case, e.g. `cbp-swb-encounters`.
    pub code: String,
    /// Name in English.
    pub name: String,
    /// Name in Spanish.
    pub name_es: String,
    /// Unit, e.g. `encounters`, `people`, `visas`.
    pub unit: String,
    /// Publisher and dataset, e.g. "U.S. Customs and Border Protection, Southwest Land Border Encounters".
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_round_trip() {
        for s in ["GT", "GT-GU", "SV-SS", "other:Other", "all"] {
            assert_eq!(Place::parse(s).map(|p| p.to_string()).as_deref(), Ok(s));
        }
        assert_eq!(Place::parse("gt-gu").map(|p| p.to_string()).as_deref(), Ok("GT-GU"));
        for s in ["XX", "Guatemala", "GT-", "GT-ABCD", ""] {
            assert!(Place::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn disaggregation_key_is_canonical() {
        let mut d = Disaggregation::new();
        d.insert("sex".into(), "female".into());
        d.insert("age_group".into(), "0-17".into());
        let k = disaggregation_key(&d);
        assert_eq!(k, "age_group=0-17;sex=female");
        assert_eq!(parse_disaggregation_key(&k), d);
        assert_eq!(disaggregation_key(&Disaggregation::new()), "");
    }
}

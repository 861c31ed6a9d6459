//! Data coverage: which publishers (IATI reporting organisations) have data for which country
//! and U.S. fiscal year, and which publishers a strategy expects for a focus country but the
//! data lacks (a gap: that country's totals are understated, and a reader must be told).
//!
//! The expected publishers are data, kept in the strategy file (`[coverage]`, with the source
//! of the list); the figures come from a report grouped by reporting organisation, country and
//! fiscal year, so they equal `senda report`'s. Organisations are matched by their IATI
//! identifier (`reporting-org/@ref`), never by name.

use crate::codes::CountryCode;
use crate::orgs::KnownOrg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The strategy's expectations (`[coverage]` in its TOML file).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageDef {
    /// Where the list of expected publishers comes from (shown with the gaps).
    pub source: String,
    /// The same in Spanish (Spanish pages and reports show it; else `source`).
    #[serde(default)]
    pub source_es: Option<String>,
    /// Publishers expected for the focus countries.
    #[serde(default)]
    pub expected_publishers: Vec<ExpectedPublisher>,
}

/// A publisher a strategy expects data from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPublisher {
    /// IATI organisation identifier (`US-GOV-1`).
    #[serde(rename = "ref")]
    pub r#ref: String,
    /// Name.
    pub name: String,
    /// Common acronym (`USAID`).
    #[serde(default)]
    pub acronym: Option<String>,
    /// Focus countries it is expected to report for.
    pub countries: Vec<CountryCode>,
}

impl ExpectedPublisher {
    /// `USAID (US-GOV-1)`, or the name and ref without an acronym.
    pub fn label(&self) -> String {
        match &self.acronym {
            Some(a) => format!("{a} ({})", self.r#ref),
            None => format!("{} ({})", self.name, self.r#ref),
        }
    }
}

/// One publisher's data in one country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Distinct activities with money attributed to the country.
    pub activities: u64,
    /// Fiscal years with money attributed to the country, ascending.
    pub fiscal_years: Vec<i32>,
    /// Facts without a date (no fiscal year) exist.
    pub undated: bool,
}

/// One publisher (one identifier, or one name when no identifier is published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublisherRow {
    /// IATI organisation identifier, when published.
    pub r#ref: Option<String>,
    /// Names in the data (one publisher may use several: DoD files name the Army too).
    pub names: Vec<String>,
    /// By country label (ISO code, `REGIONAL`, `UNKNOWN`).
    pub countries: BTreeMap<String, Cell>,
}

/// A focus country that lacks an expected publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The focus country.
    pub country: CountryCode,
    /// The publisher expected and absent.
    pub publisher: ExpectedPublisher,
}

/// The coverage view.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Publishers, by name.
    pub publishers: Vec<PublisherRow>,
    /// Gaps, by focus country (strategy order) then the strategy file's order.
    pub gaps: Vec<Gap>,
    /// Where the expected list comes from.
    pub source: String,
    /// The same in Spanish, when the strategy file gives it.
    pub source_es: Option<String>,
}

impl Coverage {
    /// Where the expected list comes from, in Spanish (`spanish`) when the strategy gives it.
    pub fn source_in(&self, spanish: bool) -> &str {
        match (&self.source_es, spanish) {
            (Some(es), true) => es,
            _ => &self.source,
        }
    }

    /// The gaps of one focus country.
    pub fn gaps_of<'a>(&'a self, country: &'a str) -> impl Iterator<Item = &'a Gap> + 'a {
        self.gaps.iter().filter(move |g| g.country.as_str() == country)
    }
}

/// Builds the view. `by_country` are rows (reporting-org name, country, distinct activities)
/// and `by_year` rows (reporting-org name, country, fiscal year or `unknown`), as a report
/// grouped by those dimensions gives them; `orgs` are the data's (ref, name) pairs
/// (`Store::reporting_orgs`). `focus` are the strategy's focus countries.
pub fn build<'a>(
    def: Option<&CoverageDef>,
    focus: &[CountryCode],
    orgs: &[KnownOrg],
    by_country: impl IntoIterator<Item = (&'a str, &'a str, u64)>,
    by_year: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Coverage {
    // A name belongs to the publisher of its identifier (names without one stand alone).
    let ref_of: BTreeMap<&str, Option<&str>> = orgs.iter().map(|o| (o.name.as_str(), o.r#ref.as_deref())).collect();
    let key = |name: &str| -> (Option<String>, String) {
        match ref_of.get(name).copied().flatten() {
            Some(r) => (Some(r.trim().to_ascii_uppercase()), String::new()),
            None => (None, name.to_owned()),
        }
    };
    let mut rows: BTreeMap<(Option<String>, String), PublisherRow> = BTreeMap::new();
    fn row<'r>(
        rows: &'r mut BTreeMap<(Option<String>, String), PublisherRow>,
        k: (Option<String>, String),
        name: &str,
    ) -> &'r mut PublisherRow {
        let r = rows.entry(k.clone()).or_insert_with(|| PublisherRow {
            r#ref: k.0,
            names: Vec::new(),
            countries: BTreeMap::new(),
        });
        if !r.names.iter().any(|n| n == name) {
            r.names.push(name.to_owned());
            r.names.sort();
        }
        r
    }
    for (name, country, activities) in by_country {
        row(&mut rows, key(name), name).countries.entry(country.to_owned()).or_default().activities += activities;
    }
    for (name, country, fy) in by_year {
        let cell = row(&mut rows, key(name), name).countries.entry(country.to_owned()).or_default();
        match fy.parse::<i32>() {
            Ok(y) => {
                if let Err(i) = cell.fiscal_years.binary_search(&y) {
                    cell.fiscal_years.insert(i, y);
                }
            }
            Err(_) => cell.undated = true,
        }
    }
    let mut publishers: Vec<PublisherRow> = rows.into_values().collect();
    publishers.sort_by(|a, b| a.names.first().cmp(&b.names.first()).then_with(|| a.r#ref.cmp(&b.r#ref)));
    let mut gaps = Vec::new();
    if let Some(def) = def {
        for c in focus {
            for e in def.expected_publishers.iter().filter(|e| e.countries.contains(c)) {
                let present = publishers.iter().any(|p| {
                    p.r#ref.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(e.r#ref.trim()))
                        && p.countries.get(c.as_str()).is_some_and(|cell| cell.activities > 0)
                });
                if !present {
                    gaps.push(Gap { country: *c, publisher: e.clone() });
                }
            }
        }
    }
    Coverage {
        publishers,
        gaps,
        source: def.map(|d| d.source.clone()).unwrap_or_default(),
        source_es: def.and_then(|d| d.source_es.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).expect("code")
    }

    #[test]
    fn a_focus_country_without_an_expected_publisher_is_a_gap() {
        let def = CoverageDef {
            source: "test".into(),
            source_es: None,
            expected_publishers: vec![
                ExpectedPublisher {
                    r#ref: "US-GOV-1".into(),
                    name: "USAID".into(),
                    acronym: Some("USAID".into()),
                    countries: vec![cc("SV"), cc("GT")],
                },
                ExpectedPublisher {
                    r#ref: "US-GOV-7".into(),
                    name: "DoD".into(),
                    acronym: None,
                    countries: vec![cc("GT")],
                },
            ],
        };
        let orgs = vec![
            KnownOrg { r#ref: Some("US-GOV-1".into()), name: "U.S. Agency for International Development".into() },
            KnownOrg { r#ref: Some("US-GOV-7".into()), name: "Department of Defense".into() },
            KnownOrg { r#ref: Some("US-GOV-7".into()), name: "Department of the Army".into() },
        ];
        let usaid = "U.S. Agency for International Development";
        let cov = build(
            Some(&def),
            &[cc("SV"), cc("GT"), cc("HN")],
            &orgs,
            [(usaid, "SV", 3), ("Department of the Army", "GT", 1), ("Department of Defense", "GT", 2)],
            [
                (usaid, "SV", "2023"),
                (usaid, "SV", "2021"),
                (usaid, "SV", "unknown"),
                ("Department of Defense", "GT", "2020"),
            ],
        );
        let gaps: Vec<(String, String)> =
            cov.gaps.iter().map(|g| (g.country.to_string(), g.publisher.r#ref.clone())).collect();
        assert_eq!(gaps, [("GT".to_owned(), "US-GOV-1".to_owned())]);
        // One row per identifier, whatever the names.
        assert_eq!(cov.publishers.len(), 2);
        let dod = cov.publishers.iter().find(|p| p.r#ref.as_deref() == Some("US-GOV-7")).expect("dod");
        assert_eq!(dod.names, ["Department of Defense", "Department of the Army"]);
        assert_eq!(dod.countries["GT"].activities, 3);
        let sv =
            &cov.publishers.iter().find(|p| p.r#ref.as_deref() == Some("US-GOV-1")).expect("usaid").countries["SV"];
        assert_eq!(sv.fiscal_years, [2021, 2023]);
        assert!(sv.undated);
    }
}

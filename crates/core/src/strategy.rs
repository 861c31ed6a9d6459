//! Strategies as data: a [`Strategy`] is read from a TOML definition (`strategies/*.toml`):
//! its lines of effort with scope notes, focus countries, instruments, partner categories and
//! mapping rules. Two are built in ([`builtin`]): `cmms-2021` and `rc-2021`.

use crate::codes::CountryCode;
use serde::{Deserialize, Serialize};

/// The built-in strategy definitions, as `(id, TOML text)`, compiled into the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    ("cmms-2021", include_str!("../../../strategies/cmms-2021.toml")),
    ("rc-2021", include_str!("../../../strategies/rc-2021.toml")),
];

/// The default strategy id.
pub const DEFAULT_STRATEGY: &str = "cmms-2021";

/// Why a strategy definition was refused.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The TOML does not parse or has unknown keys; the message has line and column.
    #[error("strategy {source_name}: {message}")]
    Toml {
        /// File name or built-in id.
        source_name: String,
        /// The TOML error, with its position.
        message: String,
    },
    /// The definition parses but is inconsistent (duplicate id, rule pointing nowhere, ...).
    #[error("strategy {source_name}: {message}")]
    Invalid {
        /// File name or built-in id.
        source_name: String,
        /// What is wrong, naming the rule or line of effort.
        message: String,
    },
    /// No built-in strategy has this id.
    #[error("unknown strategy {0:?} (built in: cmms-2021, rc-2021)")]
    Unknown(String),
}

/// One line of effort (or pillar) of a strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineOfEffort {
    /// Stable id, e.g. `LOE5`.
    pub id: String,
    /// Title in English.
    pub title: String,
    /// Title in Spanish.
    pub title_es: Option<String>,
    /// Scope note: what the line of effort covers (used by analysts and by the mapping rules).
    pub scope: String,
    /// Scope note in Spanish.
    pub scope_es: Option<String>,
}

/// One of the strategy's instruments ("tools"): diplomacy, foreign assistance, ...
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Stable id, e.g. `foreign_assistance`.
    pub id: String,
    /// Title in English.
    pub title: String,
    /// Title in Spanish.
    pub title_es: Option<String>,
    /// What it covers.
    pub description: Option<String>,
}

/// A category of partners (U.S. agencies, partner governments, international organizations, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerCategory {
    /// Stable id.
    pub id: String,
    /// Title in English.
    pub title: String,
    /// Title in Spanish.
    pub title_es: Option<String>,
    /// IATI OrganisationType codes that fall in this category.
    #[serde(default)]
    pub iati_organisation_types: Vec<String>,
}

/// A mapping rule as written in the TOML file (`[[rules]]`). Which fields apply depends on `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Unique id (kebab-case); shown as evidence.
    pub id: String,
    /// The line of effort it maps to.
    pub line_of_effort: String,
    /// `sector`, `policy_marker`, `tag`, `humanitarian`, `participating_org` or `keyword`.
    pub kind: String,
    /// Why the rule exists.
    pub note: String,
    /// Code vocabulary (sector, policy marker, tag).
    pub vocabulary: Option<String>,
    /// Exact codes.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Code prefixes (sector).
    #[serde(default)]
    pub code_prefixes: Vec<String>,
    /// Minimum policy-marker significance (default 1).
    pub min_significance: Option<u8>,
    /// Organisation refs (participating_org).
    #[serde(default)]
    pub refs: Vec<String>,
    /// Phrases matched in organisation names (participating_org).
    #[serde(default)]
    pub names: Vec<String>,
    /// Roles filter (participating_org).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Fields searched by keyword rules: `title`, `description`, `transaction_description`.
    #[serde(default)]
    pub fields: Vec<String>,
    /// English phrases (keyword); a trailing `*` makes the last word a prefix.
    #[serde(default)]
    pub en: Vec<String>,
    /// Spanish phrases (keyword).
    #[serde(default)]
    pub es: Vec<String>,
    /// Phrases (any language, in title or descriptions) that veto this rule.
    #[serde(default)]
    pub unless: Vec<String>,
    /// How strong this rule's evidence is (`strong`, `medium` or `weak`). When absent, derived
    /// from the kind ([`RuleDef::strength`]). Left out of the serialised form when absent, so
    /// a definition without it keeps its fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

/// How strong the evidence of a rule is (issue 19, `docs/mapping.md`): what an analyst should
/// make of a mapping that rests on it. Ordered weakest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// One phrase in a long text (a description, a transaction description): often a side
    /// mention.
    #[default]
    Weak,
    /// A deliberate but indirect signal: a phrase in the title, an SDG tag.
    Medium,
    /// A coded signal whose meaning is the line of effort: a sector code, an organisation whose
    /// mandate is the line, the humanitarian flag, a policy marker.
    Strong,
}

impl Strength {
    /// `weak`, `medium` or `strong` (as written in strategy files and stored).
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Weak => "weak",
            Strength::Medium => "medium",
            Strength::Strong => "strong",
        }
    }

    /// Parses [`Strength::as_str`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "weak" => Some(Strength::Weak),
            "medium" => Some(Strength::Medium),
            "strong" => Some(Strength::Strong),
            _ => None,
        }
    }
}

impl RuleDef {
    /// The strength of this rule's evidence: `strength` when the file says it, else derived
    /// from the kind. `sector`, `participating_org`, `humanitarian` and `policy_marker` are
    /// strong (coded by the publisher); `tag` is medium (SDG targets are broad); `keyword` is
    /// medium when it searches titles only and weak otherwise (one phrase in a description).
    pub fn strength(&self) -> Strength {
        if let Some(s) = self.strength {
            return s;
        }
        match self.kind.as_str() {
            "sector" | "participating_org" | "humanitarian" | "policy_marker" => Strength::Strong,
            "tag" => Strength::Medium,
            _ if !self.fields.is_empty() && self.fields.iter().all(|f| f == "title") => Strength::Medium,
            _ => Strength::Weak,
        }
    }
}

/// A strategy definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    /// Stable id, e.g. `cmms-2021`.
    pub id: String,
    /// Full title.
    pub title: String,
    /// Short title, e.g. `CMMS`.
    pub short_title: String,
    /// Publication date, ISO 8601.
    pub published: String,
    /// Where the definition comes from.
    pub source: String,
    /// Focus countries (ISO 3166-1 alpha-2).
    pub focus_countries: Vec<CountryCode>,
    /// Instruments.
    #[serde(default)]
    pub instruments: Vec<Instrument>,
    /// Partner categories.
    #[serde(default)]
    pub partner_categories: Vec<PartnerCategory>,
    /// Lines of effort, in the strategy's order.
    pub lines_of_effort: Vec<LineOfEffort>,
    /// Mapping rules.
    #[serde(default)]
    pub rules: Vec<RuleDef>,
    /// Indicators, each tied to one line of effort (`[[indicators]]`).
    #[serde(default)]
    pub indicators: Vec<crate::indicator::IndicatorDef>,
    /// The publishers expected for the focus countries (`[coverage]`), for the coverage view.
    #[serde(default)]
    pub coverage: Option<crate::coverage::CoverageDef>,
    /// The reporting cycle (`[reporting]`): frequency, due rule, first period
    /// (docs/reporting.md); absent: [`crate::reporting::ReportingDef::default_for`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<crate::reporting::ReportingDef>,
}

const KINDS: &[&str] = &["sector", "policy_marker", "tag", "humanitarian", "participating_org", "keyword"];
const FIELDS: &[&str] = &["title", "description", "transaction_description"];

impl Strategy {
    /// Parses and checks a TOML definition. `source_name` names it in errors.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, StrategyError> {
        let s: Strategy = toml::from_str(text)
            .map_err(|e| StrategyError::Toml { source_name: source_name.to_owned(), message: e.to_string() })?;
        let invalid = |message: String| StrategyError::Invalid { source_name: source_name.to_owned(), message };
        let mut seen = std::collections::HashSet::new();
        for l in &s.lines_of_effort {
            if !seen.insert(l.id.as_str()) {
                return Err(invalid(format!("line of effort {} defined twice", l.id)));
            }
        }
        if s.lines_of_effort.is_empty() {
            return Err(invalid("no lines_of_effort".into()));
        }
        let mut rule_ids = std::collections::HashSet::new();
        for r in &s.rules {
            if !rule_ids.insert(r.id.as_str()) {
                return Err(invalid(format!("rule {} defined twice", r.id)));
            }
            if !seen.contains(r.line_of_effort.as_str()) {
                return Err(invalid(format!("rule {} maps to unknown line of effort {}", r.id, r.line_of_effort)));
            }
            if !KINDS.contains(&r.kind.as_str()) {
                return Err(invalid(format!(
                    "rule {} has unknown kind {:?} (expected one of {})",
                    r.id,
                    r.kind,
                    KINDS.join(", ")
                )));
            }
            if let Some(f) = r.fields.iter().find(|f| !FIELDS.contains(&f.as_str())) {
                return Err(invalid(format!(
                    "rule {} has unknown field {f:?} (expected one of {})",
                    r.id,
                    FIELDS.join(", ")
                )));
            }
            let empty = match r.kind.as_str() {
                "sector" => r.codes.is_empty() && r.code_prefixes.is_empty(),
                "policy_marker" | "tag" => r.codes.is_empty(),
                "participating_org" => r.refs.is_empty() && r.names.is_empty(),
                "keyword" => r.en.is_empty() && r.es.is_empty(),
                _ => false,
            };
            if empty {
                return Err(invalid(format!("rule {} ({}) has nothing to match", r.id, r.kind)));
            }
        }
        if let Some(r) = &s.reporting {
            r.check().map_err(&invalid)?;
        }
        let mut codes = std::collections::HashSet::new();
        for i in &s.indicators {
            if !codes.insert(i.code.as_str()) {
                return Err(invalid(format!("indicator {} defined twice", i.code)));
            }
            if !seen.contains(i.line_of_effort.as_str()) {
                return Err(invalid(format!("indicator {} names unknown line of effort {}", i.code, i.line_of_effort)));
            }
            let context = i.kind == crate::indicator::IndicatorKind::Context;
            if context != i.series.is_some() {
                return Err(invalid(format!(
                    "indicator {}: a context indicator needs `series` (the statistic that feeds it), a result indicator has none",
                    i.code
                )));
            }
        }
        Ok(s)
    }

    /// A built-in strategy by id.
    pub fn builtin(id: &str) -> Result<Self, StrategyError> {
        let (name, text) =
            BUILTIN.iter().find(|(i, _)| *i == id).ok_or_else(|| StrategyError::Unknown(id.to_owned()))?;
        Self::from_toml(name, text)
    }

    /// All built-in strategies.
    pub fn all_builtin() -> Result<Vec<Self>, StrategyError> {
        BUILTIN.iter().map(|(n, t)| Self::from_toml(n, t)).collect()
    }

    /// The line of effort with this id.
    pub fn line_of_effort(&self, id: &str) -> Option<&LineOfEffort> {
        self.lines_of_effort.iter().find(|l| l.id == id)
    }

    /// The indicators of one line of effort, in the file's order.
    pub fn indicators_of<'a>(&'a self, loe: &'a str) -> impl Iterator<Item = &'a crate::indicator::IndicatorDef> + 'a {
        self.indicators.iter().filter(move |i| i.line_of_effort == loe)
    }

    /// The indicator with this code.
    pub fn indicator(&self, code: &str) -> Option<&crate::indicator::IndicatorDef> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// A fingerprint of what the mapping depends on (to know when stored mappings are stale):
    /// everything but the indicators, which have their own versions
    /// ([`crate::indicator::IndicatorDef::measurement_fingerprint`]).
    pub fn fingerprint(&self) -> u64 {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("indicators");
            // The coverage expectations do not change any mapping.
            o.remove("coverage");
            // Nor does the reporting cycle.
            o.remove("reporting");
        }
        let s = v.to_string();
        // FNV-1a: stable across builds and platforms.
        s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_strategies_load_and_are_complete() {
        let c = Strategy::builtin("cmms-2021").expect("cmms loads");
        let ids: Vec<&str> = c.lines_of_effort.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["LOE1", "LOE2", "LOE3", "LOE4", "LOE5", "LOE6", "LOE7", "LOE8"]);
        assert_eq!(c.instruments.len(), 4);
        assert!(!c.rules.is_empty());
        // Every line of effort declares at least one indicator; LOE4, LOE5 and LOE6 have context
        // indicators fed by statistics.
        for l in &c.lines_of_effort {
            assert!(c.indicators_of(&l.id).next().is_some(), "{} has no indicator", l.id);
        }
        for loe in ["LOE4", "LOE5", "LOE6"] {
            assert!(
                c.indicators_of(loe).any(|i| i.kind == crate::indicator::IndicatorKind::Context),
                "{loe} has no context indicator"
            );
        }
        let r = Strategy::builtin("rc-2021").expect("rc loads");
        let ids: Vec<&str> = r.lines_of_effort.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["RC1", "RC2", "RC3", "RC4", "RC5"]);
        assert!(Strategy::builtin("nope").is_err());
    }

    #[test]
    fn bad_definitions_are_refused_with_a_reason() {
        let base = "id='x'\ntitle='t'\nshort_title='t'\npublished='2021-01-01'\nsource='s'\nfocus_countries=['GT']\n[[lines_of_effort]]\nid='A'\ntitle='a'\nscope='s'\n";
        assert!(Strategy::from_toml("ok", base).is_ok());
        let bad_rule = format!("{base}[[rules]]\nid='r'\nline_of_effort='B'\nkind='tag'\nnote='n'\ncodes=['1']\n");
        let e = Strategy::from_toml("f.toml", &bad_rule).expect_err("unknown loe");
        assert!(e.to_string().contains("unknown line of effort B"), "{e}");
        let typo = format!("{base}colour='red'\n");
        assert!(Strategy::from_toml("f.toml", &typo).is_err());
    }
}

//! Organisations as people type them: an IATI organisation identifier (`US-GOV-1`), a name
//! (`Department of State`, any case or accents) or a common acronym (`USAID`, `IOM`). One
//! function, [`resolve`], turns what was typed into the organisations of the data, or into an
//! error with suggestions, for every way in (CLI filters, dashboard filters, API parameters).
//!
//! The acronyms are a small table of the organisations a reader of U.S. aid data in Central
//! America names by acronym ([`ACRONYMS`]): the U.S. agencies that publish to IATI (their
//! identifiers are the IATI Registry's publisher identifiers `US-GOV-n`, as written in their
//! files' `reporting-org/@ref`) and the large international implementers (identifiers from the
//! OECD DAC channel codes, `XM-DAC-nnnnn`, as IATI's organisation identifier guidance writes
//! them). Each lists the names publishers write for it, because implementers are often named
//! without an identifier.

use crate::text::fold;

/// An acronym, the identifiers it stands for and the names publishers use.
#[derive(Debug, Clone, Copy)]
pub struct Acronym {
    /// What people type (compared ignoring case).
    pub acronym: &'static str,
    /// IATI organisation identifiers.
    pub refs: &'static [&'static str],
    /// Names as publishers write them (compared ignoring case and accents).
    pub names: &'static [&'static str],
}

macro_rules! acr {
    ($a:literal, [$($r:literal),*], [$($n:literal),*]) => {
        Acronym { acronym: $a, refs: &[$($r),*], names: &[$($n),*] }
    };
}

/// Common acronyms (see the module documentation for the sources of the identifiers).
pub const ACRONYMS: &[Acronym] = &[
    acr!("USAID", ["US-GOV-1"], ["U.S. Agency for International Development", "USAID"]),
    acr!("USDA", ["US-GOV-2"], ["Department of Agriculture", "U.S. Department of Agriculture"]),
    acr!("TREASURY", ["US-GOV-6"], ["Department of the Treasury"]),
    acr!("DOD", ["US-GOV-7"], ["Department of Defense", "Department of the Army"]),
    acr!("DOI", ["US-GOV-9"], ["Department of the Interior"]),
    acr!("PEACE CORPS", ["US-GOV-10"], ["Peace Corps"]),
    acr!("STATE", ["US-GOV-11"], ["Department of State", "U.S. Department of State"]),
    acr!("DOS", ["US-GOV-11"], ["Department of State", "U.S. Department of State"]),
    acr!("USTDA", ["US-GOV-12"], ["Trade and Development Agency", "U.S. Trade and Development Agency"]),
    acr!("HHS", ["US-GOV-14"], ["Department of Health and Human Services"]),
    acr!("DOJ", ["US-GOV-15"], ["Department of Justice"]),
    acr!("DOC", ["US-GOV-16"], ["Department of Commerce"]),
    acr!("DOL", ["US-GOV-17"], ["Department of Labor"]),
    acr!("MCC", ["US-GOV-18"], ["Millennium Challenge Corporation"]),
    acr!("DHS", ["US-GOV-19"], ["Department of Homeland Security"]),
    acr!("IAF", ["US-GOV-21"], ["Inter-American Foundation"]),
    acr!("DFC", ["US-GOV-22"], ["U.S. International Development Finance Corporation"]),
    acr!("FTC", ["US-GOV-23"], ["Federal Trade Commission"]),
    acr!("DOT", ["US-GOV-26"], ["Department of Transportation"]),
    acr!("EPA", ["US-GOV-32"], ["Environmental Protection Agency"]),
    acr!(
        "IOM",
        ["XM-DAC-47066"],
        ["International Organization for Migration", "International Organisation for Migration"]
    ),
    acr!(
        "OIM",
        ["XM-DAC-47066"],
        ["International Organization for Migration", "Organización Internacional para las Migraciones"]
    ),
    acr!(
        "UNHCR",
        ["XM-DAC-41121"],
        [
            "United Nations High Commissioner for Refugees",
            "Office of the United Nations High Commissioner for Refugees"
        ]
    ),
    acr!("ACNUR", ["XM-DAC-41121"], ["United Nations High Commissioner for Refugees"]),
    acr!("UNICEF", ["XM-DAC-41122"], ["United Nations Children's Fund", "UNICEF"]),
    acr!("WFP", ["XM-DAC-41140"], ["World Food Programme", "World Food Program"]),
    acr!("UNDP", ["XM-DAC-41114"], ["United Nations Development Programme"]),
    acr!("PNUD", ["XM-DAC-41114"], ["United Nations Development Programme"]),
    acr!("UNODC", ["XM-DAC-41128"], ["United Nations Office on Drugs and Crime"]),
    acr!("CRS", ["US-EIN-13-5563422"], ["Catholic Relief Services"]),
];

/// An organisation present in the data: its identifier when published, and its name as the
/// reports group it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownOrg {
    /// `@ref`, when the publisher gave one.
    pub r#ref: Option<String>,
    /// The name reports show (the `narrative`, else the ref).
    pub name: String,
}

/// What a typed organisation stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What the reader typed, and what it was read as (`USAID = US-GOV-1`), for messages.
    pub label: String,
    /// Identifiers it stands for (may be empty for an organisation known by name only).
    pub refs: Vec<String>,
    /// The names of the data it matches, sorted; empty when the organisation is known (an
    /// acronym of [`ACRONYMS`]) but has no data here: the filter then matches nothing, which
    /// is the honest answer, and callers say why.
    pub names: Vec<String>,
}

impl Resolved {
    /// The names a report filter keeps for what was typed: the data's names, or (for a known
    /// organisation without data) the typed text, which matches nothing.
    pub fn report_names(&self, typed: &str) -> Vec<String> {
        if self.names.is_empty() { vec![typed.trim().to_owned()] } else { self.names.clone() }
    }

    /// The activity-list filter value for a reporting organisation: its identifier when it has
    /// exactly one (lists match the ref exactly), else its one name, else the first identifier.
    pub fn list_value(&self, typed: &str) -> String {
        match (self.refs.as_slice(), self.names.as_slice()) {
            ([one], _) => one.clone(),
            (_, [name]) => name.clone(),
            _ => self.refs.first().cloned().unwrap_or_else(|| typed.trim().to_owned()),
        }
    }
}

/// The implementing organisations of the data, from the keys of a report grouped by
/// implementing organisation (implementers are seldom identified: names only). Empty keys
/// (no implementer named) are left out.
pub fn implementers<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<KnownOrg> {
    let mut v: Vec<KnownOrg> = keys
        .into_iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| KnownOrg { r#ref: None, name: k.to_owned() })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v.dedup();
    v
}

/// An organisation that is neither an identifier, a name of the data nor a known acronym.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown organisation {input:?}{}", suggest_text(.suggestions))]
pub struct UnknownOrg {
    /// What was typed.
    pub input: String,
    /// Up to five organisations of the data whose name, identifier or acronym is close.
    pub suggestions: Vec<String>,
}

impl UnknownOrg {
    /// The stable error code.
    pub const CODE: &'static str = "unknown-organisation";
}

fn suggest_text(s: &[String]) -> String {
    if s.is_empty() {
        ": give an IATI organisation identifier (e.g. US-GOV-1), a name as published or an acronym (e.g. USAID)".into()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

fn norm(s: &str) -> String {
    fold(s.trim()).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The acronyms whose spelling is `input` (ignoring case and dots: `U.S.A.I.D.` too).
pub fn acronyms_of(input: &str) -> impl Iterator<Item = &'static Acronym> {
    let key: String = input.trim().chars().filter(|c| *c != '.').collect::<String>().to_uppercase();
    ACRONYMS.iter().filter(move |a| a.acronym == key)
}

/// Resolves what a reader typed against the organisations of the data (`known`), in this
/// order: an identifier (`US-GOV-1`, any case: every name published under it), a name (ignoring
/// case, accents and repeated spaces), an acronym of [`ACRONYMS`] (the data's names under its
/// identifiers, and names the table lists). Anything else is [`UnknownOrg`] with suggestions:
/// the data's organisations whose name or identifier contains what was typed, or is within a
/// few letters of it.
pub fn resolve(input: &str, known: &[KnownOrg]) -> Result<Resolved, UnknownOrg> {
    let typed = input.trim();
    let folded = norm(typed);
    let finish = |label: String, refs: Vec<String>, mut names: Vec<String>| {
        names.sort();
        names.dedup();
        Resolved { label, refs, names }
    };
    // 1. An identifier.
    let by_ref: Vec<String> = known
        .iter()
        .filter(|k| k.r#ref.as_deref().is_some_and(|r| r.trim().eq_ignore_ascii_case(typed)))
        .map(|k| k.name.clone())
        .collect();
    if !by_ref.is_empty() {
        let r = known
            .iter()
            .find_map(|k| k.r#ref.clone().filter(|r| r.trim().eq_ignore_ascii_case(typed)))
            .unwrap_or_else(|| typed.to_owned());
        return Ok(finish(r.clone(), vec![r], by_ref));
    }
    // 2. A name.
    let by_name: Vec<&KnownOrg> = known.iter().filter(|k| norm(&k.name) == folded).collect();
    if !by_name.is_empty() {
        let refs = by_name.iter().filter_map(|k| k.r#ref.clone()).collect::<Vec<_>>();
        let name = by_name[0].name.clone();
        return Ok(finish(name, refs, by_name.iter().map(|k| k.name.clone()).collect()));
    }
    // 3. An acronym, or an identifier the table knows (no data under it here).
    let mut table: Vec<&Acronym> = acronyms_of(typed).collect();
    if table.is_empty() {
        table = ACRONYMS.iter().filter(|a| a.refs.iter().any(|r| r.eq_ignore_ascii_case(typed))).collect();
    }
    if !table.is_empty() {
        let refs: Vec<String> = table.iter().flat_map(|a| a.refs.iter().map(|r| r.to_string())).collect();
        let table_names: Vec<String> = table.iter().flat_map(|a| a.names.iter().map(|n| norm(n))).collect();
        let names: Vec<String> = known
            .iter()
            .filter(|k| {
                k.r#ref.as_deref().is_some_and(|r| refs.iter().any(|x| x.eq_ignore_ascii_case(r.trim())))
                    || table_names.contains(&norm(&k.name))
            })
            .map(|k| k.name.clone())
            .collect();
        let mut uniq = refs.clone();
        uniq.dedup();
        let label = format!("{} = {}", table[0].acronym, uniq.join(", "));
        return Ok(finish(label, uniq, names));
    }
    Err(UnknownOrg { input: typed.to_owned(), suggestions: suggestions(&folded, known) })
}

/// Up to five organisations of `known` close to `folded` (already [`norm`]ed).
fn suggestions(folded: &str, known: &[KnownOrg]) -> Vec<String> {
    if folded.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, String)> = Vec::new();
    for k in known {
        let name = norm(&k.name);
        let r = k.r#ref.as_deref().map(norm).unwrap_or_default();
        let acr: Vec<&Acronym> = ACRONYMS
            .iter()
            .filter(|a| {
                k.r#ref.as_deref().is_some_and(|kr| a.refs.iter().any(|r| r.eq_ignore_ascii_case(kr)))
                    || a.names.iter().any(|n| norm(n) == name)
            })
            .collect();
        let score = if name.contains(folded) || (!r.is_empty() && r.contains(folded)) {
            0
        } else {
            let mut d = levenshtein(folded, &name).min(if r.is_empty() { usize::MAX } else { levenshtein(folded, &r) });
            for a in &acr {
                d = d.min(levenshtein(folded, &a.acronym.to_lowercase()));
            }
            d
        };
        // Close enough: a third of what was typed may be wrong.
        if score <= (folded.chars().count() / 3).max(1) {
            let shown = match (&k.r#ref, acr.first()) {
                (Some(r), Some(a)) => format!("{} ({r}, {})", k.name, a.acronym),
                (Some(r), None) => format!("{} ({r})", k.name),
                (None, _) => k.name.clone(),
            };
            scored.push((score, shown));
        }
    }
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(5).map(|(_, s)| s).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<KnownOrg> {
        let k = |r: Option<&str>, n: &str| KnownOrg { r#ref: r.map(str::to_owned), name: n.to_owned() };
        vec![
            k(Some("US-GOV-1"), "U.S. Agency for International Development"),
            k(Some("US-GOV-7"), "Department of Defense"),
            k(Some("US-GOV-7"), "Department of the Army"),
            k(Some("US-GOV-11"), "Department of State"),
            k(None, "International Organisation for Migration"),
        ]
    }

    #[test]
    fn identifier_name_and_acronym_resolve_to_the_data_names() {
        let d = data();
        let names = |s: &str| resolve(s, &d).expect(s).names;
        assert_eq!(names("US-GOV-1"), ["U.S. Agency for International Development"]);
        assert_eq!(names("us-gov-1"), ["U.S. Agency for International Development"]);
        assert_eq!(names("USAID"), ["U.S. Agency for International Development"]);
        assert_eq!(names("u.s.a.i.d."), ["U.S. Agency for International Development"]);
        assert_eq!(names("department  of  STATE"), ["Department of State"]);
        assert_eq!(names("DoD"), ["Department of Defense", "Department of the Army"]);
        assert_eq!(names("US-GOV-7"), ["Department of Defense", "Department of the Army"]);
        // An implementer named without an identifier, found by the table's spellings.
        assert_eq!(names("IOM"), ["International Organisation for Migration"]);
        assert_eq!(resolve("USAID", &d).expect("known").label, "USAID = US-GOV-1");
    }

    #[test]
    fn a_known_acronym_without_data_matches_nothing_without_error() {
        let r = resolve("MCC", &data()).expect("known acronym");
        assert!(r.names.is_empty());
        assert_eq!(r.refs, ["US-GOV-18"]);
    }

    #[test]
    fn an_unknown_organisation_is_an_error_with_suggestions() {
        let d = data();
        let e = resolve("Departmnt of Stat", &d).expect_err("unknown");
        assert_eq!(e.suggestions, ["Department of State (US-GOV-11, STATE)"]);
        let e = resolve("Defense", &d).expect_err("a part of a name is not a name");
        assert_eq!(e.suggestions, ["Department of Defense (US-GOV-7, DOD)"]);
        assert!(e.to_string().contains("did you mean Department of Defense"), "{e}");
        let e = resolve("zzzz", &d).expect_err("unknown");
        assert!(e.suggestions.is_empty());
        assert!(e.to_string().contains("e.g. US-GOV-1"), "{e}");
    }
}

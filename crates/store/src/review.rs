//! The review queue (issue 19, item 4): the mappings most worth an analyst's look, written once
//! over [`Store`] for both backends. An activity is in the queue under a strategy when no
//! analyst's override decides it and either
//!
//! - a line of effort it maps to rests on weak evidence only (confidence `weak`: one phrase in
//!   a long text, see [`senda_core::mapping::confidence_of`]), or
//! - a rule almost fired for a line it does not map to (a veto phrase stopped it, or its phrase
//!   was found in a field the rule does not search: [`NearMiss`]).
//!
//! Entries are ordered by money at stake, largest first: the larger of the activity's USD
//! commitments and USD disbursements (what a report would move if the mapping changed), ties
//! by identifier. Each entry carries the one command that decides it as an override with a
//! note (`senda map set`).

use crate::{Store, StoreError};
use rust_decimal::Decimal;
use senda_core::mapping::{Evidence, NearMiss, Strength};
use serde::Serialize;

/// The stored signals of activities that may belong in the queue: a weak line of effort, or
/// near misses. SQLite.
pub(crate) const SIGNALS_SQLITE: &str = "SELECT e.activity_id, COALESCE(m.lines, ''), COALESCE(m.confidence, ''), e.evidence, e.near_misses \
     FROM mapping_evidence e LEFT JOIN activity_mapping m ON m.strategy = e.strategy AND m.activity_id = e.activity_id \
     WHERE e.strategy = ?1 AND (e.near_misses <> '[]' OR m.confidence LIKE '%weak%') ORDER BY e.activity_id";

/// The same for PostgreSQL.
pub(crate) const SIGNALS_POSTGRES: &str = "SELECT e.activity_id, COALESCE(m.lines, ''), COALESCE(m.confidence, ''), e.evidence, e.near_misses \
     FROM mapping_evidence e LEFT JOIN activity_mapping m ON m.strategy = e.strategy AND m.activity_id = e.activity_id \
     WHERE e.strategy = $1 AND (e.near_misses <> '[]' OR m.confidence LIKE '%weak%') ORDER BY e.activity_id";

/// One activity's stored mapping signals (see [`Store::for_each_review_signal`]).
#[derive(Debug, Clone, Copy)]
pub struct ReviewSignal<'a> {
    /// Database id of the activity.
    pub db_id: i64,
    /// The rules' lines of effort, `;`-separated (`""`: not mapped).
    pub lines: &'a str,
    /// Their confidence, aligned (`strong;weak`).
    pub confidence: &'a str,
    /// Evidence, JSON as stored.
    pub evidence: &'a str,
    /// Near misses, JSON as stored.
    pub near_misses: &'a str,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    /// Only entries about this line of effort (a weak mapping to it, or a near miss for it).
    pub line_of_effort: Option<String>,
    /// Only activities naming this country (ISO 3166-1 alpha-2, activity or transaction level).
    pub country: Option<String>,
    /// At most this many entries (`None`: all).
    pub limit: Option<usize>,
}

/// One entry of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewEntry {
    /// `iati-identifier`.
    pub iati_identifier: String,
    /// Title.
    pub title: String,
    /// `reporting-org` name.
    pub reporting_org: String,
    /// Countries named, `;`-separated.
    pub countries: String,
    /// Money at stake in USD: the larger of commitments and disbursements, exact decimal.
    pub money_usd: String,
    /// The rules' lines of effort.
    pub lines_of_effort: Vec<String>,
    /// Their confidence, aligned with `lines_of_effort`.
    pub confidence: Vec<Strength>,
    /// Lines of effort given on weak evidence only (within the filter).
    pub weak_lines: Vec<String>,
    /// Lines of effort the rules almost gave (within the filter).
    pub near_lines: Vec<String>,
    /// The evidence of the weak lines.
    pub evidence: Vec<Evidence>,
    /// The near misses of the near lines.
    pub near_misses: Vec<NearMiss>,
    /// The lines the command proposes: the rules' lines plus the near lines.
    pub proposed_lines: Vec<String>,
    /// The command that decides the entry as an override with a note: it confirms the
    /// proposed lines as given; edit the lines to change them, or give `--none` to reject
    /// every line.
    pub command: String,
}

/// Quotes `s` for a POSIX shell when it holds anything but letters, digits and `-._:/@+`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._:/@+".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command that decides an entry (see [`ReviewEntry::command`]).
pub fn decide_command(iati_identifier: &str, strategy: &str, lines: &[String]) -> String {
    let lines = if lines.is_empty() { "--none".to_owned() } else { lines.join(" ") };
    format!("senda map set {} {lines} --strategy {strategy} --note \"reviewed: <why>\"", shell_quote(iati_identifier))
}

fn corrupt(id: i64, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt { record: format!("mapping evidence of activity {id}"), message: e.to_string() }
}

/// The review queue of `strategy` (see the module documentation), filtered and limited.
pub fn review_queue(store: &dyn Store, strategy: &str, filter: &ReviewFilter) -> Result<Vec<ReviewEntry>, StoreError> {
    struct Candidate {
        lines: Vec<String>,
        confidence: Vec<Strength>,
        weak_lines: Vec<String>,
        near_lines: Vec<String>,
        evidence: Vec<Evidence>,
        near_misses: Vec<NearMiss>,
    }
    let wanted = |l: &str| filter.line_of_effort.as_deref().is_none_or(|f| f == l);
    let mut candidates: Vec<(i64, Candidate)> = Vec::new();
    let mut error = None;
    store.for_each_review_signal(strategy, &mut |s| {
        if error.is_some() {
            return;
        }
        let lines: Vec<String> = s.lines.split(';').filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let confidence: Vec<Strength> =
            s.confidence.split(';').map(|c| Strength::parse(c).unwrap_or(Strength::Weak)).collect();
        let weak_lines: Vec<String> = lines
            .iter()
            .zip(confidence.iter().chain(std::iter::repeat(&Strength::Weak)))
            .filter(|(l, c)| **c == Strength::Weak && wanted(l))
            .map(|(l, _)| l.clone())
            .collect();
        let near: Vec<NearMiss> = match serde_json::from_str::<Vec<NearMiss>>(s.near_misses) {
            Ok(n) => n
                .into_iter()
                .filter(|n| wanted(&n.line_of_effort) && !lines.contains(&n.line_of_effort.to_string()))
                .collect(),
            Err(e) => {
                error = Some(corrupt(s.db_id, e));
                return;
            }
        };
        if weak_lines.is_empty() && near.is_empty() {
            return;
        }
        let evidence: Vec<Evidence> = match serde_json::from_str::<Vec<Evidence>>(s.evidence) {
            Ok(e) => e.into_iter().filter(|e| weak_lines.iter().any(|l| *l == e.line_of_effort.as_str())).collect(),
            Err(e) => {
                error = Some(corrupt(s.db_id, e));
                return;
            }
        };
        let mut near_lines: Vec<String> = Vec::new();
        for n in &near {
            if !near_lines.iter().any(|l| *l == n.line_of_effort.as_str()) {
                near_lines.push(n.line_of_effort.to_string());
            }
        }
        candidates.push((
            s.db_id,
            Candidate {
                lines,
                confidence: confidence.into_iter().take(s.lines.split(';').count()).collect(),
                weak_lines,
                near_lines,
                evidence,
                near_misses: near,
            },
        ));
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let rows = store.activity_rows(strategy, &ids)?;
    let mut by_id: std::collections::HashMap<i64, Candidate> = candidates.into_iter().collect();
    let money = |s: &str| s.parse::<Decimal>().unwrap_or(Decimal::ZERO);
    let mut out: Vec<(Decimal, ReviewEntry)> = Vec::new();
    for r in rows {
        if r.overridden {
            continue;
        }
        if let Some(country) = &filter.country
            && !r.countries.split(';').any(|c| c.trim().eq_ignore_ascii_case(country))
        {
            continue;
        }
        let Some(c) = by_id.remove(&r.db_id) else { continue };
        let at_stake = money(&r.commitments_usd).max(money(&r.disbursements_usd));
        let mut proposed = c.lines.clone();
        for l in &c.near_lines {
            if !proposed.contains(l) {
                proposed.push(l.clone());
            }
        }
        out.push((
            at_stake,
            ReviewEntry {
                command: decide_command(&r.iati_identifier, strategy, &proposed),
                iati_identifier: r.iati_identifier,
                title: r.title,
                reporting_org: r.reporting_org,
                countries: r.countries,
                money_usd: at_stake.normalize().to_string(),
                lines_of_effort: c.lines,
                confidence: c.confidence,
                weak_lines: c.weak_lines,
                near_lines: c.near_lines,
                evidence: c.evidence,
                near_misses: c.near_misses,
                proposed_lines: proposed,
            },
        ));
    }
    out.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.iati_identifier.cmp(&y.iati_identifier)));
    let limit = filter.limit.unwrap_or(usize::MAX);
    Ok(out.into_iter().take(limit).map(|(_, e)| e).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_identifiers_that_need_it() {
        assert_eq!(
            decide_command("US-GOV-1-720", "cmms-2021", &["LOE2".into()]),
            "senda map set US-GOV-1-720 LOE2 --strategy cmms-2021 --note \"reviewed: <why>\""
        );
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
        assert!(decide_command("X", "cmms-2021", &[]).contains(" --none "));
    }
}

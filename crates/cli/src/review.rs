//! `senda map review`: the review queue (issue 19, item 4; the queue itself is
//! `senda_store::review_queue`, shared with the web).

use crate::cli::{Format, ReviewArgs};
use crate::format::{clip, thousands};
use anyhow::{Result, bail};
use rust_decimal::Decimal;
use senda_core::Strategy;
use senda_core::explain::{Lang, describe_match};
use senda_core::mapping::NearMissReason;
use senda_store::{ReviewEntry, ReviewFilter, Store};
use std::io::Write;

/// The queue for the arguments given, checked against the strategy (an unknown line of effort
/// or a malformed country is an error naming it).
pub fn queue(store: &dyn Store, a: &ReviewArgs) -> Result<(Strategy, Vec<ReviewEntry>)> {
    let st = Strategy::builtin(&a.strategy)?;
    let line_of_effort = match &a.line_of_effort {
        Some(l) => match st.lines_of_effort.iter().find(|x| x.id.eq_ignore_ascii_case(l)) {
            Some(x) => Some(x.id.clone()),
            None => bail!(
                "unknown line of effort {l:?} in {} (known: {})",
                st.id,
                st.lines_of_effort.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        },
        None => None,
    };
    let country = match &a.country {
        Some(c) => {
            Some(senda_core::CountryCode::parse(c).map_err(|e| anyhow::anyhow!("--country {c:?}: {e}"))?.to_string())
        }
        None => None,
    };
    let limit = a.limit.or(if a.format == Format::Table { Some(20) } else { None });
    let filter = ReviewFilter { line_of_effort, country, limit };
    let entries = senda_store::review_queue(store, &st.id, &filter)?;
    Ok((st, entries))
}

/// Writes the queue in `format`.
pub fn write_queue(st: &Strategy, entries: &[ReviewEntry], format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(entries)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "iati_identifier",
                "title",
                "reporting_org",
                "countries",
                "money_usd",
                "lines_of_effort",
                "confidence",
                "weak_lines",
                "near_lines",
                "command",
            ])?;
            for e in entries {
                let conf: Vec<&str> = e.confidence.iter().map(|c| c.as_str()).collect();
                w.write_record([
                    e.iati_identifier.as_str(),
                    &e.title,
                    &e.reporting_org,
                    &e.countries,
                    &e.money_usd,
                    &e.lines_of_effort.join(";"),
                    &conf.join(";"),
                    &e.weak_lines.join(";"),
                    &e.near_lines.join(";"),
                    &e.command,
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            if entries.is_empty() {
                writeln!(out, "Nothing to review in {}: no weak-only mapping and no near miss.", st.id)?;
            }
            for (k, e) in entries.iter().enumerate() {
                let money = e.money_usd.parse::<Decimal>().unwrap_or_default();
                let countries = if e.countries.is_empty() { "REGIONAL" } else { e.countries.as_str() };
                writeln!(out, "{}. {}  USD {}  {}", k + 1, e.iati_identifier, thousands(money), countries)?;
                writeln!(out, "   {}", clip(&e.title, 100))?;
                writeln!(out, "   {}", clip(&e.reporting_org, 100))?;
                let rules = if e.lines_of_effort.is_empty() {
                    "not mapped".to_owned()
                } else {
                    e.lines_of_effort
                        .iter()
                        .zip(&e.confidence)
                        .map(|(l, c)| format!("{l} ({})", c.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                writeln!(out, "   rules: {rules}")?;
                for l in &e.weak_lines {
                    writeln!(out, "   weak only: {l}")?;
                    for ev in e.evidence.iter().filter(|ev| ev.line_of_effort == l.as_str()) {
                        writeln!(
                            out,
                            "     {} (rule {})",
                            describe_match(&ev.kind, &ev.field, &ev.value, Lang::En),
                            ev.rule
                        )?;
                    }
                }
                for l in &e.near_lines {
                    writeln!(out, "   almost: {l}")?;
                    for n in e.near_misses.iter().filter(|n| n.line_of_effort == l.as_str()) {
                        let why = match &n.reason {
                            NearMissReason::Veto { phrase } => format!("vetoed by {phrase:?}"),
                            NearMissReason::Field => "found in a field the rule does not search".to_owned(),
                        };
                        writeln!(
                            out,
                            "     {} (rule {}; {why})",
                            describe_match(&n.kind, &n.field, &n.value, Lang::En),
                            n.rule
                        )?;
                    }
                }
                writeln!(out, "   decide: {}", e.command)?;
                writeln!(out)?;
            }
            if !entries.is_empty() {
                writeln!(
                    out,
                    "{} entries, largest money at stake first. `decide` confirms the lines shown; edit them to change the mapping, or give --none to reject every line. `senda explain ID --strategy {}` says more.",
                    entries.len(),
                    st.id
                )?;
            }
        }
    }
    Ok(())
}

//! `--reporting-org` and `--implementing-org` as people type them: an IATI organisation
//! identifier, a name or a common acronym (`senda_core::orgs`), turned into the names reports
//! group by. An unknown organisation is an error with suggestions; a known one without data
//! here is said on standard error (the filter then matches nothing, which is the answer).

use crate::cli::Filters;
use anyhow::{Result, bail};
use senda_core::orgs::{KnownOrg, Resolved, resolve};
use senda_core::report::Dimension;
use senda_store::Store;

/// The reporting organisations of the data.
pub fn reporting_orgs(store: &dyn Store) -> Result<Vec<KnownOrg>> {
    Ok(store.reporting_orgs()?)
}

/// The implementing organisations of the data (names: implementers are seldom identified).
pub fn implementing_orgs(store: &dyn Store, strategy: &str) -> Result<Vec<KnownOrg>> {
    let r = senda_store::build_report(store, strategy, vec![Dimension::ImplementingOrg], false, Default::default())?;
    Ok(r.rows
        .into_iter()
        .map(|row| KnownOrg { r#ref: None, name: row.key.into_iter().next().unwrap_or_default() })
        .collect())
}

/// Resolves one typed organisation; `option` names the flag in messages.
pub fn resolve_one(typed: &str, known: &[KnownOrg], option: &str) -> Result<Resolved> {
    match resolve(typed, known) {
        Ok(r) => {
            if r.names.is_empty() {
                eprintln!("note: {option} {typed:?} ({}) has no activities in this database", r.label);
            }
            Ok(r)
        }
        Err(e) => bail!("{option}: {e}"),
    }
}

/// The names a report filter keeps for what was typed: the data's names, or (for a known
/// organisation without data) the typed text, which matches nothing.
fn names_for_report(r: Resolved, typed: &str) -> Vec<String> {
    if r.names.is_empty() { vec![typed.to_owned()] } else { r.names }
}

/// `f` with its organisation filters resolved to the names reports group by.
pub fn resolve_filters(store: &dyn Store, strategy: &str, f: &Filters) -> Result<Filters> {
    let mut out = f.clone();
    if !f.reporting_org.is_empty() {
        let known = reporting_orgs(store)?;
        out.reporting_org = Vec::new();
        for typed in &f.reporting_org {
            out.reporting_org.extend(names_for_report(resolve_one(typed, &known, "--reporting-org")?, typed));
        }
    }
    if !f.implementing_org.is_empty() {
        let known = implementing_orgs(store, strategy)?;
        out.implementing_org = Vec::new();
        for typed in &f.implementing_org {
            out.implementing_org.extend(names_for_report(resolve_one(typed, &known, "--implementing-org")?, typed));
        }
    }
    Ok(out)
}

/// The activity-list filter value for a typed reporting organisation: its identifier when it
/// has one (the list matches the ref exactly), else its name.
pub fn list_reporting_org(store: &dyn Store, typed: &str) -> Result<String> {
    let r = resolve_one(typed, &reporting_orgs(store)?, "--reporting-org")?;
    Ok(match (r.refs.as_slice(), r.names.as_slice()) {
        ([one], _) => one.clone(),
        (_, [name]) => name.clone(),
        _ => r.refs.first().cloned().unwrap_or_else(|| typed.to_owned()),
    })
}

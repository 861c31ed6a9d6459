//! `--reporting-org` and `--implementing-org` as people type them: an IATI organisation
//! identifier, a name or a common acronym (`senda_core::orgs`, which the dashboard's filters
//! use too), turned into the names reports group by. An unknown organisation is an error with
//! suggestions; a known one without data here is said on standard error (the filter then
//! matches nothing, which is the answer).

use crate::cli::Filters;
use anyhow::{Result, bail};
use senda_core::orgs::{KnownOrg, Resolved, implementers, resolve};
use senda_core::report::Dimension;
use senda_store::Store;

/// The reporting organisations of the data.
pub fn reporting_orgs(store: &dyn Store) -> Result<Vec<KnownOrg>> {
    Ok(store.reporting_orgs()?)
}

/// The implementing organisations of the data (names: implementers are seldom identified).
pub fn implementing_orgs(store: &dyn Store, strategy: &str) -> Result<Vec<KnownOrg>> {
    let r = senda_store::build_report(store, strategy, vec![Dimension::ImplementingOrg], false, Default::default())?;
    Ok(implementers(r.rows.iter().filter_map(|row| row.key.first().map(String::as_str))))
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

/// `f` with its organisation filters resolved to the names reports group by.
pub fn resolve_filters(store: &dyn Store, strategy: &str, f: &Filters) -> Result<Filters> {
    let mut out = f.clone();
    if !f.reporting_org.is_empty() {
        let known = reporting_orgs(store)?;
        out.reporting_org = Vec::new();
        for typed in &f.reporting_org {
            out.reporting_org.extend(resolve_one(typed, &known, "--reporting-org")?.report_names(typed));
        }
    }
    if !f.implementing_org.is_empty() {
        let known = implementing_orgs(store, strategy)?;
        out.implementing_org = Vec::new();
        for typed in &f.implementing_org {
            out.implementing_org.extend(resolve_one(typed, &known, "--implementing-org")?.report_names(typed));
        }
    }
    Ok(out)
}

/// The activity-list filter value for a typed reporting organisation (see
/// [`Resolved::list_value`]).
pub fn list_reporting_org(store: &dyn Store, typed: &str) -> Result<String> {
    Ok(resolve_one(typed, &reporting_orgs(store)?, "--reporting-org")?.list_value(typed))
}

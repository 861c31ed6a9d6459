//! Reports over any store, through the [`Store`] trait only (no SQL): the portfolio report of
//! the imported activities, the one a reader sees (entered interventions added by scope), and
//! each activity's money in a view.

use crate::{Store, StoreError};

/// Builds a portfolio report from any store: facts of the activities the strategy maps (after
/// overrides), grouped by `dims`, kept when they pass `filters` (values already canonical:
/// line-of-effort ids as in the strategy, years as text). Reads the sector and implementer
/// columns only when grouped or filtered on.
pub fn build_report(
    store: &dyn Store,
    strategy: &str,
    dims: Vec<senda_core::report::Dimension>,
    calendar_year: bool,
    filters: senda_core::report::Filters,
) -> Result<senda_core::report::Report, StoreError> {
    use senda_core::report::{Dimension, ReportBuilder};
    let infos = store.activity_infos(strategy)?;
    let dims_used: Vec<Dimension> = dims.iter().copied().chain(filters.keys().copied()).collect();
    let needs = |d: Dimension| dims_used.contains(&d);
    let (with_sector, with_impl) = (needs(Dimension::Sector), needs(Dimension::ImplementingOrg));
    let mut b = ReportBuilder::new(dims, calendar_year, filters, &infos);
    store.for_each_fact(with_sector, with_impl, &mut |f| b.add(f))?;
    Ok(b.finish())
}

/// Per activity (store id), the USD money of the imported activities that a report with
/// `filters` counts: each activity's share in that view (reports split money by country,
/// sector and line of effort; lists show whole activities). Summed, it is the report's total.
pub fn money_in_view(
    store: &dyn Store,
    strategy: &str,
    filters: senda_core::report::Filters,
) -> Result<std::collections::HashMap<u32, senda_core::report::Totals>, StoreError> {
    use senda_core::report::{Dimension, ReportBuilder};
    let infos = store.activity_infos(strategy)?;
    let (with_sector, with_impl) =
        (filters.contains_key(&Dimension::Sector), filters.contains_key(&Dimension::ImplementingOrg));
    let mut b = ReportBuilder::new(Vec::new(), false, filters, &infos).per_activity();
    store.for_each_fact(with_sector, with_impl, &mut |f| b.add(f))?;
    Ok(b.money_per_activity())
}

/// The portfolio report a reader sees: the imported activities ([`build_report`]) and the
/// interventions entered in Senda that `scope` (the access policy's, for the reader) lets them
/// see, each labelled by [`Dimension::Source`](senda_core::report::Dimension::Source); money of
/// an intervention linked to an IATI activity is counted once, from the IATI data
/// (`senda_core::entered`).
pub fn build_report_for(
    store: &dyn Store,
    strategy: &str,
    scope: senda_core::accounts::ReadScope,
    dims: Vec<senda_core::report::Dimension>,
    calendar_year: bool,
    filters: senda_core::report::Filters,
) -> Result<senda_core::report::Report, StoreError> {
    use senda_core::entered::{EnteredRecord, entered_report};
    use senda_core::report::{Report, combine};
    let records = store.interventions_for_report(strategy, scope)?;
    let entered: Vec<EnteredRecord<'_>> = records
        .iter()
        .map(|r| EnteredRecord { organisation_name: &r.organisation_name, intervention: &r.intervention })
        .collect();
    let mut failed = None;
    let report = combine(
        dims,
        calendar_year,
        filters,
        |d, f| {
            build_report(store, strategy, d.clone(), calendar_year, f).unwrap_or_else(|e| {
                failed = Some(e);
                Report::empty(d, calendar_year)
            })
        },
        |d, f| entered_report(&entered, strategy, d, calendar_year, f),
    );
    match failed {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

//! What the coverage view reads (the same SQL on both backends): the reporting organisations
//! of the stored activities, and every imported file with its `generated-datetime` and
//! publishers. The view itself (which publisher covers which country and fiscal year, and the
//! gaps against the strategy's expected publishers) is `senda_core::coverage`.

use crate::SourceFileInfo;
use std::collections::BTreeMap;

/// Distinct (ref, name) of reporting organisations.
pub(crate) const REPORTING_ORGS_SQL: &str = "SELECT DISTINCT reporting_org_ref, reporting_org_name FROM activity \
     ORDER BY reporting_org_name, reporting_org_ref";

/// (path, generated_datetime, imported_at) of every file.
pub(crate) const FILES_SQL: &str = "SELECT path, generated_datetime, imported_at FROM source_file ORDER BY path";

/// (path, ref, name, activities) of every file's stored activities.
pub(crate) const FILE_PUBLISHERS_SQL: &str = "SELECT source_path, reporting_org_ref, reporting_org_name, COUNT(*) \
     FROM activity GROUP BY source_path, reporting_org_ref, reporting_org_name";

/// Joins files and their publishers (a file whose activities were all superseded has none).
pub(crate) fn files(
    files: Vec<(String, Option<String>, String)>,
    publishers: Vec<(String, Option<String>, String, i64)>,
) -> Vec<SourceFileInfo> {
    let mut by_path: BTreeMap<String, Vec<(Option<String>, String, u64)>> = BTreeMap::new();
    for (path, r, name, n) in publishers {
        by_path.entry(path).or_default().push((r, name, u64::try_from(n).unwrap_or(0)));
    }
    files
        .into_iter()
        .map(|(path, generated_datetime, imported_at)| {
            let mut publishers = by_path.remove(&path).unwrap_or_default();
            publishers.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            let activities = publishers.iter().map(|p| p.2).sum();
            SourceFileInfo { path, generated_datetime, imported_at, activities, publishers }
        })
        .collect()
}

/// The coverage view of `strategy` (its expected publishers) over the stored data: two
/// reports (reporting organisation × country, and × fiscal year; U.S. fiscal years) and the
/// data's organisation identifiers.
pub fn coverage_view(
    store: &dyn crate::Store,
    strategy: &senda_core::Strategy,
) -> Result<senda_core::coverage::Coverage, crate::StoreError> {
    use senda_core::report::Dimension::{Country, FiscalYear, ReportingOrg};
    let orgs = store.reporting_orgs()?;
    let by_country = crate::build_report(store, &strategy.id, vec![ReportingOrg, Country], false, Default::default())?;
    let by_year =
        crate::build_report(store, &strategy.id, vec![ReportingOrg, Country, FiscalYear], false, Default::default())?;
    Ok(senda_core::coverage::build(
        strategy.coverage.as_ref(),
        &strategy.focus_countries,
        &orgs,
        by_country.rows.iter().map(|r| (r.key[0].as_str(), r.key[1].as_str(), r.activities)),
        by_year.rows.iter().map(|r| (r.key[0].as_str(), r.key[1].as_str(), r.key[2].as_str())),
    ))
}

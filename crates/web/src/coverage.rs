//! The coverage view for pages and the printable report: computed from the cached reports
//! (reporting organisation × country, and × fiscal year) and the store's organisation
//! identifiers and files, once per data generation (`senda_core::coverage`).

use crate::AppState;
use crate::error::WebError;
use senda_core::Strategy;
use senda_core::coverage::Coverage;
use senda_core::report::Dimension::{Country, FiscalYear, ReportingOrg};
use senda_store::SourceFileInfo;
use std::sync::Arc;

/// The coverage of `strategy` over the data.
pub async fn coverage(state: &AppState, strategy: &Strategy) -> Result<Coverage, WebError> {
    let orgs = state.cached("coverage|orgs".into(), |s| s.reporting_orgs()).await?;
    let by_country = state.report(&strategy.id, vec![ReportingOrg, Country], false, Default::default()).await?;
    let by_year =
        state.report(&strategy.id, vec![ReportingOrg, Country, FiscalYear], false, Default::default()).await?;
    Ok(senda_core::coverage::build(
        strategy.coverage.as_ref(),
        &strategy.focus_countries,
        &orgs,
        by_country.rows.iter().map(|r| (r.key[0].as_str(), r.key[1].as_str(), r.activities)),
        by_year.rows.iter().map(|r| (r.key[0].as_str(), r.key[1].as_str(), r.key[2].as_str())),
    ))
}

/// Every imported file with its generated-datetime (cached per generation).
pub async fn files(state: &AppState) -> Result<Arc<Vec<SourceFileInfo>>, WebError> {
    state.cached("coverage|files".into(), |s| s.source_files()).await
}

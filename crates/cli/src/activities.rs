//! `senda activities`: the activities of a view, whole, with the share of each one's money
//! that falls in the view (`*_in_view` columns of the CSV: reports split money by country,
//! sector and line of effort, lists show whole activities).

use crate::cli::{ActivitiesArgs, Filters, Format};
use crate::commands::{open_existing_store, report_filters};
use crate::format::{clip, table, thousands};
use anyhow::{Result, bail};
use senda_core::Strategy;
use senda_store::ActivityFilter;
use std::io::Write;

/// The fiscal years of `--fiscal-year` as a list filter holds them: one year or a range
/// (`2023`, `2020..2024`, `FY2023`; a comma list of consecutive years too). `23` is an error, as
/// in reports.
fn year_range(years: &[String], typed: &str) -> Result<Option<(i32, i32)>> {
    let mut ys: Vec<i32> = years.iter().filter_map(|y| y.parse().ok()).collect();
    ys.sort_unstable();
    ys.dedup();
    match (ys.first(), ys.last()) {
        (Some(&a), Some(&b)) if (b - a + 1) as usize == ys.len() => Ok(Some((a, b))),
        (Some(_), Some(_)) => {
            bail!("--fiscal-year {typed:?}: activities take one year or a range of consecutive years (e.g. 2020..2024)")
        }
        _ => Ok(None),
    }
}

/// Runs `senda activities`.
pub fn cmd_activities(db: &str, a: ActivitiesArgs) -> Result<()> {
    let store = open_existing_store(db)?;
    let st = Strategy::builtin(&a.strategy)?;
    let limit = a.limit.or(if a.format == Format::Table { Some(50) } else { None });
    // The view as reports read it (organisations resolved, lines of effort and countries
    // checked, years parsed): the list and the `*_in_view` columns use the same.
    let view = Filters {
        line_of_effort: a.line_of_effort.iter().cloned().collect(),
        country: a.country.iter().cloned().collect(),
        fiscal_year: a.fiscal_year.clone(),
        reporting_org: a.reporting_org.iter().cloned().collect(),
        ..Default::default()
    };
    let filters = report_filters(&*store, &st, &view)?;
    let one = |d: senda_core::report::Dimension| filters.get(&d).and_then(|v| v.first().cloned());
    use senda_core::report::Dimension as D;
    let fiscal_years = match (&a.fiscal_year, filters.get(&D::FiscalYear)) {
        (Some(typed), Some(ys)) => year_range(ys, typed)?,
        _ => None,
    };
    let rows = store.list_activities(&ActivityFilter {
        strategy: st.id.clone(),
        line_of_effort: one(D::LineOfEffort),
        country: one(D::Country),
        reporting_org: a.reporting_org.as_deref().map(|o| crate::orgs::list_reporting_org(&*store, o)).transpose()?,
        text: a.text,
        status: a.status,
        negative_money: a.negative_money,
        fiscal_years,
        limit,
        ..Default::default()
    })?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Csv => {
            let in_view = senda_store::money_in_view(&*store, &st.id, filters)?;
            let mut w = csv::Writer::from_writer(&mut out);
            // The same columns as the dashboard's CSV download.
            w.write_record(senda_web::api::CSV_COLUMNS)?;
            for r in &rows {
                // The dashboard's record: text cells a spreadsheet would run as a formula get a
                // leading `'`.
                let view = u32::try_from(r.db_id).ok().and_then(|id| in_view.get(&id));
                w.write_record(senda_web::api::csv_record(r, view))?;
            }
            w.flush()?;
        }
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        Format::Table => {
            let headers: Vec<String> =
                ["iati_identifier", "title", "reporting_org", "countries", "lines_of_effort", "disbursements_usd"]
                    .map(String::from)
                    .to_vec();
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let d: rust_decimal::Decimal = r.disbursements_usd.parse().unwrap_or_default();
                    vec![
                        clip(&r.iati_identifier, 40),
                        clip(&r.title, 50),
                        clip(&r.reporting_org, 28),
                        r.countries.clone(),
                        if r.overridden { format!("{}*", r.lines_of_effort) } else { r.lines_of_effort.clone() },
                        thousands(d),
                    ]
                })
                .collect();
            write!(out, "{}", table(&headers, &body, &[false, false, false, false, false, true]))?;
            writeln!(
                out,
                "{} {} shown{}. * = analyst's override. Amounts are whole activities; --format csv adds each one's share in the view (*_in_view).",
                rows.len(),
                if rows.len() == 1 { "activity" } else { "activities" },
                if limit.is_some_and(|l| l > 0 && rows.len() as u64 >= l) { " (limit reached)" } else { "" }
            )?;
        }
    }
    Ok(())
}

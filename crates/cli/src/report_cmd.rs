//! `senda report`: filters as typed turned into report filters (organisations resolved, lines
//! of effort and countries checked, years in full), the report built from the store, and its
//! table, CSV and JSON (net or `--gross`). The printable formats are `crate::printable`.

use crate::cli::*;
use crate::commands::open_existing_store;
use crate::format::{clip, count, table, thousands};
use anyhow::{Result, bail};
use rust_decimal::Decimal;
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::report::{Dimension, Filters as ReportFilters, Report, SOURCE_ENTERED, SOURCE_IATI, Totals};
use senda_store::Store;
use std::io::Write;

fn parse_years(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim().trim_start_matches("FY").trim_start_matches("fy");
        if let Some((a, b)) = part.split_once("..") {
            let (a, b) = (full_year(a, part)?, full_year(b, part)?);
            if b < a {
                bail!("bad year range {part:?}: the end comes before the start");
            }
            if b - a > 200 {
                bail!("bad year range {part:?}: more than 200 years");
            }
            out.extend((a..=b).map(|y| y.to_string()));
        } else if !part.is_empty() {
            out.push(full_year(part, part)?.to_string());
        }
    }
    Ok(out)
}

/// A year written in full (four digits, `FY` allowed): `23` is refused rather than read as
/// year 23, which matches nothing.
fn full_year(s: &str, part: &str) -> Result<i32> {
    let t = s.trim().trim_start_matches("FY").trim_start_matches("fy");
    match t.parse::<i32>() {
        Ok(y) if t.len() == 4 && (1000..=9999).contains(&y) => Ok(y),
        Ok(_) => bail!("bad year {part:?}: write years in full, with four digits (e.g. 2023 or 2020..2024)"),
        Err(_) => bail!("bad year {part:?} (expected e.g. 2023 or 2020..2024)"),
    }
}

/// Builds a report from the store.
pub fn build_report(
    store: &dyn Store,
    strategy: &str,
    dims: Vec<Dimension>,
    calendar_year: bool,
    f: &Filters,
) -> Result<Report> {
    let st = Strategy::builtin(strategy)?;
    let filters = report_filters(store, &st, f)?;
    let scope = if f.include_unpublished { ReadScope::Everything } else { ReadScope::PublishedOnly };
    Ok(senda_store::build_report_for(store, &st.id, scope, dims, calendar_year, filters)?)
}

/// The report filters of the command line's: organisations resolved (`crate::orgs`), lines of
/// effort and countries checked and canonical, years parsed (`23` is an error).
pub fn report_filters(store: &dyn Store, st: &Strategy, f: &Filters) -> Result<ReportFilters> {
    let strategy = st.id.as_str();
    let f = &crate::orgs::resolve_filters(store, &st.id, f)?;
    let mut filters = ReportFilters::new();
    let mut put = |d: Dimension, v: &Vec<String>| {
        if !v.is_empty() {
            filters.insert(d, v.clone());
        }
    };
    put(Dimension::LineOfEffort, &f.line_of_effort);
    put(Dimension::Country, &f.country);
    put(Dimension::ReportingOrg, &f.reporting_org);
    put(Dimension::ImplementingOrg, &f.implementing_org);
    put(Dimension::Instrument, &f.instrument);
    put(Dimension::Sector, &f.sector);
    for v in &f.source {
        if ![SOURCE_IATI, SOURCE_ENTERED].iter().any(|k| k.eq_ignore_ascii_case(v.trim())) {
            bail!(
                "unknown source {v:?}: give {SOURCE_IATI} (imported activities) or {SOURCE_ENTERED} (interventions entered in Senda)"
            );
        }
    }
    put(Dimension::Source, &f.source.iter().map(|v| v.trim().to_ascii_lowercase()).collect());
    if let Some(y) = &f.fiscal_year {
        filters.insert(Dimension::FiscalYear, parse_years(y)?);
    }
    if let Some(lines) = filters.get_mut(&Dimension::LineOfEffort) {
        for l in lines.iter_mut() {
            if l.eq_ignore_ascii_case(senda_core::report::NOT_MAPPED) {
                *l = senda_core::report::NOT_MAPPED.to_owned();
                continue;
            }
            match st.lines_of_effort.iter().find(|x| x.id.eq_ignore_ascii_case(l)) {
                Some(x) => *l = x.id.clone(),
                None => bail!(
                    "unknown line of effort {l:?} in strategy {strategy} (known: {}, NOT_MAPPED)",
                    st.lines_of_effort.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    }
    if let Some(countries) = filters.get_mut(&Dimension::Country) {
        for c in countries.iter_mut() {
            *c = country_filter_value(c)?;
        }
    }
    Ok(filters)
}

/// A `--country` value as reports and lists hold it: an IATI country code (any case),
/// `REGIONAL` or `UNKNOWN`. Anything else is an error, as an unknown line of effort is (an
/// empty report would look like a country without money).
pub(crate) fn country_filter_value(raw: &str) -> Result<String> {
    let t = raw.trim();
    for special in [senda_core::attribution::REGIONAL, senda_core::attribution::UNKNOWN] {
        if t.eq_ignore_ascii_case(special) {
            return Ok(special.to_owned());
        }
    }
    match senda_core::codes::CountryCode::parse(t) {
        Ok(c) => Ok(c.to_string()),
        Err(_) => {
            bail!("unknown country {raw:?}: give an ISO 3166-1 alpha-2 code (e.g. GT, HN, SV), REGIONAL or UNKNOWN")
        }
    }
}

pub(crate) fn cmd_report(db: &str, a: ReportArgs) -> Result<()> {
    let Some(format) = a.format.table_format() else {
        return crate::printable::write(db, &a);
    };
    let mut dims: Vec<Dimension> = Vec::new();
    for s in a.by.iter().filter(|s| !s.trim().is_empty()) {
        let d = s.parse::<Dimension>().map_err(anyhow::Error::msg)?;
        if dims.contains(&d) {
            bail!("--by names {d} twice");
        }
        dims.push(d);
    }
    if dims.is_empty() {
        bail!("--by needs at least one of: {}", Dimension::ALL.map(|d| d.name()).join(", "));
    }
    let store = open_existing_store(db)?;
    let r = build_report(&*store, &a.strategy, dims, a.calendar_year, &a.filters)?;
    let st = Strategy::builtin(&a.strategy)?;
    let mut out = std::io::stdout().lock();
    let money = if a.gross { MoneyColumns::Gross } else { MoneyColumns::Net };
    write_report_with(&r, &st, format, store.synthetic_presence()?.0, money, &mut out)
}

/// Which money columns a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyColumns {
    /// Commitments, disbursements and expenditures, net of de-obligations and returns.
    Net,
    /// Also obligations and de-obligations, gross disbursements and returns (`--gross`).
    Gross,
}

/// A money column: its name and its value in a row's totals.
type MoneyColumn = (&'static str, fn(&Totals) -> Decimal);

impl MoneyColumns {
    /// Column names and the value of each for a row's totals.
    fn columns(self) -> Vec<MoneyColumn> {
        match self {
            MoneyColumns::Net => vec![
                ("commitments_usd", |t| t.commitments),
                ("disbursements_usd", |t| t.disbursements),
                ("expenditures_usd", |t| t.expenditures),
            ],
            MoneyColumns::Gross => vec![
                ("obligations_usd", |t| t.gross_commitments()),
                ("deobligations_usd", |t| t.deobligations),
                ("commitments_usd", |t| t.commitments),
                ("gross_disbursements_usd", |t| t.gross_disbursements()),
                ("returns_usd", |t| t.returns),
                ("disbursements_usd", |t| t.disbursements),
                ("expenditures_usd", |t| t.expenditures),
            ],
        }
    }
}

/// Writes a report in the chosen format.
pub fn write_report(r: &Report, st: &Strategy, format: Format, synthetic: bool, out: &mut dyn Write) -> Result<()> {
    write_report_with(r, st, format, synthetic, MoneyColumns::Net, out)
}

/// Writes a report in the chosen format with the chosen money columns. In JSON, `--gross`
/// adds a `gross` object to each row and the total (the same names as the CSV columns).
pub fn write_report_with(
    r: &Report,
    st: &Strategy,
    format: Format,
    synthetic: bool,
    money: MoneyColumns,
    out: &mut dyn Write,
) -> Result<()> {
    let cols = money.columns();
    let year_col = if r.calendar_year { "calendar_year" } else { "fiscal_year" };
    let mut headers: Vec<String> = r
        .dimensions
        .iter()
        .map(|d| if *d == Dimension::FiscalYear { year_col.to_owned() } else { d.name().to_owned() })
        .collect();
    headers.push("activities".into());
    headers.extend(cols.iter().map(|(n, _)| (*n).to_owned()));
    let has_other = !r.total.unconverted.is_empty();
    if has_other {
        headers.push("unconverted".into());
    }
    let other = |row: &senda_core::report::Row| {
        row.unconverted
            .iter()
            .map(|(c, t)| {
                format!(
                    "{c} commitments {} disbursements {} expenditures {}",
                    t.commitments, t.disbursements, t.expenditures
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&headers)?;
            for row in &r.rows {
                // Group values come from the data (organisation names): one that a spreadsheet
                // would run as a formula gets a leading `'`, as in the dashboard's downloads.
                let mut rec: Vec<String> = row.key.iter().map(|k| senda_web::api::csv_text(k)).collect();
                rec.push(row.activities.to_string());
                rec.extend(cols.iter().map(|(_, f)| f(&row.usd).to_string()));
                if has_other {
                    rec.push(other(row));
                }
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        Format::Json => {
            let gross = |row: &senda_core::report::Row| -> serde_json::Value {
                let mut v = serde_json::to_value(row).unwrap_or_default();
                if money == MoneyColumns::Gross {
                    let g: serde_json::Map<String, serde_json::Value> =
                        cols.iter().map(|(n, f)| ((*n).to_owned(), f(&row.usd).to_string().into())).collect();
                    v["gross"] = g.into();
                }
                v
            };
            let v = serde_json::json!({
                "strategy": st.id,
                "synthetic": synthetic,
                "dimensions": r.dimensions,
                "calendar_year": r.calendar_year,
                "rows": r.rows.iter().map(gross).collect::<Vec<_>>(),
                "total": gross(&r.total),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Table => {
            if synthetic {
                writeln!(
                    out,
                    "SYNTHETIC DEMO DATA: this database holds activities generated by `senda demo`, not real ones.\n"
                )?;
            }
            writeln!(
                out,
                "{} ({}): amounts in USD, rounded to the dollar (CSV and JSON are exact); years are {}.\n",
                st.title,
                st.short_title,
                if r.calendar_year { "calendar years" } else { "U.S. fiscal years (October-September)" }
            )?;
            let mut rows: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|row| {
                    // Sector codes with their DAC names (the CSV and JSON keep the code alone).
                    let mut v: Vec<String> = row
                        .key
                        .iter()
                        .zip(&r.dimensions)
                        .map(|(k, d)| match (d, senda_core::codelists::sector_name("1", k, false)) {
                            (Dimension::Sector, Some(n)) => clip(&format!("{k} {}", n.text), 48),
                            _ => clip(k, 48),
                        })
                        .collect();
                    v.push(count(row.activities));
                    v.extend(cols.iter().map(|(_, f)| thousands(f(&row.usd))));
                    if has_other {
                        v.push(other(row));
                    }
                    v
                })
                .collect();
            let mut total: Vec<String> = vec![String::new(); r.dimensions.len()];
            if let Some(f) = total.first_mut() {
                *f = "TOTAL".into();
            }
            total.push(count(r.total.activities));
            total.extend(cols.iter().map(|(_, f)| thousands(f(&r.total.usd))));
            if has_other {
                total.push(other(&r.total));
            }
            rows.push(total);
            let right: Vec<bool> = headers.iter().enumerate().map(|(i, _)| i >= r.dimensions.len()).collect();
            write!(out, "{}", table(&headers, &rows, &right))?;
            if r.dimensions.contains(&Dimension::LineOfEffort) {
                writeln!(out)?;
                for l in &st.lines_of_effort {
                    if r.rows.iter().any(|row| row.key.contains(&l.id)) {
                        writeln!(out, "{:<10} {}", l.id, l.title)?;
                    }
                }
                writeln!(
                    out,
                    "{:<10} activities no rule maps to this strategy (still counted with their money)",
                    "NOT_MAPPED"
                )?;
                writeln!(out, "Money of an activity mapped to several lines of effort is split equally between them.")?;
            }
            if has_other {
                writeln!(
                    out,
                    "\nUnconverted amounts (no exchange rates yet; reported in their own currency, not in the USD columns): {}",
                    other(&r.total)
                )?;
            }
            let negative = |t: &Totals| t.commitments.is_sign_negative() || t.disbursements.is_sign_negative();
            if r.rows.iter().any(|row| negative(&row.usd)) || negative(&r.total.usd) {
                writeln!(
                    out,
                    "\nNegative amounts are net: U.S. files hold de-obligations (negative commitments) and returned \
                     disbursements whose original obligation is under another identifier or in an earlier year. \
                     `senda report --gross` shows them apart; `senda activities --negative-money` lists the activities."
                )?;
            }
            writeln!(
                out,
                "\nGrand total: commitments {} USD, disbursements {} USD, expenditures {} USD, {} activities.",
                thousands(r.total.usd.commitments),
                thousands(r.total.usd.disbursements),
                thousands(r.total.usd.expenditures),
                count(r.total.activities)
            )?;
        }
    }
    Ok(())
}

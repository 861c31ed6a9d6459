//! `senda coverage`: which publishers have data for which focus country and fiscal years, the
//! gaps against the strategy's expected publishers, and every imported file's
//! `generated-datetime` (`senda_core::coverage`, `senda_store::coverage`).

use crate::cli::Format;
use crate::commands::open_existing_store;
use crate::format::{clip, count, table};
use anyhow::Result;
use senda_core::Strategy;
use senda_core::coverage::{Cell, Coverage};
use senda_store::SourceFileInfo;
use std::io::Write;

/// `FY2012–FY2024 (13 FY)`, or `FY2023`; `(undated)` is added when some money has no date.
pub fn years_text(c: &Cell) -> String {
    let span = match (c.fiscal_years.first(), c.fiscal_years.last()) {
        (Some(a), Some(b)) if a == b => format!("FY{a}"),
        (Some(a), Some(b)) => format!("FY{a}–FY{b} ({} FY)", c.fiscal_years.len()),
        _ => String::new(),
    };
    match (span.is_empty(), c.undated) {
        (true, true) => "undated".into(),
        (false, true) => format!("{span}, undated too"),
        _ => span,
    }
}

/// Runs `senda coverage`.
pub fn cmd_coverage(db: &str, strategy: &str, format: Format, out: &mut dyn Write) -> Result<()> {
    let store = open_existing_store(db)?;
    let st = Strategy::builtin(strategy)?;
    let cov = senda_store::coverage::coverage_view(&*store, &st)?;
    let files = store.source_files()?;
    match format {
        Format::Json => {
            let v = serde_json::json!({ "strategy": st.id, "coverage": cov, "files": files });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Csv => write_csv(&st, &cov, out)?,
        Format::Table => write_table(&st, &cov, &files, out)?,
    }
    Ok(())
}

fn write_csv(st: &Strategy, cov: &Coverage, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "publisher_ref",
        "publisher",
        "country",
        "activities",
        "first_fiscal_year",
        "last_fiscal_year",
        "fiscal_years",
        "undated",
        "expected",
    ])?;
    for p in &cov.publishers {
        for (country, c) in &p.countries {
            let expected = st.coverage.as_ref().is_some_and(|d| {
                d.expected_publishers.iter().any(|e| {
                    p.r#ref.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&e.r#ref))
                        && e.countries.iter().any(|x| x.as_str() == country)
                })
            });
            w.write_record([
                p.r#ref.clone().unwrap_or_default(),
                p.names.join("; "),
                country.clone(),
                c.activities.to_string(),
                c.fiscal_years.first().map(|y| y.to_string()).unwrap_or_default(),
                c.fiscal_years.last().map(|y| y.to_string()).unwrap_or_default(),
                c.fiscal_years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(" "),
                c.undated.to_string(),
                expected.to_string(),
            ])?;
        }
    }
    // Gaps as rows with 0 activities, so a spreadsheet shows them too.
    for g in &cov.gaps {
        w.write_record([
            g.publisher.r#ref.clone(),
            g.publisher.name.clone(),
            g.country.to_string(),
            "0".into(),
            String::new(),
            String::new(),
            String::new(),
            "false".into(),
            "true".into(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(st: &Strategy, cov: &Coverage, files: &[SourceFileInfo], out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "Data coverage ({}): activities with money attributed to each country, and the U.S. fiscal years they cover",
        st.id
    )?;
    let mut cols: Vec<String> = st.focus_countries.iter().map(|c| c.to_string()).collect();
    cols.push(senda_core::attribution::REGIONAL.to_owned());
    let mut headers = vec!["publisher".to_owned(), "ref".to_owned()];
    headers.extend(cols.iter().cloned());
    let others = "other countries".to_owned();
    headers.push(others);
    let rows: Vec<Vec<String>> = cov
        .publishers
        .iter()
        .map(|p| {
            let mut r = vec![clip(&p.names.join(" / "), 40), p.r#ref.clone().unwrap_or_else(|| "no ref".into())];
            for c in &cols {
                r.push(match p.countries.get(c) {
                    Some(cell) => format!("{} act. {}", count(cell.activities), years_text(cell)),
                    None => "-".into(),
                });
            }
            let other: u64 = p.countries.iter().filter(|(k, _)| !cols.contains(k)).map(|(_, c)| c.activities).sum();
            r.push(if other == 0 { "-".into() } else { format!("{} act.", count(other)) });
            r
        })
        .collect();
    let right = vec![false; headers.len()];
    write!(out, "{}", table(&headers, &rows, &right))?;
    writeln!(out)?;
    if st.coverage.is_none() {
        writeln!(out, "The strategy lists no expected publishers: no gaps are checked.")?;
    } else if cov.gaps.is_empty() {
        writeln!(out, "Every expected publisher has data for every focus country.")?;
    } else {
        writeln!(out, "Gaps: expected publishers without data for a focus country (its totals are understated):")?;
        for c in &st.focus_countries {
            let missing: Vec<String> = cov.gaps_of(c.as_str()).map(|g| g.publisher.label()).collect();
            if !missing.is_empty() {
                writeln!(out, "  {c}: {}", missing.join(", "))?;
            }
        }
    }
    if !cov.source.is_empty() {
        writeln!(out, "Expected publishers: {}", cov.source)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Files ({}): when each was generated by its publisher (generated-datetime) and imported",
        count(files.len() as u64)
    )?;
    let headers: Vec<String> = ["file", "publishers", "activities", "generated", "imported"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            vec![
                clip(&f.path, 60),
                clip(
                    &f.publishers
                        .iter()
                        .map(|(r, n, _)| r.clone().unwrap_or_else(|| n.clone()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    30,
                ),
                count(f.activities),
                f.generated_datetime.clone().unwrap_or_else(|| "not given".into()),
                f.imported_at.clone(),
            ]
        })
        .collect();
    write!(out, "{}", table(&headers, &rows, &[false, false, true, false, false]))?;
    Ok(())
}

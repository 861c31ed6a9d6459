//! U.S. Customs and Border Protection (CBP) encounter CSVs, one observation per row.
//!
//! **Southwest Land Border Encounters** (`sbo-encounters-*.csv`), series
//! [`SOUTHWEST_BORDER_SERIES`] (`cbp-swb-encounters`). Header:
//! `Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,Title of
//! Authority,Encounter Type,Encounter Count`.
//! - period: `Fiscal Year` (`2024`, or `2025 (FYTD)` for the running year) + `Month (abbv)`
//!   (`OCT`..`SEP`, any case, or the full month name) → [`Period::fiscal_month`] (FY2023 OCT = 2022-10);
//! - place: `Citizenship Grouping` → country (`El Salvador` → SV); `Other` → `Place::Other("Other")`
//!   (CBP's own residual group: every citizenship not listed);
//! - disaggregation: `component`, `demographic`, `title_of_authority`, `encounter_type`
//!   (from the columns of those names, values as in the file);
//! - value: `Encounter Count` (encounters), by the [`crate::number`] rule.
//!
//! `Month Grouping` is read but not kept. In the FY2022–FY2025 (August) file it is `FYTD` for
//! the months October–August of every year and `Remaining` for September: it marks which months
//! fall inside the latest year's year-to-date window, for like-for-like comparisons. It is
//! **not** a subtotal: every row is one month × component × demographic × citizenship × title ×
//! encounter type, and no key repeats (checked: 1,936 rows, 1,936 distinct keys with or without
//! the grouping), so summing rows never double counts.
//!
//! **Nationwide Encounters** by state (`cbp-nationwide-encounters-*-state.csv`), series
//! [`NATIONWIDE_SERIES`] (`cbp-nationwide-encounters`). Header of the FY2020–FY2023 file:
//! `Fiscal Year,Month Grouping,Month (abbv),Land Border Region,State,Demographic,Citizenship,Title
//! of Authority,Encounter Count` (no component nor encounter type column; both are read as
//! disaggregations when a file has them).
//! - place: `Citizenship` (upper case: `EL SALVADOR`, `CHINA, PEOPLES REPUBLIC OF`, `MYANMAR
//!   (BURMA)`, `TURKEY`, ...) → country; `OTHER` → `Place::Other("Other")`;
//! - disaggregation: `land_border_region` (`Southwest Land Border`, `Northern Land Border`,
//!   `Other`), `us_state` (`State`: the U.S. state or territory of the encounter, e.g. `TX`,
//!   which is not an admin-1 of the citizenship country), `demographic`, `title_of_authority`,
//!   plus `component` and `encounter_type` when present;
//! - `Month Grouping` is `FYTD` on every row of that file; ignored.
//!
//! Columns are found by header name (case and spacing ignored), not position: a missing one is
//! a [`StatsError::MissingColumns`] listing the headers found; an extra one is a Warning
//! (`extra-column`) and is ignored.

use crate::countries::country_from_name;
use crate::number::parse_number;
use crate::text::{self, header_key};
use crate::{Collector, Parsed, StatsError, country_message, number_message};
use senda_core::observation::Disaggregation;
use senda_core::{CountryCode, Period, Place, Severity, StatSeries};
use std::collections::HashMap;

/// Series code of the Southwest Land Border encounters CSV.
pub const SOUTHWEST_BORDER_SERIES: &str = "cbp-swb-encounters";
/// Series code of the Nationwide encounters CSV.
pub const NATIONWIDE_SERIES: &str = "cbp-nationwide-encounters";

/// The series of the Southwest Land Border encounters CSV (unit: encounters).
pub fn southwest_border_series() -> StatSeries {
    StatSeries {
        code: SOUTHWEST_BORDER_SERIES.to_owned(),
        name: "Southwest land border encounters".to_owned(),
        name_es: "Encuentros en la frontera terrestre suroeste".to_owned(),
        unit: "encounters".to_owned(),
        source: "U.S. Customs and Border Protection (CBP), Southwest Land Border Encounters, FY2022–FY2025".to_owned(),
    }
}

/// The series of the Nationwide encounters CSV (unit: encounters).
pub fn nationwide_series() -> StatSeries {
    StatSeries {
        code: NATIONWIDE_SERIES.to_owned(),
        name: "Nationwide encounters (by U.S. state)".to_owned(),
        name_es: "Encuentros a nivel nacional (por estado de EE. UU.)".to_owned(),
        unit: "encounters".to_owned(),
        source: "U.S. Customs and Border Protection (CBP), Nationwide Encounters by state, FY2020–FY2023".to_owned(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    FiscalYear,
    Month,
    Citizenship,
    Count,
    Dim(&'static str),
    Ignored,
}

struct Col {
    /// Header as CBP writes it (for messages).
    name: &'static str,
    /// Accepted headers, in [`header_key`] form.
    keys: &'static [&'static str],
    role: Role,
    required: bool,
}

const fn col(name: &'static str, keys: &'static [&'static str], role: Role, required: bool) -> Col {
    Col { name, keys, role, required }
}

const SWB_COLUMNS: &[Col] = &[
    col("Fiscal Year", &["fiscal year"], Role::FiscalYear, true),
    col("Month Grouping", &["month grouping"], Role::Ignored, false),
    col("Month (abbv)", &["month (abbv)", "month"], Role::Month, true),
    col("Component", &["component"], Role::Dim("component"), true),
    col("Demographic", &["demographic"], Role::Dim("demographic"), true),
    col("Citizenship Grouping", &["citizenship grouping"], Role::Citizenship, true),
    col("Title of Authority", &["title of authority"], Role::Dim("title_of_authority"), true),
    col("Encounter Type", &["encounter type"], Role::Dim("encounter_type"), true),
    col("Encounter Count", &["encounter count"], Role::Count, true),
];

const NATIONWIDE_COLUMNS: &[Col] = &[
    col("Fiscal Year", &["fiscal year"], Role::FiscalYear, true),
    col("Month Grouping", &["month grouping"], Role::Ignored, false),
    col("Month (abbv)", &["month (abbv)", "month"], Role::Month, true),
    col("Component", &["component"], Role::Dim("component"), false),
    col("Land Border Region", &["land border region"], Role::Dim("land_border_region"), true),
    col("State", &["state"], Role::Dim("us_state"), true),
    col("Demographic", &["demographic"], Role::Dim("demographic"), true),
    col("Citizenship", &["citizenship"], Role::Citizenship, true),
    col("Title of Authority", &["title of authority"], Role::Dim("title_of_authority"), true),
    col("Encounter Type", &["encounter type"], Role::Dim("encounter_type"), false),
    col("Encounter Count", &["encounter count"], Role::Count, true),
];

/// Reads a CBP Southwest Land Border encounters CSV (see the module doc).
pub fn parse_southwest_border(file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    parse_with(file_name, bytes, SWB_COLUMNS, southwest_border_series())
}

/// Reads a CBP Nationwide encounters CSV (see the module doc).
pub fn parse_nationwide(file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    parse_with(file_name, bytes, NATIONWIDE_COLUMNS, nationwide_series())
}

/// `2024` or `2025 (FYTD)` → 2024 / 2025.
pub(crate) fn fiscal_year(raw: &str) -> Option<i32> {
    let s = raw.trim();
    let s = match s.len().checked_sub(6).and_then(|i| s.get(i..)) {
        Some(tail) if tail.eq_ignore_ascii_case("(FYTD)") => s[..s.len() - 6].trim_end(),
        _ => s,
    };
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `OCT`, `Oct`, `October` → 10.
pub(crate) fn month_number(raw: &str) -> Option<u8> {
    let s = raw.trim().to_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == s || (s.len() == 3 && m.starts_with(&s)) || (s == "sept" && *m == "september"))
        .and_then(|i| u8::try_from(i + 1).ok())
}

fn parse_with(file: &str, bytes: &[u8], spec: &'static [Col], series: StatSeries) -> Result<Parsed, StatsError> {
    let text = text::decode(file, bytes)?;
    let records = text::records(file, text)?;
    let mut out = Collector::new(file, None);
    let mut it = records.into_iter();
    let header = loop {
        match it.next() {
            Some((skipped, r)) if r.is_blank() => out.parsed.blank_rows += skipped + 1,
            Some((skipped, r)) => {
                out.parsed.blank_rows += skipped;
                break r;
            }
            None => return Err(StatsError::Empty { file: file.to_owned() }),
        }
    };
    let keys: Vec<String> = header.cells.iter().map(|c| header_key(c)).collect();
    let mut roles: Vec<Option<&Col>> = vec![None; keys.len()];
    let mut missing = Vec::new();
    for c in spec {
        match keys.iter().position(|k| c.keys.contains(&k.as_str())) {
            Some(i) => roles[i] = Some(c),
            None if c.required => missing.push(c.name.to_owned()),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(StatsError::MissingColumns {
            file: file.to_owned(),
            sheet: None,
            missing,
            found: header.cells.iter().map(|c| c.trim().to_owned()).collect(),
        });
    }
    for (i, r) in roles.iter().enumerate() {
        if r.is_none() {
            let name = header.cells[i].trim();
            out.diag(
                Severity::Warning,
                "extra-column",
                format!("column {} ({name:?}) is not a column of this format; ignored", i + 1),
                header.line,
                i as u64 + 1,
                Some(name),
            );
        }
    }
    let width = keys.len();
    let mut country_cache: HashMap<String, Option<CountryCode>> = HashMap::new();
    for (skipped, rec) in it {
        out.parsed.blank_rows += skipped;
        if rec.is_blank() {
            out.parsed.blank_rows += 1;
            continue;
        }
        out.parsed.rows_read += 1;
        let line = rec.line;
        if rec.cells.len() < width || rec.cells[width..].iter().any(|c| !c.trim().is_empty()) {
            out.diag(
                Severity::Error,
                "ragged-row",
                format!("row {line} has {} fields, the header has {width}; the row is not stored", rec.cells.len()),
                line,
                0,
                None,
            );
            continue;
        }
        let mut ok = true;
        let (mut fy, mut month, mut place, mut value) = (None, None, None, None);
        let mut dis = Disaggregation::new();
        for (i, role) in roles.iter().enumerate() {
            let Some(c) = role else { continue };
            let raw = rec.cells[i].trim();
            let column = i as u64 + 1;
            let head = header.cells[i].trim();
            let mut err = |out: &mut Collector, code: &str, msg: String| {
                out.diag(Severity::Error, code, msg, line, column, Some(head));
                ok = false;
            };
            match c.role {
                Role::FiscalYear => match fiscal_year(raw) {
                    Some(y) => fy = Some(y),
                    None => err(
                        &mut out,
                        "invalid-period",
                        format!("fiscal year {raw:?} in column {column} ({head}): expected YYYY or YYYY (FYTD)"),
                    ),
                },
                Role::Month => match month_number(raw) {
                    Some(m) => month = Some(m),
                    None => err(
                        &mut out,
                        "invalid-period",
                        format!("month {raw:?} in column {column} ({head}): expected OCT..SEP"),
                    ),
                },
                Role::Citizenship => {
                    if raw.eq_ignore_ascii_case("other") {
                        place = Some(Place::Other("Other".to_owned()));
                    } else {
                        let code = *country_cache.entry(raw.to_owned()).or_insert_with(|| country_from_name(raw));
                        match code {
                            Some(cc) => place = Some(Place::Country(cc)),
                            None => err(&mut out, "unknown-country", country_message(raw, column, head)),
                        }
                    }
                }
                Role::Count => match parse_number(raw) {
                    Ok(v) => value = Some(v),
                    Err(why) => err(&mut out, "invalid-number", number_message(raw, column, head, &why)),
                },
                Role::Dim(key) => {
                    if raw.is_empty() {
                        err(
                            &mut out,
                            "missing-value",
                            format!("empty {head} in column {column}; the row is not stored"),
                        );
                    } else {
                        dis.insert(key.to_owned(), raw.to_owned());
                    }
                }
                Role::Ignored => {}
            }
        }
        let period = match (fy, month) {
            (Some(fy), Some(m)) => {
                let p = Period::fiscal_month(fy, m);
                if p.is_none() {
                    out.diag(
                        Severity::Error,
                        "invalid-period",
                        format!("fiscal year {fy} month {m} is out of range"),
                        line,
                        0,
                        None,
                    );
                }
                p
            }
            _ => None,
        };
        if let (true, Some(period), Some(place), Some(value)) = (ok, period, place, value) {
            out.push(&series.code, place, period, dis, value, line);
        }
    }
    let mut parsed = out.finish();
    parsed.series.push(series);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_and_months() {
        assert_eq!(fiscal_year("2024"), Some(2024));
        assert_eq!(fiscal_year("2025 (FYTD)"), Some(2025));
        assert_eq!(fiscal_year("2025 (fytd)"), Some(2025));
        assert_eq!(fiscal_year("FY25"), None);
        assert_eq!(fiscal_year(""), None);
        assert_eq!(month_number("OCT"), Some(10));
        assert_eq!(month_number("sep"), Some(9));
        assert_eq!(month_number("September"), Some(9));
        assert_eq!(month_number("13"), None);
        assert_eq!(month_number("MA"), None);
    }
}

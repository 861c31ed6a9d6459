//! DHS Office of Homeland Security Statistics (OHSS) "KHSM Encounters (USBP)" workbook
//! (`khsm-encounters-usbp-fy25m11.xlsx`), sheet **Monthly Citizenship**, series [`SERIES`]
//! (`ohss-usbp-encounters`).
//!
//! What the workbook holds (inspected): 16 sheets (Annual/Monthly Count, Citizenship, Region,
//! Family Status, Sector, and Region crossed with the last three). Sheets have no title rows and
//! no notes: row 1 is the header. Monthly Citizenship's header is `Fiscal Year` (written
//! `Fiscal⏎Year`), `Month` (`01 October` .. `12 September`), `Citizenship`, `Quantity`; one row
//! per fiscal year × month × citizenship, FY2000 to FY2025 month 2 (November 2024) in this file.
//! Scope: U.S. Border Patrol encounters in **all regions** (the Region sheets split them into
//! Southwest Land Border, Northern Land Border and Coastal Border), i.e. nationwide USBP, not
//! only the southwest border; OHSS rounds every count to the nearest 10.
//!
//! Reading: the header row is located by content (the first row, among the first 50, that has
//! all four headers, case and spacing ignored), so title rows above it are skipped; blank rows
//! are skipped and counted; a row with a single text cell after the data (a note or source
//! line) is skipped with one `note-rows` Warning. Extra columns → Warning `extra-column`.
//! A missing sheet (e.g. renamed) or column → [`StatsError`] naming it and listing what was found.
//! Other sheets are ignored.
//! - period: `Fiscal Year` + `Month` (its name; a leading number must be its fiscal-month order,
//!   01 = October) → [`Period::fiscal_month`];
//! - place: `Citizenship` → country. `Unknown` (encounters whose citizenship was not recorded,
//!   the workbook's own category) → `Place::Other("Unknown")`: kept so that totals stay complete,
//!   never guessed into a country. A former country without a current ISO code (a name ending
//!   in `(former)`: `Serbia and Montenegro (former)`) is kept the same way, as the residual
//!   place `other:Serbia and Montenegro (former)` (like CBP's `Other`: in totals over every
//!   place, never in a country's), with one `former-country` Warning per name and file; any
//!   other name that does not resolve is an `unknown-country` error, not stored;
//! - value: `Quantity`; a numeric cell is read through its shortest decimal text (`10`), a text
//!   cell by the [`crate::number`] rule: suppression marks (`D`, `-`, `*`) are refused, never 0;
//! - disaggregation: none.

use crate::cbp::{fiscal_year, month_number};
use crate::countries::country_from_name;
use crate::number::parse_number;
use crate::text::header_key;
use crate::{Collector, Parsed, StatsError, country_message, number_message};
use calamine::{Data, Reader, Xlsx};
use senda_core::observation::Disaggregation;
use senda_core::{CountryCode, Period, Place, Severity, StatSeries};
use std::collections::HashMap;
use std::io::Cursor;

/// Series code of the OHSS USBP monthly encounters by citizenship.
pub const SERIES: &str = "ohss-usbp-encounters";

/// The sheet read.
pub const SHEET: &str = "Monthly Citizenship";

/// The series (unit: encounters).
pub fn series() -> StatSeries {
    StatSeries {
        code: SERIES.to_owned(),
        name: "U.S. Border Patrol encounters, nationwide (all borders), by citizenship".to_owned(),
        name_es: "Encuentros de la Patrulla Fronteriza de EE. UU., a nivel nacional (todas las fronteras), por ciudadanía"
            .to_owned(),
        unit: "encounters".to_owned(),
        source: "DHS Office of Homeland Security Statistics (OHSS), KHSM Encounters (USBP), sheet Monthly Citizenship: \
                 U.S. Border Patrol, all regions (Southwest Land, Northern Land, Coastal); counts rounded to the nearest 10"
            .to_owned(),
    }
}

const COLUMNS: [(&str, &str); 4] =
    [("Fiscal Year", "fiscal year"), ("Month", "month"), ("Citizenship", "citizenship"), ("Quantity", "quantity")];

/// A cell as text: strings as written, numbers through their shortest decimal text (`2000`,
/// `10`, `0.5`), empty as `""`.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// `01 October`, `October`, `OCT` → 10; a leading number must agree with the name (01 = October).
fn ohss_month(raw: &str) -> Option<u8> {
    let s = raw.trim();
    let (num, name) = match s.split_once(' ') {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => (Some(n), rest),
        _ => (None, s),
    };
    let m = month_number(name)?;
    match num.map(str::parse::<u32>) {
        None => Some(m),
        Some(Ok(n)) if (1..=12).contains(&n) && (n + 8) % 12 + 1 == u32::from(m) => Some(m),
        _ => None,
    }
}

/// Most bytes a workbook may unpack to (all its zip entries together). The OHSS workbook
/// unpacks to a few MB; a small file that unpacks to gigabytes (a "zip bomb") is refused before
/// anything is decompressed.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;

/// Refuses a workbook whose entries declare more than [`MAX_UNPACKED_BYTES`] in total (the zip
/// reader also stops at each entry's declared size, so a lying header cannot exceed it).
fn check_unpacked_size(file_name: &str, bytes: &[u8]) -> Result<(), StatsError> {
    check_unpacked_size_below(file_name, bytes, MAX_UNPACKED_BYTES)
}

fn check_unpacked_size_below(file_name: &str, bytes: &[u8], max: u64) -> Result<(), StatsError> {
    let zerr = |m: String| StatsError::Xlsx { file: file_name.to_owned(), message: m };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zerr(e.to_string()))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| zerr(e.to_string()))?;
        total = total.saturating_add(entry.size());
    }
    if total > max {
        return Err(zerr(format!(
            "it unpacks to {total} bytes, more than the {} MiB Senda reads from a workbook",
            max >> 20
        )));
    }
    Ok(())
}

/// Reads the workbook (see the module doc).
pub fn parse_workbook(file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    let xerr = |e: calamine::XlsxError| StatsError::Xlsx { file: file_name.to_owned(), message: e.to_string() };
    if bytes.is_empty() {
        return Err(StatsError::Empty { file: file_name.to_owned() });
    }
    check_unpacked_size(file_name, bytes)?;
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(xerr)?;
    let names = wb.sheet_names();
    let Some(sheet) = names.iter().find(|n| header_key(n) == header_key(SHEET)).cloned() else {
        return Err(StatsError::MissingSheet { file: file_name.to_owned(), sheet: SHEET.to_owned(), found: names });
    };
    let range = wb.worksheet_range(&sheet).map_err(xerr)?;
    let (row0, col0) = range.start().map(|(r, c)| (u64::from(r), u64::from(c))).unwrap_or((0, 0));
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
    let mut out = Collector::new(file_name, Some(&sheet));

    // Header row: by content.
    let mut best: Option<(usize, usize)> = None; // (row index, headers matched)
    let mut header_at = None;
    for (i, r) in rows.iter().enumerate().take(50) {
        let keys: Vec<String> = r.iter().map(|c| header_key(c)).collect();
        let n = COLUMNS.iter().filter(|(_, k)| keys.iter().any(|x| x == k)).count();
        if n == COLUMNS.len() {
            header_at = Some(i);
            break;
        }
        if n > best.map_or(0, |b| b.1) {
            best = Some((i, n));
        }
    }
    let Some(h) = header_at else {
        let (found, missing) = match best {
            Some((i, _)) => {
                let keys: Vec<String> = rows[i].iter().map(|c| header_key(c)).collect();
                let missing =
                    COLUMNS.iter().filter(|(_, k)| !keys.contains(&k.to_string())).map(|(n, _)| n.to_string());
                (rows[i].iter().filter(|c| !c.trim().is_empty()).cloned().collect(), missing.collect())
            }
            None => (
                rows.iter().find(|r| r.iter().any(|c| !c.trim().is_empty())).cloned().unwrap_or_default(),
                COLUMNS.iter().map(|(n, _)| n.to_string()).collect(),
            ),
        };
        return Err(StatsError::MissingColumns { file: file_name.to_owned(), sheet: Some(sheet), missing, found });
    };
    let header = &rows[h];
    let keys: Vec<String> = header.iter().map(|c| header_key(c)).collect();
    let idx: Vec<usize> = COLUMNS.iter().filter_map(|(_, k)| keys.iter().position(|x| x == k)).collect();
    let (c_fy, c_month, c_cit, c_qty) = (idx[0], idx[1], idx[2], idx[3]);
    let header_line = row0 + h as u64 + 1;
    for (i, k) in keys.iter().enumerate() {
        if !k.is_empty() && !idx.contains(&i) {
            out.diag(
                Severity::Warning,
                "extra-column",
                format!(
                    "column {} ({:?}) is not a column of this sheet's format; ignored",
                    col0 + i as u64 + 1,
                    header[i]
                ),
                header_line,
                col0 + i as u64 + 1,
                Some(&header[i]),
            );
        }
    }
    let name = |i: usize| header[i].split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cache: HashMap<String, Option<CountryCode>> = HashMap::new();
    let mut former_seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let s = series();
    let mut notes: Vec<u64> = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(h + 1) {
        let line = row0 + i as u64 + 1;
        let filled: Vec<&String> = r.iter().filter(|c| !c.trim().is_empty()).collect();
        if filled.is_empty() {
            out.parsed.blank_rows += 1;
            continue;
        }
        if filled.len() == 1 && fiscal_year(filled[0]).is_none() && out.parsed.rows_read > 0 {
            notes.push(line);
            continue;
        }
        out.parsed.rows_read += 1;
        let get = |c: usize| r.get(c).map(|s| s.trim()).unwrap_or("");
        let col = |c: usize| col0 + c as u64 + 1;
        let mut ok = true;
        let fy = fiscal_year(get(c_fy));
        if fy.is_none() {
            let raw = get(c_fy);
            out.diag(
                Severity::Error,
                "invalid-period",
                format!("fiscal year {raw:?} in column {} ({}): expected YYYY", col(c_fy), name(c_fy)),
                line,
                col(c_fy),
                Some(&name(c_fy)),
            );
            ok = false;
        }
        let month = ohss_month(get(c_month));
        if month.is_none() {
            let raw = get(c_month);
            out.diag(
                Severity::Error,
                "invalid-period",
                format!(
                    "month {raw:?} in column {} ({}): expected 01 October .. 12 September",
                    col(c_month),
                    name(c_month)
                ),
                line,
                col(c_month),
                Some(&name(c_month)),
            );
            ok = false;
        }
        let raw = get(c_cit);
        let place = match *cache.entry(raw.to_owned()).or_insert_with(|| country_from_name(raw)) {
            Some(cc) => Some(Place::Country(cc)),
            None if raw.trim().eq_ignore_ascii_case("unknown") => Some(Place::Other("Unknown".to_owned())),
            None if is_former_country(raw) => {
                let former = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                if former_seen.insert(former.clone()) {
                    out.diag(
                        Severity::Warning,
                        "former-country",
                        format!(
                            "{former:?} in column {} ({}) has no current ISO 3166 code: kept as the residual place other:{former}, counted in totals over every place, never in a country's",
                            col(c_cit),
                            name(c_cit)
                        ),
                        line,
                        col(c_cit),
                        Some(&name(c_cit)),
                    );
                }
                Some(Place::Other(former))
            }
            None => {
                out.diag(
                    Severity::Error,
                    "unknown-country",
                    country_message(raw, col(c_cit), &name(c_cit)),
                    line,
                    col(c_cit),
                    Some(&name(c_cit)),
                );
                None
            }
        };
        let raw = get(c_qty);
        let value = match parse_number(raw) {
            Ok(v) => Some(v),
            Err(why) => {
                out.diag(
                    Severity::Error,
                    "invalid-number",
                    number_message(raw, col(c_qty), &name(c_qty), &why),
                    line,
                    col(c_qty),
                    Some(&name(c_qty)),
                );
                None
            }
        };
        let period = fy.zip(month).and_then(|(y, m)| Period::fiscal_month(y, m));
        if let (true, Some(period), Some(place), Some(value)) = (ok, period, place, value) {
            out.push(&s.code, place, period, Disaggregation::new(), value, line);
        }
    }
    if let Some(first) = notes.first() {
        out.diag(
            Severity::Warning,
            "note-rows",
            format!(
                "{} row(s) with a single text cell after the data (notes), first at row {first}; skipped",
                notes.len()
            ),
            *first,
            0,
            None,
        );
    }
    let mut parsed = out.finish();
    parsed.series.push(s);
    Ok(parsed)
}

/// A former country named as OHSS names them: text ending in `(former)`, any case.
fn is_former_country(raw: &str) -> bool {
    let t = raw.trim();
    t.len() > "(former)".len() && t.to_ascii_lowercase().ends_with("(former)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_with_their_order() {
        assert_eq!(ohss_month("01 October"), Some(10));
        assert_eq!(ohss_month("03 December"), Some(12));
        assert_eq!(ohss_month("04 January"), Some(1));
        assert_eq!(ohss_month("12 September"), Some(9));
        assert_eq!(ohss_month("October"), Some(10));
        assert_eq!(ohss_month("02 October"), None);
        assert_eq!(ohss_month("13"), None);
    }

    #[test]
    fn a_workbook_that_unpacks_beyond_the_limit_is_refused_before_reading() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let _ = ws.set_name(SHEET);
        for r in 0..200u32 {
            let _ = ws.write_string(r, 0, "a cell of text that repeats and compresses well");
        }
        let bytes = wb.save_to_buffer().expect("xlsx");
        assert!(check_unpacked_size_below("w.xlsx", &bytes, MAX_UNPACKED_BYTES).is_ok());
        let err = check_unpacked_size_below("w.xlsx", &bytes, 1024).expect_err("over the limit");
        assert!(err.to_string().contains("unpacks to"), "{err}");
        assert_eq!(err.code(), "invalid-xlsx");
    }
}

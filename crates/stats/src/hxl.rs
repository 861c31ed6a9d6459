//! HXL (Humanitarian Exchange Language) CSV: a generic reader ([`read_hxl`] → [`HxlTable`])
//! and the statistics import built on it ([`parse_statistics`]).
//!
//! **Reader rules** ([`read_hxl`]):
//! - the hashtag row is the first non-blank row in which every non-empty cell starts with `#`;
//!   rows above it (blank rows, a human header row, titles) are not data; the last non-blank
//!   one is kept as the column labels;
//! - a tag is `#hashtag` followed by zero or more `+attribute`s, spaces around `+` allowed,
//!   any case (kept lowercase). Hashtag and attributes must match `[a-z][a-z0-9_]*`: an invalid
//!   one (`+2020`, `#adm1+name-es`, `#`, `#country+`) is a Warning `invalid-hxl-tag` naming the
//!   column (number and text); that column is left untagged (`None`), the rest is read. An empty
//!   cell in the hashtag row is an untagged column, without warning;
//! - blank rows (empty lines or rows of empty cells) before and among the data are skipped and
//!   counted in [`HxlTable::blank_rows`];
//! - a row with fewer fields than the hashtag row, or with non-empty fields beyond it, is an
//!   Error `ragged-row` and is left out; trailing empty fields are dropped, so every row in
//!   [`HxlTable::rows`] has exactly `columns.len()` cells (as written, not trimmed).
//!
//! **Statistics import** ([`parse_statistics`]), one observation per data row:
//! - `#date` → period: `2023-10` (month), `2023-Q4`, `FY2024`, `2023`; a day date `2023-10-15`
//!   is read as its month with a Warning `day-date`; anything else is an Error `invalid-period`;
//! - place: `#country+code` (ISO alpha-2 or alpha-3) or else `#country+name` (or a bare
//!   `#country`), resolved by [`crate::countries`]; unknown → Error `unknown-country`;
//!   optional `#adm1+code` (ISO 3166-2, checked against the department list for GT, HN, SV, and
//!   by shape and country prefix elsewhere) or `#adm1+name` (resolved within the row's country;
//!   GT, HN, SV only): the place is then that department; unknown → Error `unknown-admin1`;
//!   an empty department cell means the country as a whole;
//! - series: `#indicator+code`; the first time a code is seen it gets a [`StatSeries`] named by
//!   `#indicator+name` (else the code; the Spanish name is the same), unit `#indicator+unit`
//!   (else `value`), source = the file name;
//! - value: `#indicator+value` or `#value`, by the [`crate::number`] rule;
//! - any other tagged column `#x+...` is the disaggregation dimension `x` (`#sex` → `sex`,
//!   `#population+type` → `population`); when two columns share a hashtag, the later one is
//!   `x_attr1_attr2` (`#population+group` → `population_group`). An empty cell leaves the
//!   dimension out of that row's key (the total over it). Other columns of the consumed
//!   hashtags (`#date+start`, `#country+iso`, ...) are ignored with a Warning.
//!
//! Missing `#date`, a country column, `#indicator+code` or a value column → [`StatsError::MissingColumns`].

use crate::countries::{admin1_from_name, country_from_name};
use crate::number::parse_number;
use crate::text;
use crate::{Collector, Parsed, StatsError, country_message, number_message};
use senda_core::observation::Disaggregation;
use senda_core::{CountryCode, Diagnostic, Period, Place, Severity, StatSeries};
use std::collections::HashMap;
use std::fmt;

/// One parsed HXL tag: `#country+code` → hashtag `country`, attributes `["code"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HxlTag {
    /// The hashtag, lowercase, without `#`.
    pub hashtag: String,
    /// The attributes in written order, lowercase, without `+`.
    pub attributes: Vec<String>,
}

fn valid_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

impl HxlTag {
    /// Parses one hashtag-row cell (`#Country +Code` is `#country+code`). `Err` gives the reason.
    pub fn parse(raw: &str) -> Result<HxlTag, String> {
        let s = raw.trim();
        let Some(rest) = s.strip_prefix('#') else {
            return Err("does not start with #".to_owned());
        };
        let mut parts = rest.split('+').map(|p| p.trim().to_lowercase());
        let hashtag = parts.next().unwrap_or_default();
        if !valid_name(&hashtag) {
            return Err(format!("hashtag {hashtag:?} is not a letter followed by letters, digits or _"));
        }
        let mut attributes = Vec::new();
        for a in parts {
            if !valid_name(&a) {
                return Err(format!(
                    "attribute {:?} is not a letter followed by letters, digits or _",
                    format!("+{a}")
                ));
            }
            attributes.push(a);
        }
        Ok(HxlTag { hashtag, attributes })
    }

    /// Whether the tag has attribute `attr` (lowercase, without `+`).
    pub fn has(&self, attr: &str) -> bool {
        self.attributes.iter().any(|a| a == attr)
    }

    /// Whether the hashtag is `hashtag` (lowercase, without `#`).
    pub fn is(&self, hashtag: &str) -> bool {
        self.hashtag == hashtag
    }
}

impl fmt::Display for HxlTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.hashtag)?;
        for a in &self.attributes {
            write!(f, "+{a}")?;
        }
        Ok(())
    }
}

/// An HXL CSV as read by [`read_hxl`] (rules in the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct HxlTable {
    /// One entry per column of the hashtag row: its tag, or `None` (empty or invalid).
    pub columns: Vec<Option<HxlTag>>,
    /// Data rows: (1-based line of the row in the file, cells as written), each with exactly
    /// `columns.len()` cells.
    pub rows: Vec<(u64, Vec<String>)>,
    /// Blank rows skipped, before the hashtag row and among the data.
    pub blank_rows: u64,
    /// Warnings (invalid tags) and errors (ragged rows) found while reading.
    pub diagnostics: Vec<Diagnostic>,
    /// 1-based line of the hashtag row.
    pub hashtag_line: u64,
    /// The human header row just above the hashtag row (trimmed), or empty strings.
    pub labels: Vec<String>,
}

impl HxlTable {
    /// Index of the first column whose tag satisfies `pred`.
    pub fn find(&self, pred: impl Fn(&HxlTag) -> bool) -> Option<usize> {
        self.columns.iter().position(|c| c.as_ref().is_some_and(&pred))
    }
}

/// Whether a record is a hashtag row: some non-empty cell, and every non-empty one starts with `#`.
pub(crate) fn is_hashtag_row(r: &text::Record) -> bool {
    let filled: Vec<&str> = r.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    !filled.is_empty() && filled.iter().all(|c| c.starts_with('#'))
}

/// Most columns an HXL table may have (a statistics table has a handful; thousands of tagged
/// columns are a broken or hostile file, and each becomes a disaggregation).
pub const MAX_COLUMNS: usize = 1000;

/// Reads an HXL-tagged CSV (rules in the module doc). Errors: empty, not UTF-8, unreadable
/// CSV, or no hashtag row ([`StatsError::MissingColumns`]).
pub fn read_hxl(file_name: &str, bytes: &[u8]) -> Result<HxlTable, StatsError> {
    let text = text::decode(file_name, bytes)?;
    let records = text::records(file_name, text)?;
    let mut blank = 0u64;
    let mut labels: Vec<String> = Vec::new();
    let mut it = records.into_iter();
    let tags = loop {
        match it.next() {
            Some((skipped, r)) => {
                blank += skipped;
                if r.is_blank() {
                    blank += 1;
                } else if is_hashtag_row(&r) {
                    break r;
                } else {
                    labels = r.cells.iter().map(|c| c.trim().to_owned()).collect();
                }
            }
            None => {
                return Err(StatsError::MissingColumns {
                    file: file_name.to_owned(),
                    sheet: None,
                    missing: vec!["HXL hashtag row (a row where every non-empty cell starts with #)".to_owned()],
                    found: labels,
                });
            }
        }
    };
    let width = tags.cells.len();
    if width > MAX_COLUMNS {
        return Err(StatsError::Csv {
            file: file_name.to_owned(),
            message: format!(
                "the hashtag row on line {} has {width} columns, more than the {MAX_COLUMNS} Senda reads",
                tags.line
            ),
        });
    }
    labels.resize(width, String::new());
    let mut diagnostics = Vec::new();
    let diag = |severity, code: &str, message: String, line, column, element: Option<String>| Diagnostic {
        severity,
        code: code.to_owned(),
        message,
        file: file_name.to_owned(),
        line,
        column,
        identifier: None,
        element,
    };
    let mut columns = Vec::with_capacity(width);
    for (i, cell) in tags.cells.iter().enumerate() {
        let t = cell.trim();
        if t.is_empty() {
            columns.push(None);
            continue;
        }
        match HxlTag::parse(t) {
            Ok(tag) => columns.push(Some(tag)),
            Err(why) => {
                diagnostics.push(diag(
                    Severity::Warning,
                    "invalid-hxl-tag",
                    format!("column {} has an invalid HXL tag {t:?}: {why}; the column is not imported", i + 1),
                    tags.line,
                    i as u64 + 1,
                    Some(t.to_owned()),
                ));
                columns.push(None);
            }
        }
    }
    let mut rows = Vec::new();
    for (skipped, mut r) in it {
        blank += skipped;
        if r.is_blank() {
            blank += 1;
            continue;
        }
        if r.cells.len() < width || r.cells[width..].iter().any(|c| !c.trim().is_empty()) {
            diagnostics.push(diag(
                Severity::Error,
                "ragged-row",
                format!(
                    "row {} has {} fields, the hashtag row has {width}; the row is not stored",
                    r.line,
                    r.cells.len()
                ),
                r.line,
                0,
                None,
            ));
            continue;
        }
        r.cells.truncate(width);
        rows.push((r.line, r.cells));
    }
    Ok(HxlTable { columns, rows, blank_rows: blank, diagnostics, hashtag_line: tags.line, labels })
}

/// `#date` text → period, and whether it was a day date read as its month.
fn hxl_period(raw: &str) -> Option<(Period, bool)> {
    if let Ok(p) = Period::parse(raw) {
        return Some((p, false));
    }
    let s = raw.trim();
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10) {
        let y: i32 = s[0..4].parse().ok()?;
        let m: u8 = s[5..7].parse().ok()?;
        let d: u8 = s[8..10].parse().ok()?;
        let month = time::Month::try_from(m).ok()?;
        time::Date::from_calendar_date(y, month, d).ok()?;
        return Period::month(y, m).map(|p| (p, true));
    }
    None
}

/// Reads an HXL-tagged statistics CSV into observations (rules in the module doc).
pub fn parse_statistics(file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    let table = read_hxl(file_name, bytes)?;
    let col = |h: &str, a: Option<&str>| table.find(|t| t.is(h) && a.is_none_or(|a| t.has(a)));
    let date = col("date", None);
    let country_code = col("country", Some("code"));
    let country_name =
        col("country", Some("name")).or_else(|| table.find(|t| t.is("country") && t.attributes.is_empty()));
    let adm1_code = col("adm1", Some("code"));
    let adm1_name = col("adm1", Some("name")).or_else(|| table.find(|t| t.is("adm1") && t.attributes.is_empty()));
    let ind_code = col("indicator", Some("code"));
    let ind_name = col("indicator", Some("name"));
    let ind_unit = col("indicator", Some("unit"));
    let value = col("indicator", Some("value")).or_else(|| col("value", None));
    let has_country = country_code.is_some() || country_name.is_some();
    let (Some(date), Some(ind_code), Some(value), true) = (date, ind_code, value, has_country) else {
        let missing = [
            (date.is_none(), "#date"),
            (!has_country, "#country+code or #country+name"),
            (ind_code.is_none(), "#indicator+code"),
            (value.is_none(), "#indicator+value or #value"),
        ];
        return Err(StatsError::MissingColumns {
            file: file_name.to_owned(),
            sheet: None,
            missing: missing.iter().filter(|(m, _)| *m).map(|(_, t)| (*t).to_owned()).collect(),
            found: table.columns.iter().flatten().map(|t| t.to_string()).collect(),
        });
    };
    let mut out = Collector::new(file_name, None);
    out.parsed.diagnostics = table.diagnostics.clone();
    out.parsed.blank_rows = table.blank_rows;
    let used =
        [Some(date), country_code, country_name, adm1_code, adm1_name, Some(ind_code), ind_name, ind_unit, Some(value)];
    let mut dims: Vec<(usize, String)> = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let Some(tag) = c else { continue };
        if used.contains(&Some(i)) {
            continue;
        }
        let element = Some(tag.to_string());
        if ["date", "country", "adm1", "indicator", "value"].contains(&tag.hashtag.as_str()) {
            out.diag(
                Severity::Warning,
                "ignored-column",
                format!("column {} ({tag}) repeats or qualifies a column already read; ignored", i + 1),
                table.hashtag_line,
                i as u64 + 1,
                element.as_deref(),
            );
            continue;
        }
        let mut key = tag.hashtag.clone();
        if dims.iter().any(|(_, k)| *k == key) {
            key = std::iter::once(tag.hashtag.as_str())
                .chain(tag.attributes.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("_");
        }
        if dims.iter().any(|(_, k)| *k == key) {
            out.diag(
                Severity::Warning,
                "ignored-column",
                format!("column {} ({tag}) repeats the disaggregation {key:?} of another column; ignored", i + 1),
                table.hashtag_line,
                i as u64 + 1,
                element.as_deref(),
            );
            continue;
        }
        dims.push((i, key));
    }
    let tag_text = |i: usize| table.columns[i].as_ref().map(|t| t.to_string()).unwrap_or_default();
    let mut series: Vec<StatSeries> = Vec::new();
    let mut country_cache: HashMap<String, Option<CountryCode>> = HashMap::new();
    for (line, cells) in &table.rows {
        let line = *line;
        out.parsed.rows_read += 1;
        let get = |i: usize| cells[i].trim();
        let mut ok = true;
        let mut err = |out: &mut Collector, i: usize, code: &str, msg: String| {
            out.diag(Severity::Error, code, msg, line, i as u64 + 1, Some(&tag_text(i)));
            ok = false;
        };
        let period = match hxl_period(get(date)) {
            Some((p, day)) => {
                if day {
                    out.diag(
                        Severity::Warning,
                        "day-date",
                        format!("date {:?} in column {} read as its month {p}", get(date), date + 1),
                        line,
                        date as u64 + 1,
                        Some(&tag_text(date)),
                    );
                }
                Some(p)
            }
            None => {
                let raw = get(date);
                err(
                    &mut out,
                    date,
                    "invalid-period",
                    format!(
                        "date {raw:?} in column {}: expected YYYY-MM, YYYY-MM-DD, YYYY-Qn, FYYYYY or YYYY",
                        date + 1
                    ),
                );
                None
            }
        };
        let (ci, raw) = match country_code {
            Some(i) if !get(i).is_empty() || country_name.is_none() => (i, get(i)),
            _ => {
                let i = country_name.or(country_code).unwrap_or(0);
                (i, get(i))
            }
        };
        let by_code = Some(ci) == country_code;
        let country = *country_cache.entry(raw.to_owned()).or_insert_with(|| {
            if by_code {
                match raw.len() {
                    2 => CountryCode::parse(raw).ok(),
                    3 if raw.bytes().all(|b| b.is_ascii_alphabetic()) => country_from_name(raw),
                    _ => None,
                }
            } else {
                country_from_name(raw)
            }
        });
        if country.is_none() {
            err(&mut out, ci, "unknown-country", country_message(raw, ci as u64 + 1, &tag_text(ci)));
        }
        let mut place = country.map(Place::Country);
        if let Some(cc) = country {
            let adm = adm1_code
                .filter(|i| !get(*i).is_empty())
                .map(|i| (i, true))
                .or_else(|| adm1_name.filter(|i| !get(*i).is_empty()).map(|i| (i, false)));
            if let Some((i, is_code)) = adm {
                let raw = get(i);
                let code = if is_code {
                    crate::countries::canonical_admin1(cc, raw)
                } else {
                    admin1_from_name(cc, raw).map(str::to_owned)
                };
                match code {
                    Some(code) => place = Some(Place::Admin1 { country: cc, code }),
                    None => {
                        err(
                            &mut out,
                            i,
                            "unknown-admin1",
                            format!(
                                "department {raw:?} in column {} is not an ISO 3166-2 {} of {cc} that Senda knows \
                                 (department lists: GT, HN, SV); the row is not stored",
                                i + 1,
                                if is_code { "code" } else { "name" }
                            ),
                        );
                        place = None;
                    }
                }
            }
        }
        let code = get(ind_code);
        if code.is_empty() {
            err(
                &mut out,
                ind_code,
                "missing-value",
                format!("empty #indicator+code in column {}; the row is not stored", ind_code + 1),
            );
        } else if code.len() > crate::MAX_SERIES_CODE_BYTES {
            err(
                &mut out,
                ind_code,
                "key-too-long",
                format!(
                    "#indicator+code in column {} is {} bytes long, more than the {} a series code may have; \
                     the row is not stored",
                    ind_code + 1,
                    code.len(),
                    crate::MAX_SERIES_CODE_BYTES
                ),
            );
        }
        let raw = get(value);
        let v = match parse_number(raw) {
            Ok(v) => Some(v),
            Err(why) => {
                err(&mut out, value, "invalid-number", number_message(raw, value as u64 + 1, &tag_text(value), &why));
                None
            }
        };
        let mut dis = Disaggregation::new();
        for (i, key) in &dims {
            let v = get(*i);
            if !v.is_empty() {
                dis.insert(key.clone(), v.to_owned());
            }
        }
        if let (true, Some(period), Some(place), Some(v)) = (ok, period, place, v) {
            if !series.iter().any(|s| s.code == code) {
                let name = ind_name.map(get).filter(|n| !n.is_empty()).unwrap_or(code).to_owned();
                series.push(StatSeries {
                    code: code.to_owned(),
                    name: name.clone(),
                    name_es: name,
                    unit: ind_unit.map(get).filter(|u| !u.is_empty()).unwrap_or("value").to_owned(),
                    source: file_name.to_owned(),
                });
            }
            out.push(code, place, period, dis, v, line);
        }
    }
    let mut parsed = out.finish();
    parsed.series = series;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse() {
        let t = HxlTag::parse(" #Country +Code ").expect("tag");
        assert_eq!((t.hashtag.as_str(), t.attributes.as_slice()), ("country", &["code".to_owned()][..]));
        assert!(t.has("code") && !t.has("name") && t.is("country"));
        assert_eq!(t.to_string(), "#country+code");
        assert_eq!(HxlTag::parse("#population_group").map(|t| t.to_string()), Ok("#population_group".to_owned()));
        for bad in ["#", "#country+", "#reached+2020", "#adm1+name-es", "country", "#2020", "#país"] {
            assert!(HxlTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(hxl_period("2023-10").map(|(p, d)| (p.to_string(), d)), Some(("2023-10".to_owned(), false)));
        assert_eq!(hxl_period("2023-10-15").map(|(p, d)| (p.to_string(), d)), Some(("2023-10".to_owned(), true)));
        assert_eq!(hxl_period("FY2024").map(|(p, _)| p.to_string()), Some("FY2024".to_owned()));
        assert_eq!(hxl_period("2023-Q4").map(|(p, _)| p.to_string()), Some("2023-Q4".to_owned()));
        assert_eq!(hxl_period("2023").map(|(p, _)| p.to_string()), Some("2023".to_owned()));
        assert_eq!(hxl_period("2023-02-30"), None);
        assert_eq!(hxl_period("15/10/2023"), None);
    }
}

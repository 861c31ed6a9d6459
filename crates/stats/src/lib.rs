//! Migration statistics readers: CBP Southwest Land Border encounters (CSV), CBP Nationwide
//! encounters (CSV), the DHS OHSS "KHSM Encounters (USBP)" workbook (XLSX) and generic
//! HXL-tagged CSV. Each returns [`senda_core::Observation`]s (`kind = observed`) plus
//! [`Diagnostic`]s; the caller stores them.
//!
//! This crate reads the bytes it is given and nothing else: no file system, no SQL, no HTTP.
//!
//! Error policy (same as the IATI reader):
//! - [`StatsError`] is for the whole file (not a known format, not UTF-8, empty, a required
//!   sheet or column missing): nothing of the file is usable.
//! - Inside a file, a bad value (unknown country, a number the [`number`] rule refuses, a bad
//!   month, a ragged row) is an `Error` diagnostic naming the row (1-based, as a spreadsheet
//!   shows it), the column (1-based number, header text in `element`) and the value; that row is
//!   not stored and the rest of the file is. Nothing is guessed and no value is read as 0.
//! - Something understood but odd (an extra column, a day date read as its month, an invalid
//!   HXL hashtag) is a `Warning`.
//! - **Duplicates**: two rows with the same key (series, place, period, disaggregation) in one
//!   file: the LAST row read is kept (at the position of the first) and a `duplicate-key`
//!   Warning names both rows.
//!
//! Counting: `rows_read` = data rows (header, title and blank rows excluded) = observations
//! stored + rows rejected by an `Error` diagnostic + rows superseded as duplicates.

pub mod cbp;
pub mod countries;
mod country_names;
pub mod hxl;
pub mod number;
pub mod ohss;
pub mod results;
mod text;

use rust_decimal::Decimal;
use senda_core::observation::Disaggregation;
use senda_core::{Diagnostic, Observation, Period, Place, Severity, StatSeries, ValueKind};
use std::collections::HashMap;

pub use hxl::{HxlTable, HxlTag, read_hxl};

/// What a reader returns for one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The series the observations belong to (one per source; HXL: one per `#indicator+code`).
    pub series: Vec<StatSeries>,
    /// The values, in file order (a duplicate key keeps the first row's position, the last
    /// row's value).
    pub observations: Vec<Observation>,
    /// Warnings and row-level errors, in file order (duplicates appended as found).
    pub diagnostics: Vec<Diagnostic>,
    /// Data rows read (not the header, title, note or blank rows).
    pub rows_read: u64,
    /// Blank rows skipped (empty lines or rows of empty cells) among and before the data.
    pub blank_rows: u64,
}

impl Parsed {
    /// Number of diagnostics of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }
}

/// The formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CBP "Southwest Land Border Encounters" CSV ([`cbp`]).
    CbpSouthwestBorder,
    /// CBP "Nationwide Encounters" CSV by state ([`cbp`]).
    CbpNationwide,
    /// DHS OHSS "KHSM Encounters (USBP)" workbook, sheet "Monthly Citizenship" ([`ohss`]).
    OhssWorkbook,
    /// CSV with an HXL hashtag row ([`hxl`]).
    Hxl,
}

/// A file that cannot be read at all. `Display` names the file and what is wrong; [`StatsError::code`]
/// is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// Zero bytes, or only whitespace.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file as given.
        file: String,
    },
    /// Binary (a NUL byte) or not valid UTF-8.
    #[error("{file}: not UTF-8 text (invalid or binary byte at offset {offset}); save the file as UTF-8 CSV")]
    NotUtf8 {
        /// The file as given.
        file: String,
        /// Byte offset of the first bad byte.
        offset: u64,
    },
    /// Neither a known CSV header, nor an HXL hashtag row, nor an XLSX workbook.
    #[error(
        "{file}: not a known statistics format (CBP Southwest Land Border or Nationwide encounters CSV, \
         DHS OHSS workbook .xlsx, HXL-tagged CSV); first row found: {found}"
    )]
    UnknownFormat {
        /// The file as given.
        file: String,
        /// The first non-blank row, as read.
        found: String,
    },
    /// A workbook without the sheet the format needs.
    #[error("{file}: sheet {sheet:?} is missing; sheets found: {}", found.join(", "))]
    MissingSheet {
        /// The file as given.
        file: String,
        /// The sheet looked for.
        sheet: String,
        /// The sheets the workbook has.
        found: Vec<String>,
    },
    /// Required columns (or HXL hashtags) not in the header.
    #[error("{file}: missing column(s) {}{}; columns found: {}", missing.join(", "),
        sheet.as_ref().map(|s| format!(" in sheet {s:?}")).unwrap_or_default(), found.join(" | "))]
    MissingColumns {
        /// The file as given.
        file: String,
        /// The sheet, for a workbook.
        sheet: Option<String>,
        /// The required headers (or hashtags) not found.
        missing: Vec<String>,
        /// The headers (or hashtags) found.
        found: Vec<String>,
    },
    /// A CSV the CSV reader could not read.
    #[error("{file}: unreadable CSV: {message}")]
    Csv {
        /// The file as given.
        file: String,
        /// The CSV reader's message.
        message: String,
    },
    /// A workbook the XLSX reader could not read.
    #[error("{file}: unreadable XLSX workbook: {message}")]
    Xlsx {
        /// The file as given.
        file: String,
        /// The XLSX reader's message.
        message: String,
    },
}

impl StatsError {
    /// Stable code: `empty-file`, `not-utf8`, `unknown-format`, `missing-sheet`,
    /// `missing-column`, `invalid-csv`, `invalid-xlsx`.
    pub fn code(&self) -> &'static str {
        match self {
            StatsError::Empty { .. } => "empty-file",
            StatsError::NotUtf8 { .. } => "not-utf8",
            StatsError::UnknownFormat { .. } => "unknown-format",
            StatsError::MissingSheet { .. } => "missing-sheet",
            StatsError::MissingColumns { .. } => "missing-column",
            StatsError::Csv { .. } => "invalid-csv",
            StatsError::Xlsx { .. } => "invalid-xlsx",
        }
    }
}

fn is_xlsx(file_name: &str, head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") && file_name.to_ascii_lowercase().ends_with(".xlsx")
}

/// Which format `head` (the first bytes of the file, a few KB are enough) is in.
/// - XLSX: a zip (`PK\x03\x04`) named `*.xlsx` → [`Format::OhssWorkbook`];
/// - CSV whose first non-blank row has a `Citizenship Grouping` column → [`Format::CbpSouthwestBorder`];
///   one with `Citizenship` or `Land Border Region` → [`Format::CbpNationwide`] (so a file
///   missing another required column is still recognised, and its error names that column);
/// - CSV with a hashtag row in its first 25 non-blank rows → [`Format::Hxl`].
///
/// `None` otherwise (also for non-UTF-8 bytes).
pub fn detect(file_name: &str, head: &[u8]) -> Option<Format> {
    if is_xlsx(file_name, head) {
        return Some(Format::OhssWorkbook);
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A cut in the middle of a character at the end of `head` is fine.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return None;
    }
    let recs = text::records("", text).ok()?;
    let mut rows = recs.iter().map(|(_, r)| r).filter(|r| !r.is_blank());
    let first = rows.next()?;
    let keys: Vec<String> = first.cells.iter().map(|c| text::header_key(c)).collect();
    if keys.iter().any(|k| k == "citizenship grouping") {
        return Some(Format::CbpSouthwestBorder);
    }
    if keys.iter().any(|k| k == "citizenship" || k == "land border region") {
        return Some(Format::CbpNationwide);
    }
    std::iter::once(first).chain(rows).take(25).any(hxl::is_hashtag_row).then_some(Format::Hxl)
}

/// Reads a whole file (detecting its format with [`detect`]).
pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    match detect(file_name, bytes) {
        Some(f) => parse_as(f, file_name, bytes),
        None => {
            let text = text::decode(file_name, bytes)?;
            let found = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(200).collect();
            Err(StatsError::UnknownFormat { file: file_name.to_owned(), found })
        }
    }
}

/// Reads a whole file as `format` (no detection).
pub fn parse_as(format: Format, file_name: &str, bytes: &[u8]) -> Result<Parsed, StatsError> {
    match format {
        Format::CbpSouthwestBorder => cbp::parse_southwest_border(file_name, bytes),
        Format::CbpNationwide => cbp::parse_nationwide(file_name, bytes),
        Format::OhssWorkbook => ohss::parse_workbook(file_name, bytes),
        Format::Hxl => hxl::parse_statistics(file_name, bytes),
    }
}

type Key = (String, Place, Period, Disaggregation);

/// Longest statistic series code, in bytes (`#indicator+code`; Senda's own codes are a few
/// dozen bytes).
pub const MAX_SERIES_CODE_BYTES: usize = 200;

/// Longest place and disaggregation of a value's key together, in bytes. Every backend indexes
/// a value's key (series, place, period, disaggregation, kind); a PostgreSQL b-tree entry holds
/// about 2,700 bytes, so a longer key made the whole import fail there while SQLite stored it.
pub const MAX_KEY_BYTES: usize = 1000;

/// Builds a [`Parsed`]: diagnostics with the file name, duplicate keys, counts.
pub(crate) struct Collector {
    pub file: String,
    /// Sheet name for workbook diagnostics (`Diagnostic::identifier`).
    pub sheet: Option<String>,
    pub parsed: Parsed,
    index: HashMap<Key, usize>,
}

impl Collector {
    pub fn new(file: &str, sheet: Option<&str>) -> Self {
        Collector {
            file: file.to_owned(),
            sheet: sheet.map(str::to_owned),
            parsed: Parsed::default(),
            index: HashMap::new(),
        }
    }

    /// Adds a diagnostic at `line`:`column` (0 = unknown), `element` = the column header.
    pub fn diag(
        &mut self,
        severity: Severity,
        code: &str,
        message: String,
        line: u64,
        column: u64,
        element: Option<&str>,
    ) {
        self.parsed.diagnostics.push(Diagnostic {
            severity,
            code: code.to_owned(),
            message,
            file: self.file.clone(),
            line,
            column,
            identifier: self.sheet.clone(),
            element: element.map(str::to_owned),
        });
    }

    /// Stores an observed value, resolving a duplicate key (last row wins, with a warning).
    pub fn push(
        &mut self,
        series: &str,
        place: Place,
        period: Period,
        disaggregation: Disaggregation,
        value: Decimal,
        row: u64,
    ) {
        let key_bytes = place.to_string().len() + senda_core::observation::disaggregation_key(&disaggregation).len();
        if series.len() > MAX_SERIES_CODE_BYTES || key_bytes > MAX_KEY_BYTES {
            let message = format!(
                "the value's key is too long ({} bytes of series code, at most {MAX_SERIES_CODE_BYTES}; \
                 {key_bytes} bytes of place and disaggregation, at most {MAX_KEY_BYTES}); the row is not stored",
                series.len()
            );
            self.diag(Severity::Error, "key-too-long", message, row, 0, None);
            return;
        }
        let obs = Observation {
            series: series.to_owned(),
            place,
            period,
            disaggregation,
            kind: ValueKind::Observed,
            value,
            denominator: None,
            row,
        };
        let key: Key = (obs.series.clone(), obs.place.clone(), obs.period, obs.disaggregation.clone());
        if let Some(&i) = self.index.get(&key) {
            let old = &self.parsed.observations[i];
            let message = format!(
                "rows {} and {row} have the same key (series {}, place {}, period {}, disaggregation {:?}); \
                 row {row} (value {value}) replaces row {} (value {})",
                old.row,
                obs.series,
                obs.place,
                obs.period,
                senda_core::observation::disaggregation_key(&obs.disaggregation),
                old.row,
                old.value
            );
            self.parsed.observations[i] = obs;
            self.diag(Severity::Warning, "duplicate-key", message, row, 0, None);
        } else {
            self.index.insert(key, self.parsed.observations.len());
            self.parsed.observations.push(obs);
        }
    }

    pub fn finish(self) -> Parsed {
        self.parsed
    }
}

/// Text of a number-rule refusal, for diagnostics.
pub(crate) fn number_message(raw: &str, column: u64, header: &str, why: &number::NumberError) -> String {
    format!(
        "value {raw:?} in column {column} ({header}) refused: {why}; accepted forms: 1234, 1234.5, -3, 1,234; \
         the row is not stored (never read as 0)"
    )
}

/// Text of an unknown-country refusal, for diagnostics.
pub(crate) fn country_message(raw: &str, column: u64, header: &str) -> String {
    format!(
        "unknown country {raw:?} in column {column} ({header}): not an ISO 3166-1 name or code Senda knows; \
         the row is not stored"
    )
}

//! [`Diagnostic`]: one warning or error found while reading input, with where it was found.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a diagnostic is. An `Error` on an element drops that element's value (never
/// guessed); a `Fatal` rejects the whole file (nothing of it is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Understood, but not as the standard says (e.g. a 1.0x date in element text).
    Warning,
    /// A value was rejected; the rest of the activity is kept.
    Error,
    /// The file cannot be read (not well-formed, not IATI): nothing of it is imported.
    Fatal,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        })
    }
}

/// `column` value of a diagnostic whose `line` still holds a byte offset into the (decoded)
/// file; `senda_iati::resolve_positions` turns it into line and column.
pub const UNRESOLVED_COLUMN: u64 = u64::MAX;

/// One problem found in an input file. Shape: `file:line:column: severity [code] identifier
/// element: message`. `code` is stable and machine-readable (e.g. `invalid-date`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// Stable machine-readable code, kebab-case.
    pub code: String,
    /// Human message naming the offending value.
    pub message: String,
    /// The input file, as given on the command line.
    pub file: String,
    /// 1-based line of the element (0 when unknown).
    pub line: u64,
    /// 1-based column of the element (0 when unknown).
    pub column: u64,
    /// The `iati-identifier` of the activity, when inside one.
    pub identifier: Option<String>,
    /// The element path, e.g. `iati-activity/transaction/value`.
    pub element: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {} [{}]", self.file, self.line, self.column, self.severity, self.code)?;
        if let Some(id) = &self.identifier {
            write!(f, " {id}")?;
        }
        if let Some(el) = &self.element {
            write!(f, " <{el}>")?;
        }
        write!(f, ": {}", self.message)
    }
}

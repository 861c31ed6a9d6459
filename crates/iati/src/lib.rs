//! Streaming IATI activity reader (IATI 2.01-2.03 and 1.0x).
//!
//! [`ActivityReader`] reads one file with `quick-xml`, one `iati-activity` at a time: a file is
//! never held whole in memory. It returns [`senda_core::Activity`] values plus
//! [`senda_core::Diagnostic`]s and never touches a database. Parsing never stops at the first
//! problem inside an activity: a bad value becomes an error diagnostic and is not modelled (never
//! guessed); only a file that is not well-formed XML or not an IATI activity file is fatal.
//!
//! Nothing published is lost: what Senda does not model (an element, an attribute, text, a
//! value it cannot read, a second copy of an element IATI allows once) is kept as published in
//! [`senda_core::Activity::extensions`] (see the `reader::kept` module).
//!
//! Security: DOCTYPEs declaring entities are refused (entities are never expanded, external
//! ones never fetched), so "billion laughs" fails at once with bounded memory.
//!
//! Positions: diagnostics carry a byte offset while parsing; [`resolve_positions`] turns them
//! into `line:column` afterwards by re-reading the decoded stream, so the hot path does not
//! count lines.

mod reader;
pub mod stamps;

pub use reader::{
    ActivityReader, Checked, FatalError, Hashed, Input, ParsedActivity, content_hash_hex, open_file, resolve_positions,
};

/// Version of the reader's output; a file imported by an older reader is re-read.
/// 2: identifiers with control or invisible characters are rejected; an unparsable
/// `last-updated-datetime` is a warning.
/// 3: a declared single-byte encoding is honoured even when an accented letter comes within the
/// first 200 bytes; year 0000 is an invalid date; transaction types spelled "02" or "+2" are
/// stored as "2"; percentages follow xsd:decimal ("1e2" is refused); a repeated identifier,
/// transaction type, date or value keeps the first (was the last), with a warning.
/// 4: characters XML 1.0 forbids (controls, U+FFFE, U+FFFF; raw or as character references)
/// reject the file;
/// line ends in text are normalised (`\r\n` and `\r` read as `\n`), as XML requires.
/// 5: an amount without a valid currency (none on the value, none or an invalid one on the
/// activity, or an invalid `@currency`) is kept under `XXX`, with the error, instead of dropped;
/// DAC sector percentages under 100 leave the rest `(unallocated)` (were rescaled to 100), with a
/// warning for any vocabulary whose percentages do not add up to 100.
/// 6: nothing published is dropped: every element and attribute Senda does not model
/// (`contact-info`, `document-link`, a result's or indicator's `description`, `vocabulary-uri`,
/// ...), a second copy of an element IATI allows once, and a value that cannot be read are kept
/// as published among the activity's extensions; kept elements hold their own text only, and
/// their parent paths give the positions of results, indicators, periods, budgets, locations...
pub const READER_VERSION: u32 = 6;

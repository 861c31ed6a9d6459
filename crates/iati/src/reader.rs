//! The streaming reader. See the crate documentation for the policy.
//!
//! This module holds [`ActivityReader`] and its reading loop (one `iati-activity` at a time:
//! start tags, text, end tags, the limits); the rest is split by concern:
//!
//! - `input`: the file's bytes (hash, encoding, the UTF-8 and XML character checks, positions);
//! - `document`: the root element and what surrounds the activities;
//! - `names`: element kinds, frames, the IATI names Senda knows, 1.0x code translations;
//! - `tag`: the fast start-tag parser;
//! - `elements`: what each of the activity's own elements means (`kind_for`, `close`);
//! - `transactions` (with money) and `results`: their elements;
//! - `kept`: what Senda does not model, kept as published (issue 20 item 9).

mod document;
mod elements;
mod input;
mod kept;
mod names;
mod results;
mod tag;
mod transactions;

use input::*;
pub use input::{Checked, Hashed, Input, content_hash_hex, open_file, resolve_positions};
use names::*;
use tag::*;

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use senda_core::activity::CompactString;
use senda_core::codes::{CodeError, parse_iso_date};
use senda_core::money::parse_amount;
use senda_core::*;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use time::Date;

/// An optional attribute, parsed (the error reported later).
type Parsed<T> = Option<Result<T, CodeError>>;

/// Marks a diagnostic whose `line` still holds a byte offset (see [`resolve_positions`]).
const UNRESOLVED: u64 = senda_core::diagnostic::UNRESOLVED_COLUMN;

/// Attributes of one element: (name, value), borrowed from the event buffer where possible.
type Attrs<'e> = smallvec::SmallVec<[(&'e str, std::borrow::Cow<'e, str>); 6]>;

/// Why a whole file was rejected. `offset` is a byte offset into the decoded stream; the
/// caller turns it into line:column with [`resolve_positions`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FatalError {
    /// Stable code: `not-well-formed`, `not-iati`, `empty-file`, `binary-file`, `entity-declaration`, `io`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Byte offset of the problem.
    pub offset: u64,
}

impl FatalError {
    /// As a diagnostic of severity `Fatal` (position unresolved).
    pub fn to_diagnostic(&self, file: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Fatal,
            code: self.code.into(),
            message: self.message.clone(),
            file: file.into(),
            line: self.offset,
            column: UNRESOLVED,
            identifier: None,
            element: None,
        }
    }
}

/// One activity read from a file.
#[derive(Debug)]
pub struct ParsedActivity {
    /// The activity (`None` when it had to be rejected, e.g. no valid `iati-identifier`).
    pub activity: Option<Activity>,
    /// 0-based position of the `iati-activity` element in the file (document order).
    pub ordinal: u64,
    /// Byte offset of the `iati-activity` start tag in the decoded file.
    pub offset: u64,
    /// Problems found in this activity (positions unresolved until [`resolve_positions`]).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads activities one at a time from an `iati-activities` document.
pub struct ActivityReader<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    file: String,
    version: Option<CompactString>,
    /// `iati-activities/@generated-datetime`, normalised to UTC RFC 3339.
    generated: Option<CompactString>,
    namespaces: Vec<(String, std::sync::Arc<str>)>,
    root_seen: bool,
    /// The root element's end tag was read: only comments, processing instructions and
    /// white space may follow.
    root_closed: bool,
    /// Bytes of extension elements kept for the current activity (see `MAX_EXTENSION_BYTES`).
    extension_bytes: usize,
    /// The running hash of the file's bytes (files opened by [`open_file`]).
    content: Option<std::sync::Arc<std::sync::Mutex<HashState>>>,
    /// Every byte of the stream has been checked to be UTF-8 as it was read: true only for
    /// readers made by [`open_file`] over a [`Checked`] stream (see [`Self::event_str`]).
    utf8_checked: bool,
    done: bool,
    ordinal: u64,
    /// Diagnostics about the file itself (not about one activity).
    pub file_diagnostics: Vec<Diagnostic>,
    /// `<iati-activity>` elements found inside another element under the root, and so not read
    /// (each wrapper has an `activity-not-under-root` error): the import counts them rejected.
    pub activities_not_read: u64,
    // per-activity state
    frames: Vec<Frame>,
    text: String,
    narrs: Vec<Narrative>,
    diags: Vec<Diagnostic>,
    act: Option<Activity>,
    id_ok: bool,
    org: Option<OrgRef>,
    porg: Option<ParticipatingOrg>,
    sector: Option<Sector>,
    tag: Option<Tag>,
    /// `activity-date/@type` of the date being read.
    date_type: Option<CompactString>,
    tx: Option<Transaction>,
    /// `value/@currency` and `@value-date`, parsed at the start tag (diagnostics reported at
    /// the end tag, in the same order as before).
    value: Option<(Parsed<CurrencyCode>, Parsed<Date>)>,
    budget: Option<Budget>,
    location: Option<Location>,
    result: Option<ResultItem>,
    indicator: Option<Indicator>,
    period: Option<IndicatorPeriod>,
    ivalue: Option<IndicatorValue>,
    /// The element being opened or closed (not on `frames` then), so diagnostics name it.
    current: Option<&'static str>,
    /// The current activity's `@default-currency` is present but invalid.
    default_currency_invalid: bool,
}

impl<R: BufRead> ActivityReader<R> {
    /// A reader over a UTF-8 stream (use [`open_file`] for files). `file` names it in diagnostics.
    pub fn new(input: R, file: &str) -> Self {
        let mut reader = Reader::from_reader(input);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        Self {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            file: file.to_owned(),
            version: None,
            generated: None,
            namespaces: Vec::new(),
            root_seen: false,
            root_closed: false,
            extension_bytes: 0,
            content: None,
            utf8_checked: false,
            done: false,
            ordinal: 0,
            file_diagnostics: Vec::new(),
            activities_not_read: 0,
            frames: Vec::new(),
            text: String::new(),
            narrs: Vec::new(),
            diags: Vec::new(),
            act: None,
            id_ok: false,
            org: None,
            porg: None,
            sector: None,
            tag: None,
            date_type: None,
            tx: None,
            value: None,
            budget: None,
            location: None,
            result: None,
            indicator: None,
            period: None,
            ivalue: None,
            current: None,
            default_currency_invalid: false,
        }
    }

    /// The content hash ([`content_hash_hex`]) and size in bytes of everything this reader
    /// read from its file, once it has read the whole file (after `next_activity` returned
    /// `Ok(None)`); `None` before, or for a reader not made by [`open_file`]. The bytes hashed
    /// are the bytes parsed, even if the file changes while it is read.
    pub fn content_hash(&self) -> Option<(String, u64)> {
        if !self.done {
            return None;
        }
        let st = self.content.as_ref()?.lock().ok()?;
        Some((content_hash_hex(&st.hasher), st.bytes))
    }

    /// The file's stable hash and timestamps ([`crate::stamps`]), once the whole file is read,
    /// when the scan agrees with this reader: as many `iati-activity` elements, and the same
    /// `generated-datetime`. `None` otherwise (a file the scan cannot follow: a tag of interest
    /// in a comment, UTF-16, a reference in a timestamp): such a file is always read in full.
    pub fn stable_digest(&self) -> Option<crate::stamps::StableDigest> {
        if !self.done {
            return None;
        }
        let st = self.content.as_ref()?.lock().ok()?;
        let digest = st.stable.clone().finish()?;
        let mut generated = String::new();
        let valid = digest
            .stamps
            .generated
            .as_deref()
            .is_some_and(|g| senda_core::codes::normalise_datetime_into(g, &mut generated));
        let agrees = digest.stamps.activities.len() as u64 == self.ordinal
            && (valid.then_some(generated.as_str())) == self.generated.as_deref();
        agrees.then_some(digest)
    }

    /// The file's `iati-activities/@version`, once the root element has been read.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The file's `iati-activities/@generated-datetime` (when the publisher generated it),
    /// normalised to UTC RFC 3339 (`2024-01-31T22:00:00Z`), once the root element has been
    /// read; `None` when absent or not a date-time (that is an `invalid-datetime` warning).
    pub fn generated_datetime(&self) -> Option<&str> {
        self.generated.as_deref()
    }

    /// Bytes of the decoded stream consumed so far.
    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// A diagnostic of this file whose position (byte `offset`) is resolved later.
    fn new_diag(
        &self,
        severity: Severity,
        code: &str,
        message: String,
        offset: u64,
        identifier: Option<String>,
        element: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code: code.into(),
            message,
            file: self.file.clone(),
            line: offset,
            column: UNRESOLVED,
            identifier,
            element,
        }
    }

    fn path(&self) -> String {
        self.path_with(None)
    }

    /// The open elements as `iati-activity/transaction/...`; with `tx_index`, the second
    /// element gets it: `iati-activity/transaction[n]/...`.
    fn path_with(&self, tx_index: Option<usize>) -> String {
        let mut s = String::with_capacity(64);
        for (i, f) in self.frames.iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            match f.kind {
                Kind::Extension(idx) => s.push_str(
                    self.act
                        .as_ref()
                        .and_then(|a| a.extensions.get(idx as usize))
                        .map(|e| e.name.as_str())
                        .unwrap_or("?"),
                ),
                _ => s.push_str(f.name()),
            }
            if let (1, Some(n)) = (i, tx_index) {
                use std::fmt::Write;
                let _ = write!(s, "[{n}]");
            }
        }
        s
    }

    fn diag(&mut self, severity: Severity, code: &str, message: String, offset: u64, element: Option<String>) {
        let element = element.or_else(|| {
            Some(match self.current {
                Some(c) => format!("{}/{c}", self.path()),
                None => self.path(),
            })
        });
        let identifier = self.act.as_ref().filter(|_| self.id_ok).map(|a| a.iati_identifier.to_string());
        let d = self.new_diag(severity, code, message, offset, identifier, element);
        self.diags.push(d);
    }

    fn code_diag(&mut self, e: CodeError, offset: u64) {
        let code = match e {
            CodeError::Identifier(_) | CodeError::IdentifierTooLong(_) => "invalid-identifier",
            CodeError::Country(_) => "invalid-country",
            CodeError::Percentage(_) => "invalid-percentage",
            CodeError::Date(_) => "invalid-date",
            CodeError::Currency(_) => "invalid-currency",
            CodeError::Amount(_) => "invalid-amount",
            CodeError::AmountRange(_) => "amount-out-of-range",
        };
        self.diag(Severity::Error, code, e.to_string(), offset, None);
    }

    fn read_activity(
        &mut self,
        start: BytesStart<'static>,
        pos: u64,
        empty: bool,
    ) -> Result<ParsedActivity, FatalError> {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        self.frames.clear();
        self.text.clear();
        self.narrs.clear();
        self.diags.clear();
        self.extension_bytes = 0;
        self.id_ok = false;
        let placeholder = IatiIdentifier::parse("?").map_err(|_| FatalError {
            code: "io",
            message: "internal".into(),
            offset: pos,
        })?;
        let mut act = Activity::new(placeholder);
        act.iati_version = self.version.clone();
        self.act = Some(act);
        let mut attrs = Attrs::new();
        self.tag(&start, pos, &mut attrs)?;
        let mut bad_currency: Option<CodeError> = None;
        for (k, v) in attrs {
            let a = self.act.as_mut().ok_or_else(internal)?;
            match k {
                "default-currency" => match CurrencyCode::parse(&v) {
                    Ok(c) => a.default_currency = Some(c),
                    // Reported once the identifier is known, so that the error names the activity.
                    Err(e) => bad_currency = Some(e),
                },
                "xml:lang" => a.default_language = Some(lower(v.trim_ws())),
                "last-updated-datetime" => a.last_updated = Some(v.trim_ws().into()),
                "hierarchy" if v.trim_ws().parse::<u32>().is_ok() => a.hierarchy = v.trim_ws().parse().ok(),
                "humanitarian" if parse_bool(&v).is_some() => a.humanitarian = parse_bool(&v),
                // Everything else, and a hierarchy or humanitarian flag that does not read, is
                // kept as published.
                _ => self.keep_attr(k, &v, "iati-activity"),
            }
        }
        self.default_currency_invalid = bad_currency.is_some();
        if !empty {
            self.frames.push(Frame {
                kind: Kind::Activity,
                elem: Some(Elem::IatiActivity),
                text_start: 0,
                narr_start: 0,
                offset: pos,
                lang: None,
                attr: StartAttr::None,
            });
            self.run()?;
        }
        if let Some(e) = bad_currency {
            self.diag(
                Severity::Error,
                "invalid-currency",
                e.to_string(),
                pos,
                Some("iati-activity/@default-currency".into()),
            );
        }
        // Read once the identifier is known, so that the warning names the activity.
        let bad_datetime = self
            .act
            .as_ref()
            .and_then(|a| a.last_updated.as_deref())
            .filter(|t| !senda_core::codes::normalise_datetime_into(t, &mut String::new()))
            .map(str::to_owned);
        if let Some(t) = bad_datetime {
            self.diag(
                Severity::Warning,
                "invalid-datetime",
                format!(
                    "last-updated-datetime \"{t}\" is not an ISO 8601 date-time: when this activity is published twice, this copy counts as the oldest"
                ),
                pos,
                Some("iati-activity/@last-updated-datetime".into()),
            );
        }
        let mut act = self.act.take().ok_or_else(internal)?;
        // No valid identifier: the activity is rejected (its invalid identifier, if any, has
        // its own error already), never stored under a placeholder.
        if !self.id_ok {
            if !self.diags.iter().any(|d| d.code == "invalid-identifier") {
                self.diag(
                    Severity::Error,
                    "missing-identifier",
                    "activity has no valid <iati-identifier>: rejected".into(),
                    pos,
                    Some("iati-activity/iati-identifier".into()),
                );
            }
            return Ok(ParsedActivity {
                activity: None,
                ordinal,
                offset: pos,
                diagnostics: std::mem::take(&mut self.diags),
            });
        }
        self.act = None;
        self.check_percentages(&act, pos);
        if let Some(n) = senda_core::attribution::unsplit_dimensions(&act) {
            let what = match (n.sector, n.implementing_org) {
                (true, _) => "sectors or implementing organisations",
                _ => "implementing organisations",
            };
            self.diag(
                Severity::Warning,
                "split-too-fine",
                format!(
                    "a transaction would be split into more than {} parts (countries x sectors x implementing organisations): its money is not split over {what}, which show as \"{}\"",
                    senda_core::attribution::MAX_PARTS_PER_TRANSACTION,
                    senda_core::attribution::NOT_SPLIT
                ),
                pos,
                Some("iati-activity".into()),
            );
        }
        act.extensions.shrink_to_fit();
        Ok(ParsedActivity { activity: Some(act), ordinal, offset: pos, diagnostics: std::mem::take(&mut self.diags) })
    }

    fn check_percentages(&mut self, a: &Activity, pos: u64) {
        let pcts: Vec<_> = a
            .recipient_countries
            .iter()
            .filter_map(|c| c.percentage)
            .chain(a.recipient_regions.iter().filter_map(|r| r.percentage))
            .map(|p| p.value())
            .collect();
        if !pcts.is_empty() {
            let sum: rust_decimal::Decimal = pcts.iter().copied().sum();
            if (sum - rust_decimal::Decimal::ONE_HUNDRED).abs() > rust_decimal::Decimal::new(1, 2) {
                let d = self.new_diag(
                    Severity::Warning,
                    "percentages-not-100",
                    if sum < rust_decimal::Decimal::ONE_HUNDRED {
                        format!(
                            "recipient-country and recipient-region percentages add up to {sum}, not 100; the rest is attributed to {}",
                            if a.invalid_country { "UNKNOWN (a recipient-country code is invalid)" } else { "REGIONAL" }
                        )
                    } else {
                        format!("recipient-country and recipient-region percentages add up to {sum}, not 100; shares are scaled down in proportion")
                    },
                    pos,
                    Some(a.iati_identifier.to_string()),
                    Some("iati-activity/recipient-country".into()),
                );
                self.diags.push(d);
            }
        }
        // Sector percentages, vocabulary by vocabulary (issue 20 item 10): never rescaled in silence.
        let mut vocabularies: Vec<&str> = Vec::new();
        for s in &a.sectors {
            if s.percentage.is_some() && !vocabularies.contains(&s.vocabulary.as_str()) {
                vocabularies.push(s.vocabulary.as_str());
            }
        }
        for v in vocabularies {
            let sum: rust_decimal::Decimal =
                a.sectors.iter().filter(|s| s.vocabulary == v).filter_map(|s| s.percentage).map(|p| p.value()).sum();
            if (sum - rust_decimal::Decimal::ONE_HUNDRED).abs() > rust_decimal::Decimal::new(1, 2) {
                let what = match (v == "1", sum < rust_decimal::Decimal::ONE_HUNDRED) {
                    (true, true) => "the rest of the money is left (unallocated) in reports by sector",
                    (true, false) => "shares are scaled down in proportion in reports by sector",
                    (false, _) => "reports split money by DAC sectors (vocabulary 1) only",
                };
                let d = self.new_diag(
                    Severity::Warning,
                    "sector-percentages-not-100",
                    format!("sector percentages of vocabulary {v} add up to {sum}, not 100; {what}"),
                    pos,
                    Some(a.iati_identifier.to_string()),
                    Some("iati-activity/sector".into()),
                );
                self.diags.push(d);
            }
        }
    }

    /// The element's name and attributes, borrowed from the event buffer (no allocation unless
    /// a value contains entity references). Records `xmlns:` declarations.
    ///
    /// The usual well-formed tag takes [`parse_tag`]'s fast path; anything it does not accept
    /// (invalid UTF-8, a malformed or duplicated attribute, a bad entity reference) goes through
    /// the quick-xml path below, which reports the problem exactly as before.
    ///
    /// The attributes go to `attrs` (empty on entry; filled in place: no copy of the vector);
    /// returns the name and whether an attribute name has a `:`.
    /// The content of an event of this reader's stream (a start tag between `<` and `>`, a
    /// text between `>` and `<` or `&`, a CDATA section) as text; `None` if it is not UTF-8.
    /// Checked here only for readers over a stream that was not checked as it was read.
    fn event_str<'b>(&self, bytes: &'b [u8]) -> Option<&'b str> {
        if self.utf8_checked {
            // SAFETY: `utf8_checked` is set only by `open_file`, whose stream is a `Checked`:
            // every byte quick-xml received from it is part of a prefix of the stream that
            // `Checked::check_utf8` found to be valid UTF-8 (a chunk that fails is never handed
            // out: the read returns an error instead). An event's bytes are a contiguous run of
            // that stream (quick-xml copies them in order into its buffer) that begins and ends
            // next to an ASCII delimiter (`<`, `>`, `&`, `;`, the CDATA markers) or at the
            // stream's ends. A byte next to an ASCII byte, or at either end, is a character
            // boundary, and a run of valid UTF-8 between two character boundaries is valid
            // UTF-8.
            #[allow(unsafe_code)]
            Some(unsafe { std::str::from_utf8_unchecked(bytes) })
        } else {
            std::str::from_utf8(bytes).ok()
        }
    }

    fn tag<'e>(
        &mut self,
        e: &'e BytesStart<'_>,
        pos: u64,
        attrs: &mut Attrs<'e>,
    ) -> Result<(&'e str, bool), FatalError> {
        let name_len = e.name().into_inner().len();
        if let Some((name, colon)) = self.event_str(e).and_then(|s| parse_tag(s, name_len, attrs)) {
            if colon {
                for (k, v) in attrs.iter() {
                    if let Some(prefix) = k.strip_prefix("xmlns:") {
                        self.namespaces.push((prefix.to_owned(), std::sync::Arc::from(v.as_ref())));
                    }
                }
            }
            return Ok((name, colon));
        }
        attrs.clear();
        let name = std::str::from_utf8(e.name().into_inner()).map_err(|_| FatalError {
            code: "not-well-formed",
            message: "element name is not UTF-8".into(),
            offset: pos,
        })?;
        *attrs = self.attrs(e, pos)?;
        Ok((name, attrs.iter().any(|(k, _)| k.contains(':'))))
    }

    /// The element's attributes through quick-xml (see [`Self::tag`]).
    fn attrs<'e>(&mut self, e: &'e BytesStart<'_>, pos: u64) -> Result<Attrs<'e>, FatalError> {
        let mut out: Attrs<'e> = Attrs::new();
        // quick-xml's own duplicate check allocates per element; this one does not.
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| FatalError {
                code: "not-well-formed",
                message: format!("XML is not well-formed: {err}"),
                offset: pos,
            })?;
            let key = std::str::from_utf8(a.key.into_inner()).map_err(|_| FatalError {
                code: "not-well-formed",
                message: "attribute name is not UTF-8".into(),
                offset: pos,
            })?;
            let val = a.unescape_value().map_err(|err| FatalError {
                code: "not-well-formed",
                message: format!("attribute {key}: {err}"),
                offset: pos,
            })?;
            check_attribute_chars(key, &val, pos)?;
            if out.len() >= MAX_ATTRIBUTES {
                return Err(too_many_attributes(pos));
            }
            if out.iter().any(|(k, _)| *k == key) {
                return Err(FatalError {
                    code: "not-well-formed",
                    message: format!("XML is not well-formed: attribute {key} appears twice in one element"),
                    offset: pos,
                });
            }
            if let Some(prefix) = key.strip_prefix("xmlns:") {
                self.namespaces.push((prefix.to_owned(), std::sync::Arc::from(val.as_ref())));
            }
            out.push((key, val));
        }
        Ok(out)
    }

    fn run(&mut self) -> Result<(), FatalError> {
        // The event buffer is moved out of `self` so that events can borrow it while `self`
        // is updated (no per-event allocation).
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.run_with(&mut buf);
        self.buf = buf;
        r
    }

    fn run_with(&mut self, buf: &mut Vec<u8>) -> Result<(), FatalError> {
        while !self.frames.is_empty() {
            let pos = self.reader.buffer_position();
            buf.clear();
            // The event is matched where it was returned, not moved out of the result first:
            // that copy measured slow (its wide loads stall on the callee's narrow stores).
            let res = self.reader.read_event_into(buf);
            let ev = match res {
                Ok(ref ev) => ev,
                Err(e) => return Err(self.xml_error(e)),
            };
            match ev {
                Event::Start(e) => self.open(e, pos, false)?,
                Event::Empty(e) => self.open(e, pos, true)?,
                Event::End(_) => self.close()?,
                // Text no element reads (the indentation between elements, mostly) is skipped
                // unread: see `text_wanted`.
                Event::Text(_) if !self.text_wanted() => {}
                Event::Text(t) => {
                    let s = self.event_str(t).ok_or_else(|| FatalError {
                        code: "not-well-formed",
                        message: "text is not valid UTF-8 (check the file's encoding declaration)".into(),
                        offset: pos,
                    })?;
                    push_line_ends_normalised(&mut self.text, s);
                }
                Event::CData(t) => {
                    let s = self.event_str(t).ok_or_else(|| FatalError {
                        code: "not-well-formed",
                        message: "CDATA is not valid UTF-8".into(),
                        offset: pos,
                    })?;
                    push_line_ends_normalised(&mut self.text, s);
                }
                Event::GeneralRef(r) => {
                    if r.is_char_ref() {
                        self.text.push(char_ref(r, pos)?);
                    } else {
                        let name = String::from_utf8_lossy(r).into_owned();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => self.text.push_str(s),
                            None => {
                                return Err(FatalError {
                                    code: "undefined-entity",
                                    message: format!(
                                        "undefined entity &{name};: Senda never expands custom XML entities"
                                    ),
                                    offset: pos,
                                });
                            }
                        }
                    }
                }
                Event::Eof => {
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: format!("unexpected end of file inside <{}>", self.path()),
                        offset: pos,
                    });
                }
                Event::DocType(_) | Event::Decl(_) => {
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: "declaration inside an element".into(),
                        offset: pos,
                    });
                }
                Event::Comment(_) | Event::PI(_) => {}
            }
        }
        Ok(())
    }

    /// False when the text of the innermost open element can never be used: containers whose
    /// own text IATI does not define (activity, transaction, budget, location, result,
    /// indicator, period, baseline, target, actual, point). Any other element's text is read
    /// (modelled, or kept as published).
    fn text_wanted(&self) -> bool {
        use Kind::*;
        !matches!(
            self.frames.last().map(|f| f.kind),
            Some(
                Activity
                    | Transaction
                    | Budget
                    | Location
                    | Result
                    | Indicator
                    | Period
                    | Baseline
                    | Target
                    | Actual
                    | Point,
            )
        )
    }

    fn parent(&self) -> Kind {
        self.frames.last().map(|f| f.kind).unwrap_or(Kind::Ignored)
    }

    fn open(&mut self, e: &BytesStart<'_>, pos: u64, empty: bool) -> Result<(), FatalError> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(FatalError {
                code: "limit",
                message: format!("elements nested more than {MAX_DEPTH} levels deep inside <iati-activity>"),
                offset: pos,
            });
        }
        if e.name().as_ref().len() > MAX_NAME {
            return Err(FatalError {
                code: "limit",
                message: format!("an element name is longer than {MAX_NAME} bytes"),
                offset: pos,
            });
        }
        let mut attrs = Attrs::new();
        let (raw_name, _) = self.tag(e, pos, &mut attrs)?;
        let parent = self.parent();
        if parent == Kind::Narrative {
            self.diag(
                Severity::Warning,
                "markup-in-narrative",
                format!("markup <{raw_name}> inside a narrative: kept its words as plain text"),
                pos,
                None,
            );
        }
        // No known name has a `:`, so a namespaced name is never known.
        let known = known_name(raw_name);
        let name = known.map(Elem::as_str);
        let mut attr = StartAttr::None;
        let kind = match (known, parent) {
            (_, Kind::Narrative) | (Some(_), Kind::Ignored) => Kind::Ignored,
            (None, _) | (Some(_), Kind::Extension(_)) => self.keep_element(raw_name, &attrs, parent, pos)?,
            (Some(n), p) => {
                self.current = name;
                let k = self.kind_for(n, p, &attrs, pos, &mut attr);
                self.current = None;
                match k? {
                    Kind::Unmodelled => self.keep_element(raw_name, &attrs, parent, pos)?,
                    k => k,
                }
            }
        };
        // `xml:lang` is read only where a narrative (or 1.0x text) is kept.
        let lang = if takes_narratives(kind) || (kind == Kind::Narrative && takes_narratives(parent)) {
            attrs.iter().find(|(a, _)| *a == "xml:lang").map(|(_, v)| lower(v.trim_ws()))
        } else {
            None
        };
        // Pushed blank and filled in place: building the frame on the stack and copying it
        // measured slower (the copy's wide loads stall on the narrow stores just made).
        let (text_start, narr_start) = (self.text.len(), self.narrs.len());
        self.frames.push(Frame::BLANK);
        if let Some(f) = self.frames.last_mut() {
            f.kind = kind;
            f.elem = known;
            f.text_start = text_start;
            f.narr_start = narr_start;
            f.offset = pos;
            f.lang = lang;
            f.attr = attr;
        }
        // Attributes Senda does not model are kept (the frame is pushed: their path names it).
        if !attrs.is_empty() && !matches!(kind, Kind::Extension(_)) {
            self.keep_unmodelled_attrs(kind, known, parent, &attrs);
        }
        if empty {
            self.close()?;
        }
        Ok(())
    }
}

/// Most attributes one element may have. IATI elements have a handful; the limit keeps the
/// duplicate-attribute check (quadratic) and the memory of a hostile file small.
const MAX_ATTRIBUTES: usize = 256;
/// Deepest nesting of elements inside an `iati-activity` (IATI's own deepest is under 10).
const MAX_DEPTH: usize = 100;
/// Longest element name, in bytes.
const MAX_NAME: usize = 1000;
/// Most bytes of unknown and namespaced extension elements kept for one activity (their
/// names, values, attributes and parent paths): bounds the memory of a hostile file.
const MAX_EXTENSION_BYTES: usize = 32 * 1024 * 1024;

fn too_many_attributes(pos: u64) -> FatalError {
    FatalError {
        code: "limit",
        message: format!("an element has more than {MAX_ATTRIBUTES} attributes: not an IATI file Senda can read"),
        offset: pos,
    }
}

fn internal() -> FatalError {
    FatalError { code: "internal", message: "internal reader state error".into(), offset: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_datetime_is_read_normalised_to_utc() {
        let read = |root: &str| {
            let doc = format!("<iati-activities version=\"2.03\" {root}></iati-activities>");
            let mut r = ActivityReader::new(doc.as_bytes(), "f.xml");
            while r.next_activity().expect("readable").is_some() {}
            (
                r.generated_datetime().map(str::to_owned),
                r.file_diagnostics.iter().map(|d| d.code.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(read("generated-datetime=\"2024-03-01T10:00:00-05:00\"").0.as_deref(), Some("2024-03-01T15:00:00Z"));
        assert_eq!(read("").0, None);
        let (none, codes) = read("generated-datetime=\"yesterday\"");
        assert_eq!(none, None);
        assert_eq!(codes, ["invalid-datetime"]);
    }

    #[test]
    fn known_names_match_the_list() {
        assert_eq!(NAMES.len(), ALL_NAMES.len());
        for (i, n) in NAMES.iter().enumerate() {
            assert_eq!(known_name(n).map(Elem::as_str), Some(*n));
            assert_eq!(ALL_NAMES[i] as usize, i);
            assert!(!NAMES[..i].contains(n), "{n} twice");
            // `open` relies on this: a namespaced name is never known.
            assert!(!n.contains(':'), "{n}");
        }
        assert_eq!(known_name("usg:treasury-account"), None);
        assert_eq!(known_name("not-an-iati-element"), None);
    }
}

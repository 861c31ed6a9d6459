//! The streaming reader. See the crate documentation for the policy.

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

/// The bytes of an opened file: UTF-8 read as they are (the usual case: no copy through a
/// decoder), or another encoding transcoded to UTF-8. Either way the file's own bytes are
/// hashed as they are read (see [`ActivityReader::content_hash`]).
#[derive(Debug)]
pub enum Input {
    /// UTF-8 without BOM, or with its BOM already read past.
    Utf8(Hashed),
    /// UTF-16 (BOM) or a declared single-byte encoding, transcoded to UTF-8.
    Decoded(Box<DecodeReaderBytes<Hashed, Vec<u8>>>),
}

/// A file whose bytes are hashed (xxh3-128) and counted as they are read.
#[derive(Debug)]
pub struct Hashed {
    file: File,
    state: std::sync::Arc<std::sync::Mutex<HashState>>,
}

/// The running hash of what a [`Hashed`] file gave so far.
#[derive(Default)]
struct HashState {
    hasher: xxhash_rust::xxh3::Xxh3,
    bytes: u64,
}

impl std::fmt::Debug for HashState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashState").field("bytes", &self.bytes).finish()
    }
}

impl Read for Hashed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if let (Ok(mut st), Some(read)) = (self.state.lock(), buf.get(..n)) {
            st.hasher.update(read);
            st.bytes += n as u64;
        }
        Ok(n)
    }
}

/// The content hash Senda records for a file: xxh3-128 of its bytes, 32 hex digits.
pub fn content_hash_hex(h: &xxhash_rust::xxh3::Xxh3) -> String {
    format!("{:032x}", h.digest128())
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Utf8(f) => f.read(buf),
            Input::Decoded(d) => d.read(buf),
        }
    }
}

/// An [`Input`] whose UTF-8 is checked, as it is read, for the characters XML 1.0 forbids
/// anywhere in a document (section 2.2): the control characters U+0000 to U+001F except tab,
/// line feed and carriage return, and the noncharacters U+FFFE and U+FFFF. A conformant parser
/// rejects such a file (expat and libxml2 do); quick-xml does not look, so without this check a
/// NUL or U+0001 would be stored and exported.
///
/// The stream is also checked to be UTF-8, once, chunk by chunk (a character cut by a chunk's
/// end is checked with the next chunk): a byte that is not UTF-8 rejects the file at its
/// position. The reader then takes every event's text as it is, without checking each tag and
/// text again (see [`ActivityReader::event_str`]).
#[derive(Debug)]
pub struct Checked {
    input: Input,
    /// Bytes of the decoded stream read so far.
    offset: u64,
    /// The last bytes of the previous chunk when they may begin U+FFFE or U+FFFF (`EF`, or
    /// `EF BF`), checked with the first bytes of the next chunk.
    carry: ([u8; 2], usize),
    /// The first bytes (a valid start, 1 to 3 bytes) of a UTF-8 character the previous chunk
    /// cut, completed by the next chunk.
    partial: ([u8; 4], usize),
    /// The input is transcoded ([`Input::Decoded`]): the decoder turns bytes that are not valid
    /// in the file's encoding into U+FFFD, so a U+FFFD in its output is refused like invalid
    /// UTF-8 (a U+FFFD written on purpose in a UTF-16 or single-byte IATI file is not worth
    /// the risk of storing damaged identifiers and names without a word).
    transcoded: bool,
}

impl Checked {
    fn new(input: Input) -> Self {
        let transcoded = matches!(input, Input::Decoded(_));
        Checked { input, offset: 0, carry: ([0; 2], 0), partial: ([0; 4], 0), transcoded }
    }

    /// Checks that `got`, the next chunk, continues valid UTF-8; `Err` is the offset in the
    /// stream of the first byte that does not (possibly in the previous chunk, for a character
    /// it began). An empty `got` is the end of the stream: a character cut there is an error.
    fn check_utf8(&mut self, got: &[u8]) -> Result<(), u64> {
        let mut rest = got;
        let mut base = self.offset;
        let (ref mut part, ref mut have) = self.partial;
        if *have > 0 {
            let began = self.offset - *have as u64;
            let width = match part[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (width - *have).min(got.len());
            part[*have..*have + take].copy_from_slice(&got[..take]);
            *have += take;
            match std::str::from_utf8(&part[..*have]) {
                Ok(_) => *have = 0,
                // Still cut (a very short read): a valid start so far.
                Err(e) if e.error_len().is_none() && !got.is_empty() => return Ok(()),
                Err(_) => return Err(began),
            }
            rest = &got[take..];
            base += take as u64;
        }
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                // A character cut by the chunk's end (1 to 3 bytes): completed next time.
                let tail = &rest[e.valid_up_to()..];
                part[..tail.len()].copy_from_slice(tail);
                *have = tail.len();
                Ok(())
            }
            Err(e) => Err(base + e.valid_up_to() as u64),
        }
    }
}

/// The error [`Checked`] returns for bytes that are not UTF-8 (after decoding, so in a file
/// that is, or says it is, UTF-8): the offset of the first such byte in the decoded stream.
#[derive(Debug, thiserror::Error)]
#[error("bytes that are not UTF-8 at byte {offset}")]
struct NotUtf8 {
    offset: u64,
    /// The first bytes from there (at most 4), for the message.
    bytes: Vec<u8>,
    /// The file ends inside the character.
    end: bool,
}

/// The error [`Checked`] returns for a forbidden character: its offset in the decoded stream and
/// its code point (turned into a `not-well-formed` [`FatalError`] by the reader).
#[derive(Debug, thiserror::Error)]
#[error("character U+{code:04X} at byte {offset}")]
struct ForbiddenCharacter {
    offset: u64,
    code: u32,
}

/// True for the bytes XML 1.0 forbids everywhere (C0 controls but tab, LF and CR). In UTF-8
/// these bytes never occur inside a multi-byte character.
fn is_forbidden_control(b: u8) -> bool {
    // Bitwise, not `&&`: no branches, so a loop over bytes is vectorised.
    (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')
}

/// True for a byte that may start a forbidden character: a control character, or `EF`, the
/// first byte of U+FFFE and U+FFFF in UTF-8 (and of every character from U+F000 to U+FFFF, which
/// [`first_forbidden`] then tells apart).
fn is_suspect(b: u8) -> bool {
    is_forbidden_control(b) | (b == 0xEF)
}

/// True when `bytes` holds a byte [`is_suspect`] flags: 64 bytes at a time without branches
/// (a few instructions per byte; `docs/benchmarks.md`), so the exact scan runs only on the
/// rare chunk that needs it.
fn has_suspect(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(64);
    for c in &mut chunks {
        if c.iter().fold(0u8, |any, &b| any | u8::from(is_suspect(b))) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| is_suspect(b))
}

/// The first forbidden character in `w` (index, code point), and the index from which the
/// bytes of `w` may begin one that continues past its end (`w.len()` when none).
/// With `replacement`, U+FFFD (what a decoder makes of bytes it cannot decode) counts as
/// forbidden too.
fn first_forbidden(w: &[u8], replacement: bool) -> (Option<(usize, u32)>, usize) {
    for (i, &b) in w.iter().enumerate() {
        if is_forbidden_control(b) {
            return (Some((i, u32::from(b))), w.len());
        }
        if b == 0xEF {
            match (w.get(i + 1), w.get(i + 2)) {
                (Some(0xBF), Some(0xBE)) => return (Some((i, 0xFFFE)), w.len()),
                (Some(0xBF), Some(0xBF)) => return (Some((i, 0xFFFF)), w.len()),
                (Some(0xBF), Some(0xBD)) if replacement => return (Some((i, 0xFFFD)), w.len()),
                (None, _) | (Some(0xBF), None) => return (None, i),
                _ => {}
            }
        }
    }
    (None, w.len())
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        let got = buf.get(..n).unwrap_or_default();
        let forbidden = |offset: u64, code: u32| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, ForbiddenCharacter { offset, code })
        };
        // A sequence cut by the previous chunk's end: its bytes, then this chunk's first two.
        let (carry, carried) = (self.carry.0, self.carry.1);
        self.carry.1 = 0;
        if carried > 0 {
            let mut w = [0u8; 4];
            let k = carried + n.min(2);
            w[..carried].copy_from_slice(&carry[..carried]);
            w[carried..k].copy_from_slice(&got[..n.min(2)]);
            if let (Some((i, code)), _) = first_forbidden(&w[..k], self.transcoded)
                && i < carried
            {
                return Err(forbidden(self.offset - (carried - i) as u64, code));
            }
        }
        if let Err(offset) = self.check_utf8(got) {
            let bytes = if offset < self.offset {
                // A character the previous chunk began.
                let (part, have) = &self.partial;
                part.get(..*have).unwrap_or_default().to_vec()
            } else {
                let at = usize::try_from(offset - self.offset).unwrap_or(0);
                got.get(at..(at + 4).min(n)).unwrap_or_default().to_vec()
            };
            let end = n == 0;
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, NotUtf8 { offset, bytes, end }));
        }
        // The exact scan only when a chunk holds a suspect byte.
        if has_suspect(got) {
            let (found, tail) = first_forbidden(got, self.transcoded);
            if let Some((i, code)) = found {
                return Err(forbidden(self.offset + i as u64, code));
            }
            if let Some(rest) = got.get(tail..).filter(|r| !r.is_empty() && r.len() <= 2) {
                self.carry.0[..rest.len()].copy_from_slice(rest);
                self.carry.1 = rest.len();
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// True for the characters XML 1.0 allows (`Char`, section 2.2): tab, LF, CR, U+0020 to U+D7FF,
/// U+E000 to U+FFFD and U+10000 up. A character reference to any other (`&#1;`, `&#xFFFE;`) is
/// a well-formedness error.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

type Decoded = BufReader<Checked>;

/// Refuses a character reference to a character XML 1.0 forbids in an event read outside the
/// activities (the root's attributes, elements under the root that are read past, text under
/// the root): inside an activity the element handlers check them.
fn forbidden_reference(ev: &Event<'_>, pos: u64) -> Result<(), FatalError> {
    match ev {
        Event::GeneralRef(r) if r.is_char_ref() => char_ref(r, pos).map(drop),
        Event::Start(e) | Event::Empty(e) if memchr::memchr(b'&', e).is_some() => {
            for a in e.attributes().with_checks(false).flatten() {
                if let Ok(v) = a.unescape_value() {
                    check_attribute_chars(&String::from_utf8_lossy(a.key.as_ref()), &v, pos)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The character a character reference (`&#1;`, `&#xE9;`) names; a `not-well-formed` error
/// when it names none or one XML 1.0 does not allow.
fn char_ref(r: &quick_xml::events::BytesRef<'_>, pos: u64) -> Result<char, FatalError> {
    let bad = |message: String| FatalError { code: "not-well-formed", message, offset: pos };
    match r.resolve_char_ref() {
        Ok(Some(c)) if is_xml_char(c) => Ok(c),
        Ok(Some(c)) => Err(bad(format!(
            "character reference &{}; is U+{:04X}, a character XML 1.0 does not allow",
            String::from_utf8_lossy(r),
            u32::from(c)
        ))),
        _ => Err(bad("invalid character reference".into())),
    }
}

/// Refuses an attribute value (unescaped) holding a character XML 1.0 does not allow: only a
/// character reference can put one there, raw ones are refused by [`Checked`].
fn check_attribute_chars(key: &str, value: &str, pos: u64) -> Result<(), FatalError> {
    match value.chars().find(|c| !is_xml_char(*c)) {
        None => Ok(()),
        Some(c) => Err(FatalError {
            code: "not-well-formed",
            message: format!(
                "attribute {key}: a character reference gives U+{:04X}, a character XML 1.0 does not allow",
                u32::from(c)
            ),
            offset: pos,
        }),
    }
}

/// Appends text with its line ends normalised as XML 1.0 requires of every parser (section
/// 2.11): `\r\n` and a lone `\r` become `\n` (quick-xml leaves them; a file saved with Windows
/// line ends otherwise stored `\r` in every multi-line description).
fn push_line_ends_normalised(out: &mut String, s: &str) {
    if memchr::memchr(b'\r', s.as_bytes()).is_none() {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
}

/// Opens a file for reading: sniffs a BOM (UTF-8 or UTF-16, transcoded to UTF-8, BOM removed)
/// or a declared single-byte encoding, and refuses empty, zip and binary files at once.
pub fn open_file(path: &Path, display_name: &str) -> Result<ActivityReader<Decoded>, FatalError> {
    let io_err = |e: std::io::Error| FatalError {
        code: "io",
        message: format!("cannot read {}: {e}", path.display()),
        offset: 0,
    };
    let mut f = File::open(path).map_err(io_err)?;
    let mut head = [0u8; HEAD_BYTES];
    let n = read_head(&mut f, &mut head).map_err(io_err)?;
    let head = &head[..n];
    sniff(head)?;
    let declared = declared_encoding(head)?;
    let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
    let state = std::sync::Arc::new(std::sync::Mutex::new(HashState::default()));
    let mut f = Hashed { file: File::open(path).map_err(io_err)?, state: state.clone() };
    let input = if declared.is_none() && !utf16 {
        // UTF-8 (declared, or nothing declared): the decoder would pass the bytes through
        // unchanged after its BOM; read them directly, with the same offsets.
        if head.starts_with(&[0xef, 0xbb, 0xbf]) {
            let mut bom = [0u8; 3];
            f.read_exact(&mut bom).map_err(io_err)?;
        }
        Input::Utf8(f)
    } else {
        Input::Decoded(Box::new(decoder(f, declared)))
    };
    let mut reader = ActivityReader::new(BufReader::with_capacity(256 * 1024, Checked::new(input)), display_name);
    reader.content = Some(state);
    // The stream is `Checked`: its UTF-8 is checked as it is read.
    reader.utf8_checked = true;
    Ok(reader)
}

/// Bytes read from the start of a file to sniff its kind and encoding.
const HEAD_BYTES: usize = 512;

/// Fills `head` from the start of `f` (fewer bytes only at the end of the file); the count read.
fn read_head(f: &mut File, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        let k = f.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// The decoder of a non-UTF-8 file (or of any file, for [`resolve_positions`]): BOM first, else
/// the declared encoding, else UTF-8 passed through; the BOM removed. One definition, so that
/// reading and locating count the same characters.
fn decoder<R: Read>(r: R, declared: Option<&'static encoding_rs::Encoding>) -> DecodeReaderBytes<R, Vec<u8>> {
    DecodeReaderBytesBuilder::new().encoding(declared).utf8_passthru(true).strip_bom(true).bom_override(true).build(r)
}

fn sniff(head: &[u8]) -> Result<(), FatalError> {
    let fatal = |code, message: &str| Err(FatalError { code, message: message.into(), offset: 0 });
    if head.iter().all(u8::is_ascii_whitespace) {
        return fatal("empty-file", "the file is empty: expected an <iati-activities> document");
    }
    if head.starts_with(b"PK\x03\x04") {
        return fatal("binary-file", "this is a zip archive, not XML: unzip it and import the XML files inside");
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return fatal("binary-file", "this is a gzip file, not XML: decompress it first");
    }
    let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
    if head.starts_with(&[0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf])
        || head.starts_with(&[0xff, 0xfe, 0xff, 0xfe])
        || head.starts_with(&[0xfe, 0xff, 0xfe, 0xff])
    {
        // The decoders drop one mark: the second would be read as the start of the document.
        return fatal(
            "not-well-formed",
            "the file starts with a second byte-order mark (U+FEFF) after the first: only white space may come before <iati-activities>",
        );
    }
    // `<?` in UTF-16 little- or big-endian with no byte-order mark: the XML standard requires
    // the mark for UTF-16 (section 4.3.3), so the file cannot be read with certainty.
    if head.starts_with(b"<\0?\0") || head.starts_with(b"\0<\0?") {
        return fatal(
            "not-well-formed",
            "this file is UTF-16 without a byte-order mark (XML requires one for UTF-16): save it as UTF-8, or as UTF-16 with a byte-order mark",
        );
    }
    if !utf16 && head.contains(&0) {
        return fatal("binary-file", "this is a binary file (it contains NUL bytes), not XML");
    }
    Ok(())
}

/// The encoding label the XML declaration at the start of `head` gives (`encoding="..."`,
/// quoted) and the byte offset of `encoding`; `None` without one, or when a byte-order mark
/// says the encoding (it wins).
fn declared_label(head: &[u8]) -> Option<(&str, usize)> {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) || head.starts_with(&[0xef, 0xbb, 0xbf]) {
        return None;
    }
    // The declaration is ASCII at the very start: read the longest valid UTF-8 prefix of the
    // first 512 bytes (a single-byte encoding's accented letter, or a cut character, ends it).
    let s = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(head.get(..e.valid_up_to())?).ok()?,
    };
    let decl = s.strip_prefix("<?xml")?;
    let end = decl.find("?>")?;
    let decl = &decl[..end];
    let i = decl.find("encoding")?;
    let rest = decl[i + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let label = rest.get(1..)?.split(q).next()?;
    Some((label, "<?xml".len() + i))
}

/// The single-byte (or other non-UTF) encoding the file's declaration asks for, `None` for
/// UTF-8 and UTF-16 (read as UTF-8, or by their byte-order mark) and for no declaration.
/// Errors: a declared encoding Senda cannot read (not in the WHATWG Encoding Standard that
/// `encoding_rs` implements: UTF-32, EBCDIC, a misspelt label) is `unsupported-encoding` at
/// the declaration: XML makes it a fatal error, and reading it as UTF-8 would misread every
/// non-ASCII character.
fn declared_encoding(head: &[u8]) -> Result<Option<&'static encoding_rs::Encoding>, FatalError> {
    let Some((label, offset)) = declared_label(head) else { return Ok(None) };
    let Some(enc) = encoding_rs::Encoding::for_label(label.trim().as_bytes()) else {
        return Err(FatalError {
            code: "unsupported-encoding",
            message: format!(
                "the file declares encoding=\"{label}\", which Senda cannot read: save it as UTF-8, or declare the encoding it really uses (for example ISO-8859-1 or windows-1252)"
            ),
            offset: offset as u64,
        });
    };
    let utf = enc == encoding_rs::UTF_8 || enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE;
    Ok(if utf { None } else { Some(enc) })
}

/// Turns byte offsets of unresolved diagnostics into 1-based line and column by re-reading the
/// decoded file (only called when there are diagnostics).
pub fn resolve_positions(path: &Path, diags: &mut [Diagnostic]) {
    let mut want: Vec<(u64, usize)> =
        diags.iter().enumerate().filter(|(_, d)| d.column == UNRESOLVED).map(|(i, d)| (d.line, i)).collect();
    if want.is_empty() {
        return;
    }
    want.sort_unstable();
    let mut results = vec![(0u64, 0u64); diags.len()];
    if let Ok(mut f) = File::open(path) {
        // Decoded as `open_file` decoded it (a declared single-byte encoding included), so that
        // offsets count the same characters.
        let mut head = [0u8; HEAD_BYTES];
        let n = read_head(&mut f, &mut head).unwrap_or(0);
        // A file refused for its encoding has no other diagnostics to place.
        let declared = declared_encoding(&head[..n]).ok().flatten();
        if std::io::Seek::rewind(&mut f).is_err() {
            return;
        }
        let mut r = BufReader::new(decoder(f, declared));
        let (mut line, mut col, mut off) = (1u64, 1u64, 0u64);
        // Line ends as XML reads them: `\n`, `\r\n` and a lone `\r`.
        let mut after_cr = false;
        let mut k = 0;
        let mut buf = [0u8; 64 * 1024];
        'outer: loop {
            let n = match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                while k < want.len() && want[k].0 <= off {
                    results[want[k].1] = (line, col);
                    k += 1;
                }
                if k >= want.len() {
                    break 'outer;
                }
                off += 1;
                if b == b'\n' {
                    if !after_cr {
                        line += 1;
                        col = 1;
                    }
                    after_cr = false;
                } else if b == b'\r' {
                    line += 1;
                    col = 1;
                    after_cr = true;
                } else {
                    after_cr = false;
                    if b & 0xC0 != 0x80 {
                        col += 1;
                    }
                }
            }
        }
        while k < want.len() {
            results[want[k].1] = (line, col);
            k += 1;
        }
    }
    for (i, d) in diags.iter_mut().enumerate() {
        if d.column == UNRESOLVED {
            (d.line, d.column) = results[i];
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Activity,
    Identifier,
    ReportingOrg,
    ParticipatingOrg,
    Title,
    Description,
    Narrative,
    Status,
    ActivityDate,
    Country,
    Region,
    Sector,
    Tag,
    Transaction,
    TxType,
    TxDate,
    Value,
    TxDescription,
    ProviderOrg,
    ReceiverOrg,
    Budget,
    PeriodStart,
    PeriodEnd,
    Location,
    LocName,
    LocDescription,
    Point,
    Pos,
    Result,
    ResultTitle,
    Indicator,
    IndicatorTitle,
    Baseline,
    Period,
    Target,
    Actual,
    Comment,
    /// Index into the activity's extensions.
    Extension(u32),
    Ignored,
}

// Frames are pushed and popped once per element: keep them small.
const _: () = assert!(std::mem::size_of::<Frame>() <= 88);

struct Frame {
    kind: Kind,
    /// The element's name when known (`None`: an extension, named "extension" in paths).
    elem: Option<Elem>,
    text_start: usize,
    narr_start: usize,
    offset: u64,
    lang: Option<CompactString>,
    /// A date or code attribute read at start (`iso-date`, `code`), for elements whose text is the v1 fallback.
    attr: StartAttr,
}

impl Frame {
    const BLANK: Frame = Frame {
        kind: Kind::Ignored,
        elem: None,
        text_start: 0,
        narr_start: 0,
        offset: 0,
        lang: None,
        attr: StartAttr::None,
    };

    /// The element's name in paths.
    fn name(&self) -> &'static str {
        self.elem.map_or("extension", Elem::as_str)
    }
}

/// A value read from an element's start tag for use at its end tag.
#[derive(Default)]
enum StartAttr {
    #[default]
    None,
    /// A code or type attribute (`code`, `type`), trimmed and non-empty.
    Code(CompactString),
    /// `@iso-date` (trimmed, non-empty), parsed at once so that no copy of it is kept; its
    /// diagnostic, if any, is reported at the end tag as before.
    Date(Result<Date, Box<CodeError>>),
}

impl StartAttr {
    fn code(v: Option<CompactString>) -> Self {
        v.map_or(StartAttr::None, StartAttr::Code)
    }

    fn date(v: Option<&str>) -> Self {
        v.map_or(StartAttr::None, |d| StartAttr::Date(parse_iso_date(d).map_err(Box::new)))
    }

    /// The code attribute (taken).
    fn take_code(&mut self) -> Option<CompactString> {
        match std::mem::take(self) {
            StartAttr::Code(c) => Some(c),
            _ => None,
        }
    }

    /// The parsed date attribute (taken).
    fn take_date(&mut self) -> Option<Result<Date, CodeError>> {
        match std::mem::take(self) {
            StartAttr::Date(d) => Some(d.map_err(|e| *e)),
            _ => None,
        }
    }
}

/// Declares [`Elem`] (one variant per IATI element name Senda knows: modelled or read past,
/// never kept as extensions), [`NAMES`] (their spellings, in variant order) and [`known_name`].
macro_rules! known_names {
    ($($variant:ident = $name:literal,)*) => {
        /// An IATI element name Senda knows (see [`known_name`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Elem {
            $($variant,)*
        }
        /// The spelling of each [`Elem`], in variant order.
        const NAMES: &[&str] = &[$($name,)*];
        /// Every [`Elem`], in variant order.
        #[cfg(test)]
        const ALL_NAMES: &[Elem] = &[$(Elem::$variant,)*];

        /// The known element name spelled `n` (exactly), if any.
        fn known_name(n: &str) -> Option<Elem> {
            // rustc compiles a `match` on strings to a switch on the length and then a few
            // comparisons: cheaper than hashing.
            Some(match n {
                $($name => Elem::$variant,)*
                _ => return None,
            })
        }
    };
}

known_names! {
    IatiIdentifier = "iati-identifier",
    ReportingOrg = "reporting-org",
    ParticipatingOrg = "participating-org",
    Title = "title",
    Description = "description",
    Narrative = "narrative",
    ActivityStatus = "activity-status",
    ActivityScope = "activity-scope",
    ActivityDate = "activity-date",
    ContactInfo = "contact-info",
    Organisation = "organisation",
    Department = "department",
    PersonName = "person-name",
    JobTitle = "job-title",
    Telephone = "telephone",
    Email = "email",
    Website = "website",
    MailingAddress = "mailing-address",
    RecipientCountry = "recipient-country",
    RecipientRegion = "recipient-region",
    Location = "location",
    LocationReach = "location-reach",
    LocationId = "location-id",
    Name = "name",
    ActivityDescription = "activity-description",
    Administrative = "administrative",
    Point = "point",
    Pos = "pos",
    Exactness = "exactness",
    LocationClass = "location-class",
    FeatureDesignation = "feature-designation",
    Sector = "sector",
    Tag = "tag",
    CountryBudgetItems = "country-budget-items",
    BudgetItem = "budget-item",
    HumanitarianScope = "humanitarian-scope",
    PolicyMarker = "policy-marker",
    CollaborationType = "collaboration-type",
    DefaultFlowType = "default-flow-type",
    DefaultFinanceType = "default-finance-type",
    DefaultAidType = "default-aid-type",
    DefaultTiedStatus = "default-tied-status",
    Budget = "budget",
    PeriodStart = "period-start",
    PeriodEnd = "period-end",
    Value = "value",
    PlannedDisbursement = "planned-disbursement",
    ProviderOrg = "provider-org",
    ReceiverOrg = "receiver-org",
    CapitalSpend = "capital-spend",
    Transaction = "transaction",
    TransactionType = "transaction-type",
    TransactionDate = "transaction-date",
    DisbursementChannel = "disbursement-channel",
    FlowType = "flow-type",
    FinanceType = "finance-type",
    AidType = "aid-type",
    TiedStatus = "tied-status",
    DocumentLink = "document-link",
    Category = "category",
    Language = "language",
    DocumentDate = "document-date",
    RelatedActivity = "related-activity",
    LegacyData = "legacy-data",
    Conditions = "conditions",
    Condition = "condition",
    Result = "result",
    Indicator = "indicator",
    Reference = "reference",
    Baseline = "baseline",
    Period = "period",
    Target = "target",
    Actual = "actual",
    Comment = "comment",
    Dimension = "dimension",
    CrsAdd = "crs-add",
    OtherFlags = "other-flags",
    LoanTerms = "loan-terms",
    RepaymentType = "repayment-type",
    RepaymentPlan = "repayment-plan",
    CommitmentDate = "commitment-date",
    RepaymentFirstDate = "repayment-first-date",
    RepaymentFinalDate = "repayment-final-date",
    LoanStatus = "loan-status",
    InterestReceived = "interest-received",
    PrincipalOutstanding = "principal-outstanding",
    PrincipalArrears = "principal-arrears",
    InterestArrears = "interest-arrears",
    ChannelCode = "channel-code",
    Fss = "fss",
    Forecast = "forecast",
    OtherIdentifier = "other-identifier",
    OwnerOrg = "owner-org",
    ActivityWebsite = "activity-website",
    IatiActivity = "iati-activity",
    IatiActivities = "iati-activities",
    DefaultCurrency = "default-currency",
    TitleEs = "title-es",
    Code = "code",
    VocabularyUri = "vocabulary-uri",
}

impl Elem {
    fn as_str(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// The 2.0x code of a 1.0x organisation role (any case), else the role as it is. Reuses `r`'s
/// allocation.
fn v1_role(mut r: CompactString) -> CompactString {
    let code = ["funding", "accountable", "extending", "implementing"]
        .iter()
        .position(|v| r.eq_ignore_ascii_case(v))
        .map(|i| ["1", "2", "3", "4"][i]);
    if let Some(c) = code {
        r.clear();
        r.push_str(c);
    }
    r
}

/// The 2.0x code of a 1.0x activity date type, else the type as it is. Reuses `t`'s allocation.
fn v1_date_type(mut t: CompactString) -> CompactString {
    let code = match t.as_str() {
        "start-planned" => "1",
        "start-actual" => "2",
        "end-planned" => "3",
        "end-actual" => "4",
        _ => return t,
    };
    t.clear();
    t.push_str(code);
    t
}

/// Whether an element of this kind reads the narratives (or, 1.0x, the text) inside it: only
/// then are its narratives kept and its `xml:lang` read.
fn takes_narratives(k: Kind) -> bool {
    use Kind::*;
    matches!(
        k,
        ReportingOrg
            | ParticipatingOrg
            | Title
            | Description
            | Sector
            | Tag
            | TxDescription
            | ProviderOrg
            | ReceiverOrg
            | LocName
            | LocDescription
            | ResultTitle
            | IndicatorTitle
            | Comment
    )
}

fn sector_vocabulary(v: Option<&str>) -> CompactString {
    match v.map(str::trim_ws) {
        None | Some("") | Some("DAC") | Some("1") => CompactString::const_new("1"),
        Some("DAC-3") | Some("2") => CompactString::const_new("2"),
        Some("RO") => CompactString::const_new("99"),
        Some(x) => x.into(),
    }
}

/// `s` in ASCII lower case (language codes), without a heap allocation when short.
fn lower(s: &str) -> CompactString {
    let mut c = CompactString::from(s);
    c.make_ascii_lowercase();
    c
}

/// 1.0x transaction type letters and their 2.0x numeric codes.
const TX_LETTERS: &[(&str, &str)] = &[
    ("IF", "1"),
    ("C", "2"),
    ("D", "3"),
    ("E", "4"),
    ("IR", "5"),
    ("LR", "6"),
    ("R", "7"),
    ("QP", "8"),
    ("QS", "9"),
    ("CG", "10"),
];

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim_ws() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
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

    fn xml_error(&self, e: quick_xml::Error) -> FatalError {
        if let quick_xml::Error::Io(io) = &e
            && let Some(c) = io.get_ref().and_then(|i| i.downcast_ref::<ForbiddenCharacter>())
        {
            if c.code == 0xFFFD {
                return FatalError {
                    code: "not-well-formed",
                    message: "bytes that are not valid in the file's encoding (a decoder can only make U+FFFD of them): the file is damaged, or its encoding declaration is wrong".into(),
                    offset: c.offset,
                };
            }
            let what = if c.code < 0x20 { "control character" } else { "noncharacter" };
            return FatalError {
                code: "not-well-formed",
                message: format!(
                    "{what} U+{:04X} in the file: XML 1.0 does not allow it anywhere, not even as text (remove it, or check that the file is really XML text)",
                    c.code
                ),
                offset: c.offset,
            };
        }
        if let quick_xml::Error::Io(io) = &e
            && let Some(u) = io.get_ref().and_then(|i| i.downcast_ref::<NotUtf8>())
        {
            let bytes: Vec<String> = u.bytes.iter().map(|b| format!("{b:02X}")).collect();
            let bytes = bytes.join(" ");
            let message = if u.end {
                format!(
                    "the file ends inside a UTF-8 character (bytes {bytes}): it was cut short (an incomplete download or copy?)"
                )
            } else {
                format!(
                    "the text is not valid UTF-8 here (bytes {bytes}): check the file's encoding (a file saved as Latin-1 or Windows-1252 must say so: <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>)"
                )
            };
            return FatalError { code: "not-well-formed", message, offset: u.offset };
        }
        FatalError {
            code: "not-well-formed",
            message: format!("XML is not well-formed: {e}"),
            offset: self.reader.error_position(),
        }
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

    fn file_diag(&mut self, severity: Severity, code: &str, message: String, offset: u64) {
        let d = self.new_diag(severity, code, message, offset, None, Some("iati-activities".into()));
        self.file_diagnostics.push(d);
    }

    /// The next activity, `Ok(None)` at the end of the document, or the fatal error that
    /// rejects the file.
    pub fn next_activity(&mut self) -> Result<Option<ParsedActivity>, FatalError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let pos = self.reader.buffer_position();
            self.buf.clear();
            let ev = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev.into_owned(),
                Err(e) => return Err(self.xml_error(e)),
            };
            let empty_root = matches!(ev, Event::Empty(_));
            if self.root_closed {
                let stray = match &ev {
                    Event::Text(t) => t.iter().any(|b| !is_xml_space(*b)),
                    Event::Comment(_) | Event::PI(_) | Event::Eof => false,
                    _ => true,
                };
                if stray {
                    let what = match &ev {
                        Event::Start(e) | Event::Empty(e) => {
                            format!("element <{}>", String::from_utf8_lossy(e.name().as_ref()))
                        }
                        Event::End(e) => format!("end tag </{}>", String::from_utf8_lossy(e.name().as_ref())),
                        Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => "text".into(),
                        _ => "markup".into(),
                    };
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: format!("{what} after </iati-activities>: an XML file has one root element"),
                        offset: pos,
                    });
                }
            }
            if let Event::Decl(_) = &ev
                && pos > 0
            {
                // The XML declaration may only open the file (XML 1.0, section 2.8).
                return Err(FatalError {
                    code: "not-well-formed",
                    message: "an XML declaration (<?xml ...?>) that is not at the very start of the file".into(),
                    offset: pos,
                });
            }
            if !self.root_seen
                && let Event::Text(t) = &ev
                && let Some(i) = t.iter().position(|b| !is_xml_space(*b))
            {
                // Only white space, comments and processing instructions may come before the root
                // element (a second byte-order mark is text: U+FEFF).
                let first = String::from_utf8_lossy(&t[i..]).chars().next().unwrap_or('?');
                return Err(FatalError {
                    code: "not-well-formed",
                    message: format!(
                        "text before the root element (starting with U+{:04X}{}): only white space may come before <iati-activities>",
                        u32::from(first),
                        if first == '\u{feff}' { ", a second byte-order mark" } else { "" }
                    ),
                    offset: pos + i as u64,
                });
            }
            forbidden_reference(&ev, pos)?;
            match ev {
                Event::DocType(d) => {
                    let raw = String::from_utf8_lossy(&d);
                    if raw.contains("<!ENTITY") {
                        return Err(FatalError {
                            code: "entity-declaration",
                            message: "the DOCTYPE declares entities: Senda never expands or fetches XML entities (IATI files do not need them)".into(),
                            offset: pos,
                        });
                    }
                    self.file_diag(
                        Severity::Warning,
                        "doctype-ignored",
                        "DOCTYPE ignored (IATI files do not need one)".into(),
                        pos,
                    );
                }
                Event::Start(e) | Event::Empty(e) if !self.root_seen => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if name != "iati-activities" {
                        return Err(FatalError {
                            code: "not-iati",
                            message: format!(
                                "root element is <{name}>, expected <iati-activities> (an IATI activity file)"
                            ),
                            offset: pos,
                        });
                    }
                    self.root_seen = true;
                    // quick-xml's own duplicate check is quadratic: the count is bounded first.
                    let mut keys: Vec<String> = Vec::new();
                    for a in e.attributes().with_checks(false) {
                        let a = a.map_err(|e| FatalError {
                            code: "not-well-formed",
                            message: format!("bad attribute: {e}"),
                            offset: pos,
                        })?;
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        if keys.len() >= MAX_ATTRIBUTES {
                            return Err(too_many_attributes(pos));
                        }
                        if keys.contains(&key) {
                            return Err(FatalError {
                                code: "not-well-formed",
                                message: format!(
                                    "XML is not well-formed: attribute {key} appears twice in one element"
                                ),
                                offset: pos,
                            });
                        }
                        keys.push(key.clone());
                        let val = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        if key == "version" {
                            self.version = Some(CompactString::from(val.trim_ws())).filter(|v| !v.is_empty());
                        } else if key == "generated-datetime" {
                            let mut norm = String::new();
                            if senda_core::codes::normalise_datetime_into(&val, &mut norm) {
                                self.generated = Some(norm.into());
                            } else {
                                self.file_diag(
                                    Severity::Warning,
                                    "invalid-datetime",
                                    format!("generated-datetime \"{val}\" is not an ISO 8601 date-time: ignored"),
                                    pos,
                                );
                            }
                        } else if let Some(p) = key.strip_prefix("xmlns:") {
                            self.namespaces.push((p.to_owned(), val.as_str().into()));
                        }
                    }
                    if empty_root {
                        self.root_closed = true;
                    }
                }
                Event::Start(e) if e.name().as_ref() == b"iati-activity" => {
                    return self.read_activity(e, pos, false).map(Some);
                }
                Event::Empty(e) if e.name().as_ref() == b"iati-activity" => {
                    return self.read_activity(e, pos, true).map(Some);
                }
                Event::Start(e) => {
                    // Another element under the root: read past it, saying so (its content,
                    // activities included, is not read).
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    let inside = self.skip_subtree()?;
                    self.stray_under_root(&name, inside, pos);
                }
                Event::Empty(e) if self.root_seen && !self.root_closed => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.stray_under_root(&name, 0, pos);
                }
                Event::Eof => {
                    self.done = true;
                    if !self.root_seen {
                        return Err(FatalError {
                            code: "not-iati",
                            message: "no XML element found: expected an <iati-activities> document".into(),
                            offset: pos,
                        });
                    }
                    if !self.root_closed {
                        return Err(FatalError {
                            code: "not-well-formed",
                            message:
                                "unexpected end of file: <iati-activities> is never closed (is the file truncated?)"
                                    .into(),
                            offset: pos,
                        });
                    }
                    return Ok(None);
                }
                Event::End(_) => {
                    // The root closes: the rest of the file is read to check that nothing but
                    // comments and white space follows.
                    self.root_closed = true;
                }
                _ => {}
            }
        }
    }

    /// Reports an element found directly under `<iati-activities>` that is not an
    /// `<iati-activity>` (skipped): a warning, or an error when `activities` activities sat
    /// inside it (they are not read: IATI puts them directly under the root).
    fn stray_under_root(&mut self, name: &str, activities: u64, pos: u64) {
        if activities > 0 {
            self.activities_not_read += activities;
            self.root_child_diag(
                name,
                Severity::Error,
                "activity-not-under-root",
                format!(
                    "<{name}> under <iati-activities> holds {activities} <iati-activity> element(s): not read (activities must sit directly under <iati-activities>), their money is not counted"
                ),
                pos,
            );
        } else {
            self.root_child_diag(
                name,
                Severity::Warning,
                "unexpected-element",
                format!("<{name}> directly under <iati-activities> is not an <iati-activity>: skipped"),
                pos,
            );
        }
    }

    fn root_child_diag(&mut self, name: &str, severity: Severity, code: &str, message: String, offset: u64) {
        let d = self.new_diag(severity, code, message, offset, None, Some(format!("iati-activities/{name}")));
        self.file_diagnostics.push(d);
    }

    /// Reads past the element just opened; returns how many `<iati-activity>` elements it held.
    fn skip_subtree(&mut self) -> Result<u64, FatalError> {
        let mut depth = 1u32;
        let mut activities = 0u64;
        while depth > 0 {
            self.buf.clear();
            let pos = self.reader.buffer_position();
            let ev = self.reader.read_event_into(&mut self.buf);
            if let Ok(ev) = &ev {
                forbidden_reference(ev, pos)?;
            }
            match ev {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    activities += u64::from(e.name().as_ref() == b"iati-activity");
                }
                Ok(Event::Empty(e)) => activities += u64::from(e.name().as_ref() == b"iati-activity"),
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Eof) => {
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: "unexpected end of file".into(),
                        offset: self.reader.buffer_position(),
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(e)),
            }
        }
        Ok(activities)
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
                "hierarchy" => a.hierarchy = v.trim_ws().parse().ok(),
                "humanitarian" => a.humanitarian = parse_bool(&v),
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

    fn keep_attr(&mut self, key: &str, value: &str, parent: &str) {
        if let Some((prefix, _)) = key.split_once(':')
            && prefix != "xml"
            && prefix != "xmlns"
        {
            let ns = self.namespaces.iter().find(|(p, _)| p == prefix).map(|(_, u)| u.clone());
            if let Some(a) = self.act.as_mut() {
                a.extensions.push(Extension {
                    namespace: ns,
                    name: senda_core::activity::format_compact!("@{key}"),
                    value: value.into(),
                    attributes: Vec::new(),
                    parent: parent.into(),
                });
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
    /// indicator, period, baseline, target, actual, point, recipient-country and -region), and
    /// ignored elements outside a narrative or extension (their text is dropped on close).
    fn text_wanted(&self) -> bool {
        use Kind::*;
        let n = self.frames.len();
        match self.frames.last().map(|f| f.kind) {
            Some(
                Activity | Transaction | Budget | Location | Result | Indicator | Period | Baseline | Target | Actual
                | Point | Country | Region,
            ) => false,
            Some(Ignored) => n >= 2 && matches!(self.frames[n - 2].kind, Narrative | Extension(_)),
            _ => true,
        }
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
        let (raw_name, colon_attr) = self.tag(e, pos, &mut attrs)?;
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
            (_, Kind::Narrative) => Kind::Ignored,
            (None, _) => {
                let ns = raw_name
                    .split_once(':')
                    .and_then(|(p, _)| self.namespaces.iter().find(|(q, _)| q == p))
                    .map(|(_, u)| u.clone());
                let parent_path = match parent {
                    // Inside an extension: its own path (what `ext_parent_path` would build).
                    Kind::Extension(idx) => match self.act.as_ref().and_then(|a| a.extensions.get(idx as usize)) {
                        Some(p) => {
                            let mut s = String::with_capacity(p.parent.len() + 1 + p.name.len());
                            s.push_str(&p.parent);
                            s.push('/');
                            s.push_str(&p.name);
                            s
                        }
                        None => self.ext_parent_path(),
                    },
                    _ => self.ext_parent_path(),
                };
                self.extension_bytes +=
                    parent_path.len() + raw_name.len() + attrs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
                if self.extension_bytes > MAX_EXTENSION_BYTES {
                    return Err(FatalError {
                        code: "limit",
                        message: format!(
                            "the activity's extension elements (unknown or namespaced) exceed {} MB",
                            MAX_EXTENSION_BYTES / (1024 * 1024)
                        ),
                        offset: pos,
                    });
                }
                let a = self.act.as_mut().ok_or_else(internal)?;
                a.extensions.push(Extension {
                    namespace: ns,
                    name: raw_name.into(),
                    value: CompactString::default(),
                    attributes: attrs
                        .iter()
                        .map(|(k, v)| (CompactString::from(*k), CompactString::from(v.as_ref())))
                        .collect(),
                    parent: parent_path.into(),
                });
                Kind::Extension(u32::try_from(a.extensions.len() - 1).map_err(|_| internal())?)
            }
            (Some(_), Kind::Extension(_)) | (Some(_), Kind::Ignored) => Kind::Ignored,
            (Some(n), p) => {
                self.current = name;
                let k = self.kind_for(n, p, &attrs, pos, &mut attr);
                self.current = None;
                k?
            }
        };
        // Namespaced attributes on known elements are kept.
        if colon_attr && !matches!(kind, Kind::Extension(_)) {
            for (k, v) in &attrs {
                if k.contains(':') && !k.starts_with("xml:") && !k.starts_with("xmlns:") {
                    let p = format!("{}/{}", self.path(), raw_name);
                    self.keep_attr(k, v, &p);
                }
            }
        }
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
        if empty {
            self.close()?;
        }
        Ok(())
    }

    fn ext_parent_path(&self) -> String {
        // As `path()`, with the transaction's index: `iati-activity/transaction[n]/...`.
        let in_tx = self.tx.is_some()
            && self.frames.first().is_some_and(|f| f.kind == Kind::Activity)
            && self.frames.get(1).is_some_and(|f| f.kind == Kind::Transaction);
        let n = in_tx.then(|| self.act.as_ref().map(|a| a.transactions.len()).unwrap_or(0));
        self.path_with(n)
    }

    fn kind_for(
        &mut self,
        n: Elem,
        p: Kind,
        attrs: &[(&str, std::borrow::Cow<'_, str>)],
        pos: u64,
        attr: &mut StartAttr,
    ) -> Result<Kind, FatalError> {
        let get = |k: &str| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.as_ref());
        let nonempty_str = |k: &str| get(k).map(str::trim_ws).filter(|v| !v.is_empty());
        let nonempty = |k: &str| nonempty_str(k).map(CompactString::from);
        use Elem as N;
        use Kind::*;
        Ok(match (p, n) {
            (_, N::Narrative) => Narrative,
            (Activity, N::IatiIdentifier) => Identifier,
            (Activity, N::ReportingOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ReportingOrg
            }
            (Activity, N::ParticipatingOrg) => {
                self.porg = Some(senda_core::ParticipatingOrg {
                    role: nonempty("role").map(v1_role),
                    org: OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() },
                    activity_id: nonempty("activity-id"),
                });
                ParticipatingOrg
            }
            (Activity, N::Title) => Title,
            (Activity, N::Description) => {
                *attr = StartAttr::code(nonempty("type"));
                Description
            }
            (Activity, N::ActivityStatus) => {
                *attr = StartAttr::code(nonempty("code"));
                Status
            }
            (Activity, N::ActivityScope) => {
                let a = self.act.as_mut().ok_or_else(internal)?;
                a.scope = nonempty("code");
                Ignored
            }
            (Activity, N::ActivityDate) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                let t = nonempty("type").map(v1_date_type).unwrap_or_default();
                self.date_type = Some(t);
                ActivityDate
            }
            (Activity | Transaction, N::RecipientCountry) => {
                let code = get("code").unwrap_or_default();
                let in_tx = p == Transaction;
                match CountryCode::parse(code) {
                    Ok(c) => {
                        let pct = self.pct(get("percentage"), pos);
                        let rc = RecipientCountry { code: c, percentage: pct };
                        if in_tx {
                            if let Some(t) = self.tx.as_mut() {
                                t.recipient_countries.push(rc);
                            }
                        } else {
                            self.act.as_mut().ok_or_else(internal)?.recipient_countries.push(rc);
                        }
                    }
                    Err(e) => {
                        self.code_diag(e, pos);
                        if in_tx {
                            if let Some(t) = self.tx.as_mut() {
                                t.invalid_country = true;
                            }
                        } else {
                            self.act.as_mut().ok_or_else(internal)?.invalid_country = true;
                        }
                    }
                }
                Country
            }
            (Activity | Transaction, N::RecipientRegion) => {
                let pct = self.pct(get("percentage"), pos);
                let rr = RecipientRegion {
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    percentage: pct,
                };
                if p == Transaction {
                    if let Some(t) = self.tx.as_mut() {
                        t.recipient_regions.push(rr);
                    }
                } else {
                    self.act.as_mut().ok_or_else(internal)?.recipient_regions.push(rr);
                }
                Region
            }
            (Activity | Transaction, N::Sector) => {
                let pct = self.pct(get("percentage"), pos);
                let vocabulary = sector_vocabulary(get("vocabulary"));
                let code: String = get("code").unwrap_or_default().trim_ws().into();
                if vocabulary == "1" && !(code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())) {
                    // Kept as given (never guessed), but reports group by it: say so.
                    self.diag(
                        Severity::Warning,
                        "invalid-sector-code",
                        format!("sector code {code:?} with vocabulary 1 is not a DAC 5-digit purpose code: reported as it is"),
                        pos,
                        Some(
                            if p == Transaction { "iati-activity/transaction/sector/@code" } else { "iati-activity/sector/@code" }
                                .into(),
                        ),
                    );
                }
                self.sector = Some(senda_core::Sector { vocabulary, code: code.into(), percentage: pct, name: None });
                Sector
            }
            (Activity, N::Tag) => {
                self.tag = Some(senda_core::Tag {
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    name: None,
                });
                Tag
            }
            (Activity, N::PolicyMarker) => {
                let pm = PolicyMarker {
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    significance: get("significance").and_then(|s| s.trim_ws().parse().ok()),
                };
                self.act.as_mut().ok_or_else(internal)?.policy_markers.push(pm);
                Ignored
            }
            (Activity, N::DefaultAidType) => {
                if let Some(c) = nonempty("code") {
                    self.act.as_mut().ok_or_else(internal)?.default_aid_types.push(c);
                }
                Ignored
            }
            (Activity, N::DefaultFlowType) => {
                self.act.as_mut().ok_or_else(internal)?.default_flow_type = nonempty("code");
                Ignored
            }
            (Activity, N::DefaultFinanceType) => {
                self.act.as_mut().ok_or_else(internal)?.default_finance_type = nonempty("code");
                Ignored
            }
            (Activity, N::CollaborationType) => {
                self.act.as_mut().ok_or_else(internal)?.collaboration_type = nonempty("code");
                Ignored
            }
            (Activity, N::RelatedActivity) => {
                if let Some(r) = nonempty("ref") {
                    self.act
                        .as_mut()
                        .ok_or_else(internal)?
                        .related_activities
                        .push(RelatedActivity { relation_type: nonempty("type").unwrap_or_default(), r#ref: r });
                }
                Ignored
            }
            (Activity, N::Budget) => {
                self.budget = Some(senda_core::Budget {
                    budget_type: nonempty("type"),
                    status: nonempty("status"),
                    period_start: None,
                    period_end: None,
                    value: None,
                });
                Budget
            }
            (Activity, N::Location) => {
                self.location = Some(senda_core::Location {
                    r#ref: nonempty("ref"),
                    name: Narratives::new(),
                    description: Narratives::new(),
                    administratives: vec![],
                    point: None,
                });
                Location
            }
            (Activity, N::Result) => {
                self.result =
                    Some(ResultItem { result_type: nonempty("type"), title: Narratives::new(), indicators: vec![] });
                Result
            }
            (Activity, N::Transaction) => {
                self.tx = Some(senda_core::Transaction {
                    r#ref: nonempty("ref"),
                    transaction_type: CompactString::default(),
                    date: None,
                    value: None,
                    description: Narratives::new(),
                    provider_org: None,
                    receiver_org: None,
                    recipient_countries: vec![],
                    recipient_regions: vec![],
                    invalid_country: false,
                    sectors: vec![],
                    aid_types: vec![],
                    humanitarian: get("humanitarian").and_then(parse_bool),
                });
                Transaction
            }
            (Transaction, N::TransactionType) => {
                *attr = StartAttr::code(nonempty("code"));
                TxType
            }
            (Transaction, N::TransactionDate) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                TxDate
            }
            (Transaction | Budget, N::Value) => {
                self.value = Some((
                    nonempty_str("currency").map(CurrencyCode::parse),
                    nonempty_str("value-date").map(parse_iso_date),
                ));
                Value
            }
            (Transaction, N::Description) => TxDescription,
            (Transaction, N::ProviderOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ProviderOrg
            }
            (Transaction, N::ReceiverOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ReceiverOrg
            }
            (Transaction, N::AidType) => {
                if let (Some(c), Some(t)) = (nonempty("code"), self.tx.as_mut()) {
                    t.aid_types.push(c);
                }
                Ignored
            }
            (Budget | Period, N::PeriodStart) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                PeriodStart
            }
            (Budget | Period, N::PeriodEnd) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                PeriodEnd
            }
            (Location, N::Name) => LocName,
            (Location, N::Description) => LocDescription,
            (Location, N::Administrative) => {
                if let (Some(c), Some(l)) = (nonempty("code"), self.location.as_mut()) {
                    l.administratives.push(Administrative {
                        vocabulary: nonempty("vocabulary"),
                        level: nonempty("level"),
                        code: c,
                    });
                }
                Ignored
            }
            (Location, N::Point) => Point,
            (Point, N::Pos) => Pos,
            (Result, N::Title) => ResultTitle,
            (Result, N::Indicator) => {
                self.indicator = Some(senda_core::Indicator {
                    measure: nonempty("measure"),
                    ascending: get("ascending").and_then(parse_bool),
                    title: Narratives::new(),
                    baselines: vec![],
                    periods: vec![],
                });
                Indicator
            }
            (Indicator, N::Title) => IndicatorTitle,
            (Indicator, N::Baseline) => {
                let date = self.date_attr(nonempty_str("iso-date").map(parse_iso_date), pos);
                self.ivalue = Some(IndicatorValue {
                    value: nonempty("value"),
                    year: get("year").and_then(|y| y.trim_ws().parse().ok()),
                    date,
                    comment: Narratives::new(),
                });
                Baseline
            }
            (Indicator, N::Period) => {
                self.period = Some(IndicatorPeriod { start: None, end: None, targets: vec![], actuals: vec![] });
                Period
            }
            (Period, N::Target) | (Period, N::Actual) => {
                self.ivalue = Some(IndicatorValue {
                    value: nonempty("value"),
                    year: None,
                    date: None,
                    comment: Narratives::new(),
                });
                if n == N::Target { Target } else { Actual }
            }
            (Baseline | Target | Actual, N::Comment) => Comment,
            (Transaction, N::Transaction) | (_, N::IatiActivity) => {
                let what = if n == N::Transaction { "transaction" } else { "iati-activity" };
                self.diag(
                    Severity::Warning,
                    "nested-element",
                    format!("<{what}> inside another one: ignored with everything in it (IATI does not nest them)"),
                    pos,
                    None,
                );
                Ignored
            }
            _ => Ignored,
        })
    }

    /// A second occurrence of an element IATI allows once (`what` in `parent`): ignored, with a
    /// warning; the first one is kept.
    fn duplicate(&mut self, what: &str, parent: &str, pos: u64) {
        self.diag(
            Severity::Warning,
            "duplicate-element",
            format!("a second <{what}> in this <{parent}>: ignored (IATI allows one; the first is kept)"),
            pos,
            None,
        );
    }

    fn pct(&mut self, raw: Option<&str>, pos: u64) -> Option<Percentage> {
        let raw = raw?;
        if raw.trim_ws().is_empty() {
            return None;
        }
        match Percentage::parse(raw) {
            Ok(p) => Some(p),
            Err(e) => {
                self.code_diag(e, pos);
                None
            }
        }
    }

    fn date_attr(&mut self, parsed: Option<Result<Date, CodeError>>, pos: u64) -> Option<Date> {
        match parsed? {
            Ok(d) => Some(d),
            Err(e) => {
                self.code_diag(e, pos);
                None
            }
        }
    }

    /// A date from `@iso-date`, or (1.0x) from the element text with a warning.
    fn date_or_text(&mut self, attr: Option<Result<Date, CodeError>>, text: &str, pos: u64) -> Option<Date> {
        if attr.is_some() {
            return self.date_attr(attr, pos);
        }
        let t = text.trim_ws();
        if t.is_empty() {
            return None;
        }
        match parse_iso_date(t) {
            Ok(d) => {
                self.diag(
                    Severity::Warning,
                    "date-in-text",
                    format!("date {t:?} given as element text instead of @iso-date (IATI 1.0x style): accepted"),
                    pos,
                    None,
                );
                Some(d)
            }
            Err(e) => {
                self.code_diag(e, pos);
                None
            }
        }
    }

    fn take_narratives(&mut self, f: &mut Frame, text: &str) -> Narratives {
        let mut v: Narratives = self.narrs.drain(f.narr_start..).collect();
        if v.is_empty() {
            let t = text.trim_ws();
            if !t.is_empty() {
                v.push(Narrative { lang: f.lang.take(), text: t.into() });
            }
        }
        v
    }

    /// The text of the first narrative of `f` (or its 1.0x text), as
    /// `take_narratives(f, text).into_iter().next().map(|n| n.text)` without the vector.
    fn first_narrative_text(&mut self, f: &Frame, text: &str) -> Option<CompactString> {
        let first = self.narrs.get_mut(f.narr_start).map(|n| std::mem::take(&mut n.text));
        self.narrs.truncate(f.narr_start);
        first.or_else(|| Some(text.trim_ws()).filter(|t| !t.is_empty()).map(CompactString::from))
    }

    fn close(&mut self) -> Result<(), FatalError> {
        let Some(mut f) = self.frames.pop() else { return Ok(()) };
        self.current = (!matches!(f.kind, Kind::Extension(_))).then_some(f.name());
        // The text buffer is moved out while the element is handled (nothing below writes to
        // it), so the element's text is borrowed, not copied.
        let text_buf = std::mem::take(&mut self.text);
        let text = &text_buf[f.text_start.min(text_buf.len())..];
        let pos = f.offset;
        use Kind::*;
        match f.kind {
            Narrative => {
                let t = text.trim_ws();
                // A narrative in an element that does not read narratives is dropped when that
                // element closes: not built at all.
                if !t.is_empty() && takes_narratives(self.parent()) {
                    self.narrs.truncate(f.narr_start);
                    self.narrs.push(senda_core::Narrative { lang: f.lang.take(), text: t.into() });
                }
            }
            Identifier if self.id_ok => self.duplicate("iati-identifier", "iati-activity", pos),
            Identifier => match IatiIdentifier::parse(text) {
                Ok(id) => {
                    if let Some(a) = self.act.as_mut() {
                        a.iati_identifier = id;
                    }
                    self.id_ok = true;
                }
                Err(e) => self.code_diag(e, pos),
            },
            ReportingOrg => {
                let names = self.take_narratives(&mut f, text);
                if let (Some(mut o), Some(a)) = (self.org.take(), self.act.as_mut()) {
                    o.names = names;
                    a.reporting_org = o;
                }
            }
            ParticipatingOrg => {
                let names = self.take_narratives(&mut f, text);
                if let (Some(mut p), Some(a)) = (self.porg.take(), self.act.as_mut()) {
                    p.org.names = names;
                    a.participating_orgs.push(p);
                }
            }
            Title => {
                let n = self.take_narratives(&mut f, text);
                if let Some(a) = self.act.as_mut() {
                    if a.title.is_empty() {
                        a.title = n;
                    } else {
                        a.title.extend(n);
                    }
                }
            }
            Description => {
                let n = self.take_narratives(&mut f, text);
                if let Some(a) = self.act.as_mut() {
                    a.descriptions
                        .push(senda_core::Description { description_type: f.attr.take_code(), narratives: n });
                }
            }
            Status => {
                let code =
                    f.attr.take_code().or_else(|| Some(CompactString::from(text.trim_ws())).filter(|s| !s.is_empty()));
                if let Some(a) = self.act.as_mut() {
                    a.status = code;
                }
            }
            ActivityDate => {
                let ty = self.date_type.take().unwrap_or_default();
                if let Some(d) = self.date_or_text(f.attr.take_date(), text, pos)
                    && let Some(a) = self.act.as_mut()
                {
                    a.dates.push(senda_core::ActivityDate { date_type: ty, date: d });
                }
            }
            Sector => {
                let name = self.first_narrative_text(&f, text);
                if let Some(mut s) = self.sector.take() {
                    s.name = name;
                    let in_tx = self.parent() == Transaction;
                    if let Some(t) = self.tx.as_mut().filter(|_| in_tx) {
                        t.sectors.push(s);
                    } else if let Some(a) = self.act.as_mut() {
                        a.sectors.push(s);
                    }
                }
            }
            Tag => {
                let name = self.first_narrative_text(&f, text);
                if let (Some(mut t), Some(a)) = (self.tag.take(), self.act.as_mut()) {
                    t.name = name;
                    a.tags.push(t);
                }
            }
            Transaction => {
                if let Some(mut t) = self.tx.take() {
                    if t.transaction_type.is_empty() {
                        self.diag(
                            Severity::Error,
                            "missing-transaction-type",
                            "transaction without <transaction-type>: not reported".into(),
                            pos,
                            Some("iati-activity/transaction".into()),
                        );
                    }
                    if t.recipient_countries.len() + usize::from(t.invalid_country) > 1 {
                        self.diag(
                            Severity::Warning,
                            "several-transaction-countries",
                            "transaction names several recipient-country elements: money split equally (an invalid code's share goes to UNKNOWN)".into(),
                            pos,
                            Some("iati-activity/transaction/recipient-country".into()),
                        );
                    }
                    t.description.shrink_to_fit();
                    if let Some(a) = self.act.as_mut() {
                        a.transactions.push(t);
                    }
                }
            }
            TxType if self.tx.as_ref().is_some_and(|t| !t.transaction_type.is_empty()) => {
                self.duplicate("transaction-type", "transaction", pos)
            }
            TxType => {
                let raw = f
                    .attr
                    .take_code()
                    .or_else(|| Some(CompactString::from(text.trim_ws())).filter(|s| !s.is_empty()))
                    .unwrap_or_default();
                let v1 = self.version.as_deref().is_some_and(|v| v.starts_with('1'));
                let code = if let Some((_, c)) = TX_LETTERS.iter().find(|(l, _)| l.eq_ignore_ascii_case(raw.trim_ws()))
                {
                    if !v1 {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-v1-code",
                            format!(
                                "1.0x transaction type {raw:?} in a {} file: read as {c}",
                                self.version.clone().unwrap_or_else(|| "2.0x".into())
                            ),
                            pos,
                            None,
                        );
                    }
                    CompactString::from(*c)
                } else if let Some(n) = raw.trim_ws().parse::<u8>().ok().filter(|n| (1..=13).contains(n)) {
                    // Stored as the codelist spells it: "02", "+2" and "002" are code "2" (the
                    // reports look codes up by their spelling).
                    let code = senda_core::activity::format_compact!("{n}");
                    if v1 {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-v2-code",
                            format!(
                                "2.0x numeric transaction type {raw:?} in a version {} file: read as {code}",
                                self.version.clone().unwrap_or_default(),
                            ),
                            pos,
                            None,
                        );
                    } else if code != raw.trim_ws() {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-spelling",
                            format!("transaction type {raw:?} read as code {code}"),
                            pos,
                            None,
                        );
                    }
                    code
                } else {
                    self.diag(
                        Severity::Error,
                        "invalid-transaction-type",
                        format!("unknown transaction type {raw:?}: transaction not reported"),
                        pos,
                        None,
                    );
                    "?".into()
                };
                if let Some(t) = self.tx.as_mut() {
                    t.transaction_type = code;
                }
            }
            TxDate if self.tx.as_ref().is_some_and(|t| t.date.is_some()) => {
                self.duplicate("transaction-date", "transaction", pos)
            }
            TxDate => {
                let d = self.date_or_text(f.attr.take_date(), text, pos);
                if let Some(t) = self.tx.as_mut() {
                    t.date = d;
                }
            }
            Value if self.parent() == Transaction && self.tx.as_ref().is_some_and(|t| t.value.is_some()) => {
                self.value = None;
                self.duplicate("value", "transaction", pos)
            }
            Value => {
                let (cur, vdate) = self.value.take().unwrap_or((None, None));
                let money = self.money(text, cur, vdate, pos);
                match self.parent() {
                    Transaction => {
                        if let Some(t) = self.tx.as_mut() {
                            t.value = money;
                        }
                    }
                    Budget => {
                        if let Some(b) = self.budget.as_mut() {
                            b.value = money;
                        }
                    }
                    _ => {}
                }
            }
            TxDescription => {
                let n = self.take_narratives(&mut f, text);
                if let Some(t) = self.tx.as_mut() {
                    if t.description.is_empty() {
                        t.description = n;
                    } else {
                        t.description.extend(n);
                    }
                }
            }
            ProviderOrg | ReceiverOrg => {
                let names = self.take_narratives(&mut f, text);
                if let (Some(mut o), Some(t)) = (self.org.take(), self.tx.as_mut()) {
                    o.names = names;
                    if f.kind == ProviderOrg {
                        t.provider_org = Some(Box::new(o));
                    } else {
                        t.receiver_org = Some(Box::new(o));
                    }
                }
            }
            Budget => {
                if let (Some(b), Some(a)) = (self.budget.take(), self.act.as_mut()) {
                    a.budgets.push(b);
                }
            }
            PeriodStart | PeriodEnd => {
                let d = self.date_or_text(f.attr.take_date(), text, pos);
                let start = f.kind == PeriodStart;
                match self.parent() {
                    Budget => {
                        if let Some(b) = self.budget.as_mut() {
                            if start { b.period_start = d } else { b.period_end = d }
                        }
                    }
                    Period => {
                        if let Some(p) = self.period.as_mut() {
                            if start { p.start = d } else { p.end = d }
                        }
                    }
                    _ => {}
                }
            }
            Location => {
                if let (Some(l), Some(a)) = (self.location.take(), self.act.as_mut()) {
                    a.locations.push(l);
                }
            }
            LocName | LocDescription => {
                let n = self.take_narratives(&mut f, text);
                if let Some(l) = self.location.as_mut() {
                    if f.kind == LocName { l.name = n } else { l.description = n }
                }
            }
            Pos => {
                let p = self.point(text, pos);
                if let Some(l) = self.location.as_mut() {
                    l.point = p;
                }
            }
            Result => {
                if let (Some(r), Some(a)) = (self.result.take(), self.act.as_mut()) {
                    a.results.push(r);
                }
            }
            ResultTitle => {
                let n = self.take_narratives(&mut f, text);
                if let Some(r) = self.result.as_mut() {
                    r.title = n;
                }
            }
            Indicator => {
                if let (Some(i), Some(r)) = (self.indicator.take(), self.result.as_mut()) {
                    r.indicators.push(i);
                }
            }
            IndicatorTitle => {
                let n = self.take_narratives(&mut f, text);
                if let Some(i) = self.indicator.as_mut() {
                    i.title = n;
                }
            }
            Baseline => {
                if let (Some(v), Some(i)) = (self.ivalue.take(), self.indicator.as_mut()) {
                    i.baselines.push(v);
                }
            }
            Period => {
                if let (Some(p), Some(i)) = (self.period.take(), self.indicator.as_mut()) {
                    i.periods.push(p);
                }
            }
            Target | Actual => {
                if let (Some(v), Some(p)) = (self.ivalue.take(), self.period.as_mut()) {
                    if f.kind == Target { p.targets.push(v) } else { p.actuals.push(v) }
                }
            }
            Comment => {
                let n = self.take_narratives(&mut f, text);
                if let Some(v) = self.ivalue.as_mut() {
                    v.comment = n;
                }
            }
            Extension(idx) => {
                if let Some(e) = self.act.as_mut().and_then(|a| a.extensions.get_mut(idx as usize)) {
                    e.value = text.trim_ws().into();
                }
            }
            Country | Region | Point | Activity | Ignored => {}
        }
        self.text = text_buf;
        // Text is kept for a narrative's markup children and for extensions; otherwise dropped.
        let keep_text = matches!(self.parent(), Kind::Narrative | Kind::Extension(_));
        if !keep_text {
            self.text.truncate(f.text_start.min(self.text.len()));
        }
        if f.kind != Kind::Narrative {
            self.narrs.truncate(f.narr_start.min(self.narrs.len()));
        }
        self.current = None;
        Ok(())
    }

    fn money(&mut self, text: &str, cur: Parsed<CurrencyCode>, vdate: Parsed<Date>, pos: u64) -> Option<Money> {
        let amount = match parse_amount(text) {
            Ok(a) => a,
            Err(e) => {
                self.code_diag(e, pos);
                return None;
            }
        };
        // Money is never dropped: an amount without a valid currency is kept under ISO 4217's
        // "no currency" (XXX), in the unconverted figures, with the error (never guessed).
        let currency = match cur {
            Some(c) => match c {
                Ok(c) => c,
                Err(e) => {
                    self.code_diag(e, pos);
                    CurrencyCode::NONE
                }
            },
            None => match self.act.as_ref().and_then(|a| a.default_currency) {
                Some(c) => c,
                None => {
                    let message = if self.default_currency_invalid {
                        "value has no @currency and the activity's @default-currency is invalid: amount kept under XXX (no currency), in the unconverted figures (never guessed)"
                    } else {
                        "value has no @currency and the activity no @default-currency: amount kept under XXX (no currency), in the unconverted figures (never guessed)"
                    };
                    self.diag(Severity::Error, "missing-currency", message.into(), pos, None);
                    CurrencyCode::NONE
                }
            },
        };
        let value_date = match vdate {
            Some(v) => match v {
                Ok(d) => Some(d),
                Err(e) => {
                    self.diag(Severity::Warning, "invalid-value-date", e.to_string(), pos, None);
                    None
                }
            },
            None => None,
        };
        Some(Money { amount, currency, value_date })
    }

    fn point(&mut self, text: &str, pos: u64) -> Option<senda_core::Point> {
        let t = text.trim_ws();
        if t.is_empty() {
            return None;
        }
        let comma = t.contains(',') && !t.contains(' ');
        let parts: Vec<&str> =
            if comma { t.split(',').map(str::trim).collect() } else { t.split_whitespace().collect() };
        let parsed = match parts.as_slice() {
            [a, b] => a.parse::<f64>().ok().zip(b.parse::<f64>().ok()),
            _ => None,
        };
        let Some((lat, lon)) = parsed else {
            self.diag(
                Severity::Error,
                "invalid-point",
                format!("point {t:?} is not \"latitude longitude\": location kept without a point"),
                pos,
                None,
            );
            return None;
        };
        if comma {
            self.diag(Severity::Warning, "point-comma", format!("point {t:?} uses a comma; IATI expects \"latitude longitude\" separated by a space: read as {lat} {lon}"), pos, None);
        }
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || !lat.is_finite() || !lon.is_finite() {
            self.diag(
                Severity::Error,
                "point-out-of-range",
                format!(
                    "point {t:?} is out of range (latitude -90..90, longitude -180..180): location kept without a point"
                ),
                pos,
                None,
            );
            return None;
        }
        Some(senda_core::Point { lat, lon })
    }
}

/// `str::trim` with a shortcut for the usual value that starts and ends with a visible ASCII
/// character (nothing to trim): the same result, without the Unicode whitespace tables.
trait TrimWs {
    /// Same as `str::trim`.
    fn trim_ws(&self) -> &str;
}

impl TrimWs for str {
    #[inline]
    fn trim_ws(&self) -> &str {
        match self.as_bytes() {
            // Every non-ASCII whitespace character starts with a byte >= 0x80; the ASCII ones
            // are at most b' '.
            [first, .., last] if *first > b' ' && *first < 0x80 && *last > b' ' && *last < 0x80 => self,
            [only] if *only > b' ' && *only < 0x80 => self,
            _ => self.trim(),
        }
    }
}

/// XML whitespace, as quick-xml reads it between attributes.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// Name and attributes of a start tag's text `s` (name first, `name_len` bytes long), when
/// every attribute is `key = "value"` (or single-quoted), no key twice and every entity
/// reference in a value is a predefined or character reference: then the result is what
/// quick-xml's `attributes().with_checks(false)` and `unescape_value` return, without a UTF-8
/// check per name and value. `None` for anything else (the caller then takes quick-xml's path,
/// which reports the error).
///
/// The attributes are pushed to `out` (partly filled when `None` is returned); the result is the
/// name and whether an attribute name has a `:`.
fn parse_tag<'e>(s: &'e str, name_len: usize, out: &mut Attrs<'e>) -> Option<(&'e str, bool)> {
    let name = s.get(..name_len)?;
    let b = s.as_bytes();
    let n = b.len();
    let mut colon = false;
    let mut i = name_len;
    loop {
        // Same scan as quick-xml's attribute iterator (XML mode).
        while i < n && is_xml_space(b[i]) {
            i += 1;
        }
        if i == n {
            return Some((name, colon));
        }
        let key_start = i;
        while i < n && b[i] != b'=' && !is_xml_space(b[i]) {
            colon |= b[i] == b':';
            i += 1;
        }
        let key_end = i;
        if key_end == key_start {
            // quick-xml reads a key starting with `=` differently: leave it to quick-xml.
            return None;
        }
        while i < n && is_xml_space(b[i]) {
            i += 1;
        }
        if i == n || b[i] != b'=' {
            return None;
        }
        i += 1;
        while i < n && is_xml_space(b[i]) {
            i += 1;
        }
        let quote = *b.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        // One pass finds the closing quote and notes any `&`.
        let mut amp = false;
        let mut value_end = None;
        for (j, &c) in b.iter().enumerate().skip(value_start) {
            if c == quote {
                value_end = Some(j);
                break;
            }
            amp |= c == b'&';
        }
        let value_end = value_end?;
        i = value_end + 1;
        // The delimiters are ASCII, hence char boundaries of the validated `s`.
        let key = s.get(key_start..key_end)?;
        let raw_value = s.get(value_start..value_end)?;
        let value =
            if amp { quick_xml::escape::unescape(raw_value).ok()? } else { std::borrow::Cow::Borrowed(raw_value) };
        // A character reference to a character XML forbids: quick-xml's path reports it.
        if amp && !value.chars().all(is_xml_char) {
            return None;
        }
        if out.len() >= MAX_ATTRIBUTES || out.iter().any(|(k, _)| *k == key) {
            return None;
        }
        out.push((key, value));
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

    /// quick-xml's reading of a tag: name and attributes, or None when it reports an error.
    fn quick_xml_tag(raw: &[u8]) -> Option<(String, Vec<(String, String)>)> {
        let doc = [b"<", raw, b"/>"].concat();
        let mut reader = Reader::from_reader(&doc[..]);
        let mut buf = Vec::new();
        let Ok(Event::Empty(e)) = reader.read_event_into(&mut buf) else {
            // Not a tag quick-xml can read (unbalanced quotes): never reaches `parse_tag`.
            return Some((String::new(), vec![(String::new(), String::new())]));
        };
        assert_eq!(&*e, raw);
        let name = std::str::from_utf8(e.name().into_inner()).ok()?.to_owned();
        let mut out: Vec<(String, String)> = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a = a.ok()?;
            let key = std::str::from_utf8(a.key.into_inner()).ok()?.to_owned();
            let value = a.unescape_value().ok()?.into_owned();
            if out.iter().any(|(k, _)| *k == key) {
                return None;
            }
            out.push((key, value));
        }
        Some((name, out))
    }

    #[test]
    fn trim_ws_is_trim() {
        let mut cases: Vec<String> =
            ["", " ", "a", " a", "a ", "\u{a0}a", "a\u{3000}", "\u{b}a\u{c}", "\u{1}", "é", "a b"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        cases.extend(
            (0u32..0x3100)
                .filter_map(char::from_u32)
                .flat_map(|c| [format!("{c}"), format!("{c}x{c}"), format!("x{c}")]),
        );
        for c in &cases {
            assert_eq!(c.trim_ws(), c.trim(), "{c:?}");
        }
    }

    #[test]
    fn fast_tag_parse_agrees_with_quick_xml() {
        let fixed: &[&[u8]] = &[
            b"a",
            b"a ",
            b"a x=\"1\"",
            b"a x='1' y=\"2\"",
            b"a x = \"1\"\ty\n=\r'2' ",
            b"a x=\"1\"y=\"2\"",
            b"a x=\"1\" x=\"2\"",
            b"a x",
            b"a x=",
            b"a x=1",
            b"a x=\"1",
            b"a =\"1\"",
            b"a ==\"1\"",
            b"a x=\"&amp;&lt;&#65;&#x42;\"",
            b"a x=\"&bogus;\"",
            b"a x=\"&amp\"",
            b"a x=\"a;b\"",
            b"a x=\"\xff\"",
            b"\xff x=\"1\"",
            b"a x=\"\xc3\xa9\" xml:lang=\"EN\" xmlns:usg=\"u\"",
        ];
        let mut cases: Vec<Vec<u8>> = fixed.iter().map(|c| c.to_vec()).collect();
        let alphabet: &[u8] = b"ab:= \t\"'&;#x1\xc3\xa9\xff";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            let mut c = b"e ".to_vec();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 14) as usize;
            for k in 0..len {
                c.push(alphabet[((seed >> (4 + 4 * k)) % alphabet.len() as u64) as usize]);
            }
            cases.push(c);
        }
        for ok in [&b"a x='1' y=\"2\""[..], b"a x=\"&amp;&#65;\" xml:lang=\"en\"", b"a x=\"a;b\""] {
            let ok = std::str::from_utf8(ok).expect("ASCII");
            assert!(parse_tag(ok, 1, &mut Attrs::new()).is_some(), "{ok:?}");
        }
        let (mut compared, mut fast_accepted) = (0, 0);
        for c in &cases {
            let name_len = c.iter().position(|&b| is_xml_space(b)).unwrap_or(c.len());
            let expected = quick_xml_tag(c);
            if expected.as_ref().is_some_and(|(n, a)| n.is_empty() && a.len() == 1) {
                continue;
            }
            compared += 1;
            let mut attrs = Attrs::new();
            // The reader checks UTF-8 before the fast path (a tag that is not UTF-8 goes
            // through quick-xml's).
            let fast = std::str::from_utf8(c).ok().and_then(|s| parse_tag(s, name_len, &mut attrs));
            if let Some((name, colon)) = fast {
                assert_eq!(colon, attrs.iter().any(|(k, _)| k.contains(':')));
                fast_accepted += 1;
                let fast =
                    (name.to_owned(), attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
                assert_eq!(Some(fast), expected, "{:?}", String::from_utf8_lossy(c));
            }
        }
        assert!(compared > 100_000 && fast_accepted > 10_000, "{compared} {fast_accepted}");
    }
}

//! What is read: a file's bytes, hashed as they are read ([`Hashed`]), its encoding (a
//! byte-order mark or a declaration; [`open_file`]), the checks every byte and character passes
//! ([`Checked`]: UTF-8, the characters XML 1.0 forbids; character references and attribute
//! values), line ends normalised, and byte offsets turned into line:column
//! ([`resolve_positions`]). Nothing here knows IATI.

use super::*;

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
pub(super) struct HashState {
    pub(super) hasher: xxhash_rust::xxh3::Xxh3,
    pub(super) bytes: u64,
    /// The same bytes without their timestamp values (see [`crate::stamps`]).
    pub(super) stable: crate::stamps::StableHasher,
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
            st.stable.update(read);
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
pub(super) struct NotUtf8 {
    pub(super) offset: u64,
    /// The first bytes from there (at most 4), for the message.
    pub(super) bytes: Vec<u8>,
    /// The file ends inside the character.
    pub(super) end: bool,
}

/// The error [`Checked`] returns for a forbidden character: its offset in the decoded stream and
/// its code point (turned into a `not-well-formed` [`FatalError`] by the reader).
#[derive(Debug, thiserror::Error)]
#[error("character U+{code:04X} at byte {offset}")]
pub(super) struct ForbiddenCharacter {
    pub(super) offset: u64,
    pub(super) code: u32,
}

/// True for the bytes XML 1.0 forbids everywhere (C0 controls but tab, LF and CR). In UTF-8
/// these bytes never occur inside a multi-byte character.
pub(super) fn is_forbidden_control(b: u8) -> bool {
    // Bitwise, not `&&`: no branches, so a loop over bytes is vectorised.
    (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')
}

/// True for a byte that may start a forbidden character: a control character, or `EF`, the
/// first byte of U+FFFE and U+FFFF in UTF-8 (and of every character from U+F000 to U+FFFF, which
/// [`first_forbidden`] then tells apart).
pub(super) fn is_suspect(b: u8) -> bool {
    is_forbidden_control(b) | (b == 0xEF)
}

/// True when `bytes` holds a byte [`is_suspect`] flags: 64 bytes at a time without branches
/// (a few instructions per byte; `docs/benchmarks.md`), so the exact scan runs only on the
/// rare chunk that needs it.
pub(super) fn has_suspect(bytes: &[u8]) -> bool {
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
pub(super) fn first_forbidden(w: &[u8], replacement: bool) -> (Option<(usize, u32)>, usize) {
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
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

pub(super) type Decoded = BufReader<Checked>;

/// Refuses a character reference to a character XML 1.0 forbids in an event read outside the
/// activities (the root's attributes, elements under the root that are read past, text under
/// the root): inside an activity the element handlers check them.
pub(super) fn forbidden_reference(ev: &Event<'_>, pos: u64) -> Result<(), FatalError> {
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
pub(super) fn char_ref(r: &quick_xml::events::BytesRef<'_>, pos: u64) -> Result<char, FatalError> {
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
pub(super) fn check_attribute_chars(key: &str, value: &str, pos: u64) -> Result<(), FatalError> {
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
pub(super) fn push_line_ends_normalised(out: &mut String, s: &str) {
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
pub(super) const HEAD_BYTES: usize = 512;

/// Fills `head` from the start of `f` (fewer bytes only at the end of the file); the count read.
pub(super) fn read_head(f: &mut File, head: &mut [u8]) -> std::io::Result<usize> {
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
pub(super) fn decoder<R: Read>(
    r: R,
    declared: Option<&'static encoding_rs::Encoding>,
) -> DecodeReaderBytes<R, Vec<u8>> {
    DecodeReaderBytesBuilder::new().encoding(declared).utf8_passthru(true).strip_bom(true).bom_override(true).build(r)
}

pub(super) fn sniff(head: &[u8]) -> Result<(), FatalError> {
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
pub(super) fn declared_label(head: &[u8]) -> Option<(&str, usize)> {
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
pub(super) fn declared_encoding(head: &[u8]) -> Result<Option<&'static encoding_rs::Encoding>, FatalError> {
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

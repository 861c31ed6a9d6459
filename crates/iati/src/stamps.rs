//! A file regenerated with nothing but new timestamps (issue 20 item 12).
//!
//! Publishers such as USAID regenerate their files daily: the same activities, with a new
//! `iati-activities/@generated-datetime` and new `iati-activity/@last-updated-datetime` values.
//! Their bytes change, so the content hash no longer skips them. [`StableHasher`] hashes a file's
//! bytes *without the values of those two attributes* (on those two elements only) and collects
//! the values it left out, in document order. When a file's stable hash equals the one recorded
//! at its last import, nothing but those values changed: the importer moves the stored
//! timestamps ([`Stamps`]) and reads nothing else again.
//!
//! The scan works on the file's raw bytes as they are read, chunk by chunk (a tag cut by a
//! chunk's end is carried over), so it costs one pass with the content hash and never holds the
//! file. It is a scan, not a parser: it finds `<iati-activities` and `<iati-activity` start tags
//! by their bytes. Where a file could fool it (such a tag inside a comment or CDATA section, a
//! file in UTF-16, a value with a character reference), the reader's own count and values differ
//! from the scan's and the file gets no stable hash (see `ActivityReader::stable_digest`): it is
//! then always read in full, as before.

use xxhash_rust::xxh3::Xxh3;

/// What every start tag of interest begins with: `<iati-activit` + `y` or `ies`.
const PATTERN: &[u8] = b"<iati-activit";
/// The longest attribute name or timestamp value the scan keeps; longer: no stable hash.
const MAX_PART: usize = 256;

/// The timestamps a [`StableHasher`] left out of its hash, as published (not unescaped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    /// `iati-activities/@generated-datetime` (the first root tag's).
    pub generated: Option<String>,
    /// `@last-updated-datetime` of each `iati-activity`, in document order (index = the
    /// activity's ordinal in the file); `None` where the activity has none.
    pub activities: Vec<Option<String>>,
}

/// A file's stable hash (hex, like the content hash) and the timestamps left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StableDigest {
    /// xxh3-128 of the bytes without the timestamp values, 32 hex digits.
    pub hash: String,
    /// The values left out.
    pub stamps: Stamps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside a tag of interest; `matched` bytes of [`PATTERN`] end the bytes seen so far.
    Outside { matched: usize },
    /// After `<iati-activit`: the rest of the element name.
    Name,
    /// Inside a tag of interest, between attributes.
    Between,
    /// An attribute name.
    AttrName,
    /// After an attribute name: white space, then `=`.
    BeforeEq,
    /// After `=`: white space, then a quote.
    AfterEq,
    /// An attribute value up to the closing `quote`; `skip`: a timestamp, left out of the hash.
    Value { quote: u8, skip: bool },
}

/// Which tag of interest the scan is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Root,
    Activity,
}

/// Streaming hash of a file's bytes without its timestamp values (see the module docs).
#[derive(Clone)]
pub struct StableHasher {
    hasher: Xxh3,
    state: State,
    tag: Tag,
    /// The element name after `<iati-activit`, or the attribute name being read.
    part: Vec<u8>,
    /// The timestamp value being read (left out of the hash).
    value: Vec<u8>,
    /// The root's `generated-datetime` was seen (a second root tag, in a comment, is ignored).
    root_seen: bool,
    stamps: Stamps,
    /// Something the scan does not follow (a tag too odd, a value too long): no stable hash.
    broken: bool,
}

impl std::fmt::Debug for StableHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StableHasher").field("state", &self.state).field("stamps", &self.stamps).finish()
    }
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher {
            hasher: Xxh3::new(),
            state: State::Outside { matched: 0 },
            tag: Tag::Activity,
            part: Vec::new(),
            value: Vec::new(),
            root_seen: false,
            stamps: Stamps::default(),
            broken: false,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl StableHasher {
    /// A hasher at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        let mut i = 0;
        // Bytes before `from` are hashed; `chunk[from..i]` waits to be.
        let mut from = 0;
        while i < chunk.len() {
            match self.state {
                State::Outside { matched } => {
                    if matched > 0 {
                        // A pattern cut by the previous chunk's end: does this chunk finish it?
                        let need = &PATTERN[matched..];
                        let have = &chunk[i..chunk.len().min(i + need.len())];
                        if need.starts_with(have) {
                            i += have.len();
                            self.state = if have.len() == need.len() {
                                State::Name
                            } else {
                                State::Outside { matched: matched + have.len() }
                            };
                            if let State::Name = self.state {
                                self.part.clear();
                            }
                            continue;
                        }
                        self.state = State::Outside { matched: 0 };
                    }
                    match memchr::memmem::find(&chunk[i..], PATTERN) {
                        Some(q) => {
                            i += q + PATTERN.len();
                            self.part.clear();
                            self.state = State::Name;
                        }
                        None => {
                            // The longest end of the chunk that begins the pattern.
                            let tail = &chunk[i..];
                            let matched = (1..PATTERN.len().min(tail.len() + 1))
                                .rev()
                                .find(|&k| tail.ends_with(&PATTERN[..k]))
                                .unwrap_or(0);
                            self.state = State::Outside { matched };
                            i = chunk.len();
                        }
                    }
                }
                State::Name => {
                    let b = chunk[i];
                    if is_space(b) || b == b'>' || b == b'/' {
                        let tag = match self.part.as_slice() {
                            b"y" => Some(Tag::Activity),
                            b"ies" => Some(Tag::Root),
                            _ => None,
                        };
                        match tag {
                            Some(t) => {
                                self.tag = t;
                                if t == Tag::Activity {
                                    self.stamps.activities.push(None);
                                }
                                self.state = State::Between;
                                // This byte is read by `Between` (it may be `>`).
                            }
                            None => {
                                self.state = State::Outside { matched: 0 };
                                i += 1;
                            }
                        }
                    } else if b == b'<' {
                        // `<iati-activit<`: not a tag of interest; `<` may begin one.
                        self.state = State::Outside { matched: 0 };
                    } else {
                        self.part.push(b);
                        if self.part.len() > 3 {
                            self.state = State::Outside { matched: 0 };
                        }
                        i += 1;
                    }
                }
                State::Between => {
                    let b = chunk[i];
                    i += 1;
                    if b == b'>' {
                        self.state = State::Outside { matched: 0 };
                    } else if b == b'/' || is_space(b) {
                    } else if b == b'<' || b == b'=' || b == b'"' || b == b'\'' {
                        self.fail();
                    } else {
                        self.part.clear();
                        self.part.push(b);
                        self.state = State::AttrName;
                    }
                }
                State::AttrName | State::BeforeEq => {
                    let b = chunk[i];
                    i += 1;
                    if b == b'=' {
                        self.state = State::AfterEq;
                    } else if is_space(b) {
                        self.state = State::BeforeEq;
                    } else if self.state == State::AttrName && !matches!(b, b'<' | b'>' | b'"' | b'\'' | b'/') {
                        self.part.push(b);
                        if self.part.len() > MAX_PART {
                            self.fail();
                        }
                    } else {
                        self.fail();
                    }
                }
                State::AfterEq => {
                    let b = chunk[i];
                    i += 1;
                    if b == b'"' || b == b'\'' {
                        let skip = match self.tag {
                            Tag::Activity => self.part == b"last-updated-datetime",
                            Tag::Root => self.part == b"generated-datetime",
                        };
                        if skip {
                            // Hash up to and with the opening quote; the value is left out.
                            self.hasher.update(&chunk[from..i]);
                            from = i;
                            self.value.clear();
                        }
                        self.state = State::Value { quote: b, skip };
                    } else if !is_space(b) {
                        self.fail();
                    }
                }
                State::Value { quote, skip } => {
                    let rest = &chunk[i..];
                    match memchr::memchr(quote, rest) {
                        Some(q) => {
                            if skip {
                                self.take_value(&rest[..q]);
                                from = i + q;
                                self.end_value();
                            }
                            i += q + 1;
                            self.state = State::Between;
                        }
                        None => {
                            if skip {
                                self.take_value(rest);
                                from = chunk.len();
                            }
                            i = chunk.len();
                        }
                    }
                }
            }
        }
        self.hasher.update(&chunk[from..]);
    }

    fn take_value(&mut self, bytes: &[u8]) {
        self.value.extend_from_slice(bytes);
        if self.value.len() > MAX_PART {
            self.fail();
        }
    }

    fn end_value(&mut self) {
        // A character or entity reference would need unescaping: not followed.
        let v = String::from_utf8(std::mem::take(&mut self.value)).ok().filter(|v| !v.contains('&'));
        if v.is_none() {
            self.broken = true;
        }
        match self.tag {
            Tag::Activity => {
                if let Some(slot) = self.stamps.activities.last_mut() {
                    *slot = v;
                }
            }
            Tag::Root => {
                if !self.root_seen {
                    self.stamps.generated = v;
                }
                self.root_seen = true;
            }
        }
    }

    /// The scan lost its way: no stable hash for this file; the bytes are still hashed, and the
    /// scan goes on outside (a value it was leaving out is hashed from here on).
    fn fail(&mut self) {
        self.broken = true;
        self.state = State::Outside { matched: 0 };
    }

    /// The stable hash and the timestamps left out; `None` when the scan could not follow the
    /// file (a tag of interest cut off, a value too long, not UTF-8 or with a reference).
    pub fn finish(self) -> Option<StableDigest> {
        let ended = matches!(self.state, State::Outside { .. });
        if self.broken || !ended {
            return None;
        }
        Some(StableDigest { hash: format!("{:032x}", self.hasher.digest128()), stamps: self.stamps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_in_chunks(bytes: &[u8], size: usize) -> Option<StableDigest> {
        let mut h = StableHasher::new();
        for c in bytes.chunks(size.max(1)) {
            h.update(c);
        }
        h.finish()
    }

    const FILE: &str = r#"<?xml version="1.0"?>
<iati-activities version="2.03" generated-datetime="2024-01-01T00:00:00Z">
 <iati-activity last-updated-datetime="2023-05-01T10:00:00Z" default-currency='USD'>
  <iati-identifier>A-1</iati-identifier><title><narrative>x="y" last-updated-datetime</narrative></title>
 </iati-activity>
 <iati-activity default-currency="USD" >
  <iati-identifier>A-2</iati-identifier>
 </iati-activity>
 <iati-activity
   last-updated-datetime = "2023-06-01" />
</iati-activities>"#;

    #[test]
    fn the_timestamps_are_left_out_and_collected_in_document_order() {
        let d = digest_in_chunks(FILE.as_bytes(), 1 << 20).expect("a stable hash");
        assert_eq!(d.stamps.generated.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(
            d.stamps.activities,
            vec![Some("2023-05-01T10:00:00Z".to_owned()), None, Some("2023-06-01".to_owned())]
        );
        let regenerated = FILE
            .replace("2024-01-01T00:00:00Z", "2026-12-08T03:00:00-05:00")
            .replace("2023-05-01T10:00:00Z", "2026-12-08T03:00:00Z")
            .replace("2023-06-01", "2026-12-08");
        let r = digest_in_chunks(regenerated.as_bytes(), 1 << 20).expect("a stable hash");
        assert_eq!(r.hash, d.hash, "only timestamps changed");
        assert_eq!(r.stamps.activities[0].as_deref(), Some("2026-12-08T03:00:00Z"));
    }

    #[test]
    fn any_other_change_changes_the_hash() {
        let d = digest_in_chunks(FILE.as_bytes(), 1 << 20).expect("a stable hash");
        for changed in [
            FILE.replace("A-2", "A-3"),
            FILE.replace("default-currency='USD'", "default-currency='EUR'"),
            // The same text in a narrative is content, not a timestamp.
            FILE.replace("x=\"y\" last-updated-datetime", "x=\"z\" last-updated-datetime"),
            FILE.replace("version=\"2.03\"", "version=\"2.02\""),
            // A timestamp moved to another activity is a change.
            FILE.replace(
                "<iati-activity default-currency=\"USD\" >",
                "<iati-activity default-currency=\"USD\" last-updated-datetime=\"2023-05-01T10:00:00Z\">",
            ),
        ] {
            let c = digest_in_chunks(changed.as_bytes(), 1 << 20).expect("a stable hash");
            assert_ne!(c.hash, d.hash, "{changed}");
        }
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let whole = digest_in_chunks(FILE.as_bytes(), 1 << 20);
        for size in 1..40 {
            assert_eq!(digest_in_chunks(FILE.as_bytes(), size), whole, "chunks of {size} bytes");
        }
    }

    #[test]
    fn what_the_scan_cannot_follow_has_no_stable_hash() {
        for odd in [
            "<iati-activities><iati-activity last-updated-datetime=\"2023\"",
            "<iati-activities><iati-activity last-updated-datetime=2023>",
            &format!("<iati-activity last-updated-datetime=\"{}\">", "9".repeat(300)),
        ] {
            assert_eq!(digest_in_chunks(odd.as_bytes(), 7), None, "{odd}");
        }
        // Other elements whose names begin the same way are not tags of interest.
        let d = digest_in_chunks(b"<iati-activityx last-updated-datetime=\"1\"/><iati-activit<b/>", 3)
            .expect("a stable hash");
        assert!(d.stamps.activities.is_empty());
    }
}

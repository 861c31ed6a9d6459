//! Start tags without quick-xml's per-attribute checks when a tag is plainly well-formed
//! ([`parse_tag`]), and white space as XML means it.

use super::*;

/// `str::trim` with a shortcut for the usual value that starts and ends with a visible ASCII
/// character (nothing to trim): the same result, without the Unicode whitespace tables.
pub(super) trait TrimWs {
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
pub(super) fn is_xml_space(b: u8) -> bool {
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
pub(super) fn parse_tag<'e>(s: &'e str, name_len: usize, out: &mut Attrs<'e>) -> Option<(&'e str, bool)> {
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

#[cfg(test)]
mod tests {
    use super::super::*;

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

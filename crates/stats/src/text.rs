//! Crate-private input helpers: checking that bytes are UTF-8 text, and reading CSV records
//! with their real 1-based line numbers and the blank lines between them.

use crate::StatsError;

/// The bytes as text: UTF-8 (a BOM is dropped). Empty (or only whitespace) → `Empty`; a NUL
/// byte or invalid UTF-8 → `NotUtf8` with the byte offset.
pub(crate) fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, StatsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(StatsError::NotUtf8 { file: file.to_owned(), offset: offset as u64 });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| StatsError::NotUtf8 { file: file.to_owned(), offset: e.valid_up_to() as u64 })?;
    if text.trim().is_empty() {
        return Err(StatsError::Empty { file: file.to_owned() });
    }
    Ok(text)
}

/// One CSV record.
pub(crate) struct Record {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The fields, as written (not trimmed).
    pub cells: Vec<String>,
}

impl Record {
    /// Every field empty or whitespace (`,,,` or a line of spaces).
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// Every record of a CSV text, in order, with the number of empty lines the CSV reader skipped
/// before each (so blank lines can be counted). Records of only empty fields are returned
/// (check [`Record::is_blank`]).
pub(crate) fn records(file: &str, text: &str) -> Result<Vec<(u64, Record)>, StatsError> {
    // A quote that is never closed would make the CSV reader swallow the rest of the file into
    // one field, silently: refuse the file, naming the line where that quote opened.
    let (mut open, mut line, mut opened_on) = (false, 1u64, 0u64);
    for b in text.bytes() {
        match b {
            b'"' => {
                open = !open;
                if open {
                    opened_on = line;
                }
            }
            b'\n' => line += 1,
            _ => {}
        }
    }
    if open {
        return Err(StatsError::Csv {
            file: file.to_owned(),
            message: format!(
                "the quoted field opened on line {opened_on} is never closed (a \" is missing); nothing of the file was read"
            ),
        });
    }
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(StatsError::Csv { file: file.to_owned(), message: e.to_string() }),
        }
        // The record's position is where the reader stood before skipping empty lines: walk
        // over them to find the record's own line.
        let (mut byte, mut line) = rec.position().map(|p| (p.byte() as usize, p.line())).unwrap_or((0, 1));
        let mut skipped = 0u64;
        // After a CRLF record terminator the reader stands on its `\n`: not a blank line.
        let mut crlf_tail = byte > 0 && bytes.get(byte - 1) == Some(&b'\r') && bytes.get(byte) == Some(&b'\n');
        while let Some(b) = bytes.get(byte) {
            match b {
                b'\n' => {
                    if !crlf_tail {
                        skipped += 1;
                    }
                    crlf_tail = false;
                    line += 1;
                }
                b'\r' => {}
                _ => break,
            }
            byte += 1;
        }
        out.push((skipped, Record { line, cells: rec.iter().map(str::to_owned).collect() }));
    }
    Ok(out)
}

/// Header text in comparable form: lowercase, whitespace (newlines too) collapsed.
pub(crate) fn header_key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_blank_lines_are_counted() {
        let t = "h1,h2\n\n\na,b\n,\n\"x\ny\",z\r\n\r\nlast,1";
        let r = records("t.csv", t).expect("records");
        let got: Vec<(u64, u64, bool)> = r.iter().map(|(s, r)| (*s, r.line, r.is_blank())).collect();
        assert_eq!(got, [(0, 1, false), (2, 4, false), (0, 5, true), (0, 6, false), (1, 9, false)]);
        let r = records("t.csv", "a,b\r\nc,d\r\n\r\n\r\ne,f\r\n").expect("records");
        let got: Vec<(u64, u64)> = r.iter().map(|(s, r)| (*s, r.line)).collect();
        assert_eq!(got, [(0, 1), (0, 2), (2, 5)]);
    }

    #[test]
    fn decode_refuses_empty_binary_and_non_utf8() {
        assert!(matches!(decode("f", b""), Err(StatsError::Empty { .. })));
        assert!(matches!(decode("f", b" \n\n"), Err(StatsError::Empty { .. })));
        assert!(matches!(decode("f", b"ab\0cd"), Err(StatsError::NotUtf8 { offset: 2, .. })));
        assert!(matches!(decode("f", b"Pa\xEDs,1"), Err(StatsError::NotUtf8 { offset: 2, .. })));
        assert_eq!(decode("f", b"\xEF\xBB\xBFa,b").ok(), Some("a,b"));
    }
}

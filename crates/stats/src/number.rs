//! The one number rule for statistics values.
//!
//! Accepted (after trimming surrounding whitespace): an optional `-`, an integer part, an
//! optional fraction `.` + digits. The integer part is either plain digits (`1234`) or English
//! thousands groups: 1 to 3 digits, then groups of exactly three digits each after a comma
//! (`1,234`, `1,234,567`). So `1234`, `1234.5`, `-3`, `1,234`, `1,234,567.25` are read exactly
//! (as [`Decimal`], never `f64`).
//!
//! Refused, with a reason: empty, `N/A`, `NA`, `-` alone, suppression marks (`D`, `*`, `(X)`),
//! bounds (`<5`, `>10`), a comma that is not a thousands separator (`1,5`, `12,34`,
//! `1.234,5`), exponents (`1e5`), a leading `+` or `.`, anything else. A refused value is
//! never read as 0: the reader reports it (row, column, text) and does not store the row.

use rust_decimal::Decimal;

/// Why a value was refused (the `Display` text is the reason, for a diagnostic message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing but whitespace.
    #[error("empty value")]
    Empty,
    /// A marker for a missing or suppressed value (`N/A`, `NA`, `-`, `D`, `*`, `(X)`, `..`).
    #[error("a missing or suppressed value marker, not a number")]
    Marker,
    /// A bound, not a value (`<5`, `>10`).
    #[error("a bound (< or >), not an exact number")]
    Bound,
    /// A comma that is not an English thousands separator (`1,5`, `12,34`, `1.234,5`).
    #[error("comma used other than as a thousands separator (groups of exactly three digits)")]
    Comma,
    /// Too many digits for exact arithmetic.
    #[error("too many digits for exact arithmetic (at most 28)")]
    TooLarge,
    /// Anything else (`1e5`, `+3`, `12 000`, `abc`).
    #[error("not a number of the form 1234, 1234.5, -3 or 1,234")]
    Malformed,
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses one value by the module's rule. `" 1,234 "` → 1234; `"1,5"` → [`NumberError::Comma`].
pub fn parse_number(raw: &str) -> Result<Decimal, NumberError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(NumberError::Empty);
    }
    let up = s.to_ascii_uppercase();
    if matches!(up.as_str(), "N/A" | "NA" | "-" | "--" | "D" | "*" | "**" | "(X)" | "X" | ".." | "...") {
        return Err(NumberError::Marker);
    }
    if s.starts_with(['<', '>', '≤', '≥']) {
        return Err(NumberError::Bound);
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac
        && !all_digits(f)
    {
        return Err(if f.contains(',') { NumberError::Comma } else { NumberError::Malformed });
    }
    let digits: String = if int.contains(',') {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or("");
        let ok_first = all_digits(first) && first.len() <= 3;
        let rest: Vec<&str> = groups.collect();
        if !ok_first || !rest.iter().all(|g| g.len() == 3 && all_digits(g)) {
            let digits_and_commas = int.bytes().all(|b| b.is_ascii_digit() || b == b',');
            return Err(if digits_and_commas { NumberError::Comma } else { NumberError::Malformed });
        }
        int.replace(',', "")
    } else if all_digits(int) {
        int.to_owned()
    } else {
        return Err(NumberError::Malformed);
    };
    let text = match frac {
        Some(f) => format!("{}{digits}.{f}", if s.starts_with('-') { "-" } else { "" }),
        None => format!("{}{digits}", if s.starts_with('-') { "-" } else { "" }),
    };
    Decimal::from_str_exact(&text).map_err(|_| NumberError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn accepted_forms() {
        for (raw, want) in [
            ("1234", "1234"),
            ("1234.5", "1234.5"),
            ("-3", "-3"),
            ("1,234", "1234"),
            ("1,234,567", "1234567"),
            ("  42 ", "42"),
            ("0", "0"),
            ("1,234.50", "1234.50"),
            ("999", "999"),
        ] {
            assert_eq!(parse_number(raw), Ok(Decimal::from_str(want).expect("want")), "{raw}");
        }
    }

    #[test]
    fn refused_forms_are_never_zero() {
        for (raw, why) in [
            ("", NumberError::Empty),
            ("   ", NumberError::Empty),
            ("N/A", NumberError::Marker),
            ("NA", NumberError::Marker),
            ("n/a", NumberError::Marker),
            ("-", NumberError::Marker),
            ("D", NumberError::Marker),
            ("*", NumberError::Marker),
            ("<5", NumberError::Bound),
            (">10", NumberError::Bound),
            ("1,5", NumberError::Comma),
            ("12,34", NumberError::Comma),
            ("1.234,5", NumberError::Comma),
            ("1,2345", NumberError::Comma),
            ("1234,567", NumberError::Comma),
            (",123", NumberError::Comma),
            ("1e5", NumberError::Malformed),
            ("+3", NumberError::Malformed),
            ("12 000", NumberError::Malformed),
            (".5", NumberError::Malformed),
            ("5.", NumberError::Malformed),
            ("--3", NumberError::Malformed),
            ("abc", NumberError::Malformed),
            ("99999999999999999999999999999999", NumberError::TooLarge),
        ] {
            assert_eq!(parse_number(raw), Err(why), "{raw:?}");
        }
    }
}

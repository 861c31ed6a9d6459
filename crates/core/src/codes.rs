//! Parsed identifiers and codes: [`IatiIdentifier`], [`CountryCode`], [`Percentage`],
//! [`FiscalYear`], [`IsoDate`] parsing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Month};

/// Why a code or value from outside could not be parsed. The message names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// `iati-identifier` empty, or with a tab, line break, other whitespace, a control
    /// character or an invisible formatting character (zero-width space, bidirectional marks,
    /// soft hyphen) inside. Plain spaces are kept: real publishers use them.
    #[error(
        "invalid iati-identifier {0:?}: must be non-empty, with no tab, line break, control or invisible character inside (plain spaces are allowed)"
    )]
    Identifier(String),
    /// An identifier longer than [`MAX_IDENTIFIER_BYTES`].
    #[error(
        "invalid iati-identifier: {0} bytes long, more than the {MAX_IDENTIFIER_BYTES} bytes an identifier may have"
    )]
    IdentifierTooLong(usize),
    /// Not a code of the IATI Country codelist (ISO 3166-1 alpha-2).
    #[error("invalid country code {0:?}: expected one ISO 3166-1 alpha-2 code such as \"GT\" (IATI Country codelist)")]
    Country(String),
    /// Not a decimal number between 0 and 100 (or one with more digits than exact arithmetic holds).
    #[error(
        "invalid percentage {0:?}: expected a decimal number from 0 to 100 (no exponent, at most 28 significant digits)"
    )]
    Percentage(String),
    /// Not an ISO 8601 calendar date `YYYY-MM-DD` (optionally followed by a zone).
    #[error("invalid date {0:?}: expected an ISO 8601 date such as 2011-05-06")]
    Date(String),
    /// Not an ISO 4217 currency code (three ASCII letters).
    #[error("invalid currency code {0:?}: expected an ISO 4217 code such as \"USD\"")]
    Currency(String),
    /// Not a decimal number.
    #[error("invalid amount {0:?}: expected a decimal number such as 1500.25")]
    Amount(String),
    /// A decimal number out of range: beyond 10^15, more than 6 decimal places, or more digits
    /// than exact arithmetic holds.
    #[error(
        "amount {0:?} is out of range: Senda stores exact amounts of at most 1,000,000,000,000,000 (10^15) with at most 6 decimal places"
    )]
    AmountRange(String),
}

/// Longest `iati-identifier`, in bytes. Real identifiers are far shorter (a publisher's
/// organisation identifier and its own activity code); every backend indexes the identifier as
/// a key, and a PostgreSQL b-tree entry holds at most about 2,700 bytes (a longer identifier
/// made the whole import fail there, while SQLite stored it).
pub const MAX_IDENTIFIER_BYTES: usize = 1000;

/// An activity's `iati-identifier` (IATI element `iati-activity/iati-identifier`), trimmed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IatiIdentifier(String);

impl IatiIdentifier {
    /// Parses an identifier: surrounding whitespace is trimmed; empty, or inner whitespace other
    /// than plain spaces, control or invisible characters (an identifier that looks the same as
    /// another but is not) is an error. Real publishers do use spaces, e.g. MCC's `-BUS DEVEL`.
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        let t = raw.trim();
        if t.is_empty() || t.chars().any(|c| (c.is_whitespace() && c != ' ') || c.is_control() || is_invisible(c)) {
            return Err(CodeError::Identifier(raw.to_owned()));
        }
        if t.len() > MAX_IDENTIFIER_BYTES {
            return Err(CodeError::IdentifierTooLong(t.len()));
        }
        Ok(Self(t.to_owned()))
    }
    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that print as nothing (Unicode format characters in common use): soft hyphen,
/// zero-width space / joiners, bidirectional marks and embeddings, word joiner and invisible
/// operators, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

impl fmt::Display for IatiIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (IATI `recipient-country/@code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code of the IATI Country codelist (any case). `"KE UG"`, `"GTM"`, `"XX"` and
    /// `""` are errors.
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        let t = raw.trim().as_bytes();
        if t.len() == 2 && t.iter().all(u8::is_ascii_alphabetic) {
            let c = Self([t[0].to_ascii_uppercase(), t[1].to_ascii_uppercase()]);
            if crate::country_codes::IATI_COUNTRY_CODES.binary_search(&c.as_str()).is_ok() {
                return Ok(c);
            }
        }
        Err(CodeError::Country(raw.to_owned()))
    }
    /// The code as a `&str`, e.g. `"GT"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction, hence valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl TryFrom<String> for CountryCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.as_str().to_owned()
    }
}
impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A percentage from 0 to 100 inclusive, exact (IATI `@percentage` attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percentage(Decimal);

impl Percentage {
    /// 100 %.
    pub const FULL: Percentage = Percentage(Decimal::ONE_HUNDRED);
    /// Parses `"60"`, `"33.3"` (xsd:decimal); anything outside 0..=100 (e.g. `"500"`), and
    /// forms that are not xsd:decimal (`"1e2"`, `"5_0"`), are errors.
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        // The amounts' strict grammar (xsd:decimal): no exponent, no `_`, no separators.
        let (d, _) = crate::money::parse_exact_decimal(raw).map_err(|_| CodeError::Percentage(raw.to_owned()))?;
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(CodeError::Percentage(raw.to_owned()));
        }
        Ok(Self(d))
    }
    /// The value, from 0 to 100.
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// A U.S. government fiscal year: 1 October to 30 September, named by the year it ends in
/// (FY2023 = 2022-10-01 .. 2023-09-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The fiscal year a date falls in.
    pub fn of(date: Date) -> Self {
        if date.month() as u8 >= 10 { Self(date.year() + 1) } else { Self(date.year()) }
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{}", self.0)
    }
}

/// Writes an `@last-updated-datetime` (`xsd:dateTime`) normalised to UTC RFC 3339
/// (`2024-01-31T22:00:00Z`), the form compared when the same activity is published twice.
/// Accepted: RFC 3339 with an offset, the same without one (read as UTC), and a bare IATI date
/// (midnight UTC). Returns false, writing nothing, for anything else.
pub fn normalise_datetime_into(raw: &str, out: &mut String) -> bool {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let t = raw.trim();
    let parsed = OffsetDateTime::parse(t, &Rfc3339).or_else(|_| OffsetDateTime::parse(&format!("{t}Z"), &Rfc3339));
    match parsed {
        // `checked_`: in UTC the instant may fall outside the years 1-9999 (9999-12-31T23:00-05:00).
        Ok(d) => match d.checked_to_offset(time::UtcOffset::UTC).map(|u| u.format(&Rfc3339)) {
            Some(Ok(f)) => {
                out.push_str(&f);
                true
            }
            _ => false,
        },
        Err(_) => match parse_iso_date(t) {
            Ok(d) => {
                use std::fmt::Write;
                write!(out, "{d}T00:00:00Z").is_ok()
            }
            Err(_) => false,
        },
    }
}

/// Parses an IATI date (`xsd:date`): `YYYY-MM-DD`, optionally followed by `Z` or a `±hh:mm`
/// zone, which is ignored. `20110506`, `06/05/2011` and impossible dates such as `2011-02-30`
/// are errors; a date is never guessed.
pub fn parse_iso_date(raw: &str) -> Result<Date, CodeError> {
    let t = raw.trim();
    let err = || CodeError::Date(raw.to_owned());
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err());
    }
    // Sliced with `get`: a multi-byte character across position 10 (or 4, 7) is an error, not a
    // panic.
    let rest = t.get(10..).ok_or_else(err)?;
    let zone_ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'
            && rest.as_bytes()[1..3].iter().all(u8::is_ascii_digit)
            && rest.as_bytes()[4..6].iter().all(u8::is_ascii_digit));
    if !zone_ok {
        return Err(err());
    }
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let (Some(y), Some(m), Some(d)) = (t.get(0..4), t.get(5..7), t.get(8..10)) else {
        return Err(err());
    };
    if !(digits(y) && digits(m) && digits(d)) {
        return Err(err());
    }
    let year: i32 = y.parse().map_err(|_| err())?;
    // XML Schema's date has no year 0000 (1 BCE is -0001).
    if year == 0 {
        return Err(err());
    }
    let month: u8 = m.parse().map_err(|_| err())?;
    let day: u8 = d.parse().map_err(|_| err())?;
    let month = Month::try_from(month).map_err(|_| err())?;
    Date::from_calendar_date(year, month, day).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_follow_xsd_decimal_and_datetimes_near_year_9999_do_not_panic() {
        for bad in ["1e2", "5_0", ".6e2", "50%", "1,5", "500", "-1"] {
            assert!(Percentage::parse(bad).is_err(), "{bad:?}");
        }
        for (ok, v) in [("50", "50"), (" 33.3 ", "33.3"), ("+60", "60"), ("100", "100"), (".5", "0.5")] {
            assert_eq!(Percentage::parse(ok).map(|p| p.value().to_string()), Ok(v.to_owned()), "{ok:?}");
        }
        let mut out = String::new();
        assert!(!normalise_datetime_into("9999-12-31T23:59:59-01:00", &mut out), "past year 9999 in UTC");
        assert!(normalise_datetime_into("9999-12-31T20:00:00-01:00", &mut out));
        assert_eq!(out, "9999-12-31T21:00:00Z");
    }

    #[test]
    fn a_date_with_a_multibyte_character_or_year_0000_is_an_error_not_a_panic() {
        // The character straddles byte 10 (after the day) or sits in the day: never sliced inside.
        for bad in ["2011-05-0\u{e9}", "2011-05-0\u{e9}Z", "2011-0\u{e9}-06", "0000-01-01", "\u{e9}011-05-06"] {
            assert!(parse_iso_date(bad).is_err(), "{bad:?}");
        }
        assert!(parse_iso_date("2011-05-06").is_ok());
        assert!(parse_iso_date("0001-01-01").is_ok());
    }

    #[test]
    fn identifiers_with_invisible_or_control_characters_are_errors() {
        assert_eq!(IatiIdentifier::parse(" US-GOV-1-X ").map(|i| i.to_string()), Ok("US-GOV-1-X".to_owned()));
        assert!(IatiIdentifier::parse("MCC-BUS DEVEL").is_ok());
        assert!(IatiIdentifier::parse("XM-ÉCOLE-1").is_ok());
        for bad in [
            "US-GOV-1-\u{200B}X",
            "US-GOV-1-X\u{200D}Y",
            "\u{FEFF}US-GOV-1-X",
            "US\u{00AD}GOV",
            "A\u{202E}B",
            "A\u{7}B",
            "A\tB",
            "",
        ] {
            assert!(matches!(IatiIdentifier::parse(bad), Err(CodeError::Identifier(_))), "{bad:?}");
        }
    }

    #[test]
    fn identifiers_longer_than_the_key_width_are_errors() {
        let longest = format!("XM-{}", "a".repeat(MAX_IDENTIFIER_BYTES - 3));
        assert!(IatiIdentifier::parse(&longest).is_ok());
        let too_long = format!("{longest}b");
        assert_eq!(IatiIdentifier::parse(&too_long), Err(CodeError::IdentifierTooLong(MAX_IDENTIFIER_BYTES + 1)));
        // Bytes, not characters: 500 two-byte letters are 1,000 bytes, one more is too many.
        assert!(IatiIdentifier::parse(&"é".repeat(500)).is_ok());
        assert!(IatiIdentifier::parse(&"é".repeat(501)).is_err());
    }

    #[test]
    fn dates_follow_the_issue_rules() {
        assert!(parse_iso_date("2011-05-06").is_ok());
        assert_eq!(parse_iso_date("2011-05-06Z").ok(), parse_iso_date("2011-05-06").ok());
        assert!(parse_iso_date("2011-05-06-04:00").is_ok());
        for bad in ["20110506", "06/05/2011", "2011-02-30", "", "2011-5-6", "2011-05-06T10"] {
            assert!(parse_iso_date(bad).is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn fiscal_year_starts_in_october() {
        let d = |s| parse_iso_date(s).expect("valid");
        assert_eq!(FiscalYear::of(d("2022-09-30")), FiscalYear(2022));
        assert_eq!(FiscalYear::of(d("2022-10-01")), FiscalYear(2023));
    }

    #[test]
    fn countries_and_percentages_parse_strictly() {
        assert_eq!(CountryCode::parse("gt").map(|c| c.to_string()).ok(), Some("GT".into()));
        assert!(CountryCode::parse("KE UG").is_err());
        assert!(CountryCode::parse("MWI").is_err());
        assert!(CountryCode::parse("XX").is_err(), "not in the IATI Country codelist");
        assert!(CountryCode::parse("xk").is_ok(), "Kosovo is in the IATI codelist");
        assert!(Percentage::parse("500").is_err());
        assert!(Percentage::parse("-1").is_err());
        assert_eq!(Percentage::parse("60").map(Percentage::value).ok(), Some(Decimal::from(60)));
    }
}

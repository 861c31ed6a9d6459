//! Exact money: [`Money`] is a decimal amount with its ISO 4217 currency and value date, and
//! [`allocate`] splits an amount into parts that always add up to it exactly.

use crate::codes::CodeError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// An ISO 4217 currency code, upper case (IATI `value/@currency` or `iati-activity/@default-currency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// U.S. dollars.
    pub const USD: CurrencyCode = CurrencyCode(*b"USD");
    /// ISO 4217's "no currency": an amount published without a (valid) currency is kept under
    /// it, in the unconverted figures, never dropped and never converted.
    pub const NONE: CurrencyCode = CurrencyCode(*b"XXX");
    /// Parses three ASCII letters (any case).
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        let t = raw.trim().as_bytes();
        if t.len() == 3 && t.iter().all(u8::is_ascii_alphabetic) {
            Ok(Self([t[0].to_ascii_uppercase(), t[1].to_ascii_uppercase(), t[2].to_ascii_uppercase()]))
        } else {
            Err(CodeError::Currency(raw.to_owned()))
        }
    }
    /// The code, e.g. `"USD"`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}
impl TryFrom<String> for CurrencyCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CurrencyCode> for String {
    fn from(c: CurrencyCode) -> String {
        c.as_str().to_owned()
    }
}
impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact amount of money (IATI `value` element: text = amount, `@currency`, `@value-date`).
/// Never converted at a made-up rate: an amount stays in its own currency until an exchange
/// rate with a date exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, exact (e.g. `4500.25`). Negative amounts (corrections) are kept as published.
    pub amount: Decimal,
    /// The currency: `value/@currency`, else the activity's `@default-currency`, else
    /// [`CurrencyCode::NONE`] (`XXX`) with an error.
    pub currency: CurrencyCode,
    /// `value/@value-date`: the date for any future currency conversion.
    pub value_date: Option<Date>,
}

/// The largest amount Senda stores, in either direction: 10^15 (a thousand trillion) in the
/// value's currency. Far above any real transaction, and low enough that no sum or split of
/// stored amounts can overflow exact decimal arithmetic (28 significant digits).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// The most decimal places an amount may have: 6 (a millionth of a dollar; the real files use
/// at most 2). With at most 16 digits before the point ([`MAX_AMOUNT`]) an amount has at most
/// 22 significant digits, so sums of up to a million amounts of the largest size stay exact in
/// 28-digit decimal arithmetic: every report grouping adds up to the same total, to the last
/// digit. Without the bound, 10^15 and 10^-14 in one sum already needed 30 digits and were
/// rounded.
pub const MAX_DECIMALS: usize = 6;

/// Parses an IATI amount: optional sign, digits, optional decimal point. Thousands separators,
/// currency signs, exponents and blanks are errors (the amount is never guessed); so are
/// amounts beyond [`MAX_AMOUNT`], amounts with more than [`MAX_DECIMALS`] decimal places
/// (trailing zeros aside) and amounts with more digits than exact arithmetic holds (never
/// rounded).
pub fn parse_amount(raw: &str) -> Result<Decimal, CodeError> {
    let (d, fraction_digits) = parse_exact_decimal(raw)?;
    if d.abs() > MAX_AMOUNT || fraction_digits > MAX_DECIMALS {
        return Err(CodeError::AmountRange(raw.to_owned()));
    }
    // Trailing zeros past the sixth place carry no value but would keep their scale, and every
    // split and sum would then run at that scale (`1.0000000000000000000000000` next to 10^15
    // needed 41 digits): they are dropped. Amounts written with up to 6 places keep their form.
    Ok(if d.scale() as usize > MAX_DECIMALS { d.normalize() } else { d })
}

/// Parses an xsd:decimal exactly (the grammar of [`parse_amount`], no range): the value and its
/// decimal places, trailing zeros aside. More digits than a decimal holds: [`CodeError::AmountRange`].
pub(crate) fn parse_exact_decimal(raw: &str) -> Result<(Decimal, usize), CodeError> {
    let t = raw.trim();
    let ok = !t.is_empty()
        && t.bytes().enumerate().all(|(i, c)| c.is_ascii_digit() || c == b'.' || (i == 0 && (c == b'-' || c == b'+')))
        && t.bytes().filter(|&c| c == b'.').count() <= 1
        && t.bytes().any(|c| c.is_ascii_digit());
    if !ok {
        return Err(CodeError::Amount(raw.to_owned()));
    }
    let d = t.trim_start_matches('+').parse::<Decimal>().map_err(|_| CodeError::AmountRange(raw.to_owned()))?;
    // Parsing rounds digits beyond what a decimal holds: refuse instead of storing another number.
    let fraction_digits = t.split_once('.').map(|(_, f)| f.trim_end_matches('0').len()).unwrap_or(0);
    if d.normalize().scale() as usize != fraction_digits {
        return Err(CodeError::AmountRange(raw.to_owned()));
    }
    Ok((d, fraction_digits))
}

/// Splits `amount` into parts proportional to `weights` so that the parts add up to `amount`
/// exactly. Parts are rounded to cents (2 decimal places; or to the amount's own scale if it
/// is finer) and the rounding remainder goes, cent by cent, to the largest weights first
/// (largest remainder method; ties in input order). Weights must be non-negative; if they are
/// all zero the amount is split equally. Returns an empty vector for empty `weights`.
pub fn allocate(amount: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![amount];
    }
    let total_w: Decimal = weights.iter().copied().sum();
    let equal = total_w <= Decimal::ZERO;
    let scale = amount.scale().max(2);
    let unit = Decimal::new(1, scale);
    let mut parts = Vec::with_capacity(n);
    let mut rema = Vec::with_capacity(n);
    let mut sum = Decimal::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let exact = if equal { amount / Decimal::from(n as u64) } else { amount * *w / total_w };
        let floor = exact.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::ToZero);
        rema.push(((exact - floor).abs(), i));
        sum += floor;
        parts.push(floor);
    }
    let mut left = amount - sum;
    rema.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let step = if left < Decimal::ZERO { -unit } else { unit };
    let mut k = 0;
    while left != Decimal::ZERO && k < n * 4 {
        let idx = rema[k % n].1;
        if left.abs() < unit {
            parts[idx] += left;
            left = Decimal::ZERO;
        } else {
            parts[idx] += step;
            left -= step;
        }
        k += 1;
    }
    if left != Decimal::ZERO {
        parts[0] += left;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn allocation_is_exact() {
        let parts = allocate(d("100"), &[d("1"), d("1"), d("1")]);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), d("100"));
        assert_eq!(parts, vec![d("33.34"), d("33.33"), d("33.33")]);
        let parts = allocate(d("4500"), &[d("60"), d("40")]);
        assert_eq!(parts, vec![d("2700"), d("1800")]);
        let parts = allocate(d("-10.01"), &[d("1"), d("1")]);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), d("-10.01"));
        let parts = allocate(d("0.333"), &[d("1"), d("2")]);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), d("0.333"));
        assert_eq!(allocate(d("7"), &[d("0"), d("0")]).iter().copied().sum::<Decimal>(), d("7"));
    }

    #[test]
    fn amounts_are_never_guessed() {
        assert_eq!(parse_amount(" 4500 ").ok(), Some(d("4500")));
        assert_eq!(parse_amount("-12.5").ok(), Some(d("-12.5")));
        for bad in ["1,234", "$5", "1e6", "", "N/A", "1.2.3", "-"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        let huge = "99999999999999999999999999999999999.5";
        assert_eq!(parse_amount(huge), Err(CodeError::AmountRange(huge.into())));
        // Sums of such amounts would overflow exact arithmetic; tiny ones would be rounded.
        for bad in ["79228162514264337593543950335", "-1000000000000000.01", "0.00000000000000000000000000001"] {
            assert_eq!(parse_amount(bad), Err(CodeError::AmountRange(bad.into())), "{bad}");
        }
        assert_eq!(MAX_AMOUNT, d("1000000000000000"));
        assert_eq!(parse_amount("-1000000000000000").ok(), Some(-MAX_AMOUNT));
        assert_eq!(parse_amount("0.000001").ok(), Some(d("0.000001")));
        // Seven decimal places and more are refused (trailing zeros do not count): with them,
        // 10^15 + 10^-14 needs 30 digits and sums are rounded.
        for bad in ["0.0000001", "0.00000000000001", "999999999999999.1234567"] {
            assert_eq!(parse_amount(bad), Err(CodeError::AmountRange(bad.into())), "{bad}");
        }
        assert_eq!(parse_amount("999999999999999.123456000").ok(), Some(d("999999999999999.123456")));
        // Trailing zeros past the sixth place are dropped with their scale; up to six are kept.
        assert_eq!(parse_amount("1.0000000000000000000000000").map(|a| a.scale()), Ok(0));
        assert_eq!(parse_amount("2500.50").map(|a| a.to_string()), Ok("2500.50".to_owned()));
        // The largest amounts at the finest precision still add up exactly, a million times over.
        let big = d("999999999999999.999999");
        let mut sum = Decimal::ZERO;
        for _ in 0..1_000_000 {
            sum += big;
        }
        // (10^15 - 10^-6) x 10^6 = 10^21 - 1, to the last digit.
        assert_eq!(sum, d("999999999999999999999"));
        assert_eq!(parse_amount("12.50").ok(), Some(d("12.5")));
        assert_eq!(parse_amount("0").ok(), Some(d("0")));
        assert_eq!(parse_amount("-0.0").ok(), Some(d("0")));
    }
}

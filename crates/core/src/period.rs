//! [`Period`]: the time a statistic or an indicator value refers to: a month, a calendar
//! quarter, a U.S. fiscal year (October to September) or a calendar year.
//!
//! ISO-like text forms, used in CSV exports, the API and the database:
//! month `2023-10`, quarter `2023-Q4`, fiscal year `FY2024`, calendar year `2023`.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Month};

/// Why a period text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid period {raw:?}: expected YYYY-MM (month), YYYY-Qn (quarter), FYYYYY (fiscal year) or YYYY (year)")]
pub struct PeriodError {
    /// The text as given.
    pub raw: String,
}

/// A period. Ordered by start date, then by length (a month sorts before the quarter that
/// starts with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A calendar month.
    Month {
        /// Year, e.g. 2023.
        year: i32,
        /// Month, 1 to 12.
        month: u8,
    },
    /// A calendar quarter (Q1 = January to March).
    Quarter {
        /// Year.
        year: i32,
        /// Quarter, 1 to 4.
        quarter: u8,
    },
    /// A U.S. federal fiscal year: FY2024 runs from 2023-10-01 to 2024-09-30.
    FiscalYear(i32),
    /// A calendar year.
    Year(i32),
}

fn date(year: i32, month: u8, day: u8) -> Date {
    let m = Month::try_from(month).unwrap_or(Month::January);
    Date::from_calendar_date(year, m, day).unwrap_or(Date::MIN)
}

impl Period {
    /// The month of a date.
    pub fn month_of(d: Date) -> Self {
        Period::Month { year: d.year(), month: d.month() as u8 }
    }

    /// A month; `None` when `month` is not 1 to 12 or the year is out of 1900..=2200.
    pub fn month(year: i32, month: u8) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=2200).contains(&year)).then_some(Period::Month { year, month })
    }

    /// The U.S. fiscal-year month: `fiscal_year` 2023 and `month` 10 (October) is 2022-10.
    pub fn fiscal_month(fiscal_year: i32, month: u8) -> Option<Self> {
        if month >= 10 { Period::month(fiscal_year - 1, month) } else { Period::month(fiscal_year, month) }
    }

    /// First day of the period.
    pub fn start(&self) -> Date {
        match *self {
            Period::Month { year, month } => date(year, month, 1),
            Period::Quarter { year, quarter } => date(year, (quarter - 1) * 3 + 1, 1),
            Period::FiscalYear(fy) => date(fy - 1, 10, 1),
            Period::Year(y) => date(y, 1, 1),
        }
    }

    /// Last day of the period.
    pub fn end(&self) -> Date {
        let next = match *self {
            Period::Month { year, month: 12 } => date(year + 1, 1, 1),
            Period::Month { year, month } => date(year, month + 1, 1),
            Period::Quarter { year, quarter: 4 } => date(year + 1, 1, 1),
            Period::Quarter { year, quarter } => date(year, quarter * 3 + 1, 1),
            Period::FiscalYear(fy) => date(fy, 10, 1),
            Period::Year(y) => date(y + 1, 1, 1),
        };
        next.previous_day().unwrap_or(next)
    }

    /// The kind as a word: `month`, `quarter`, `fiscal_year`, `year`.
    pub fn kind(&self) -> &'static str {
        match self {
            Period::Month { .. } => "month",
            Period::Quarter { .. } => "quarter",
            Period::FiscalYear(_) => "fiscal_year",
            Period::Year(_) => "year",
        }
    }

    /// The U.S. fiscal year this period falls in (by its end date).
    pub fn fiscal_year(&self) -> i32 {
        let e = self.end();
        if e.month() as u8 >= 10 { e.year() + 1 } else { e.year() }
    }

    /// Parses the ISO-like forms (`2023-10`, `2023-Q4`, `FY2024`, `2023`). Surrounding spaces
    /// are ignored; `fy2024` and `2023-q4` are accepted.
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let err = || PeriodError { raw: raw.to_owned() };
        let s = raw.trim();
        let year = |t: &str| -> Option<i32> {
            (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
                .filter(|y| (1900..=2200).contains(y))
        };
        if let Some(rest) = s.strip_prefix("FY").or_else(|| s.strip_prefix("fy")) {
            return year(rest).map(Period::FiscalYear).ok_or_else(err);
        }
        if let Some(y) = year(s) {
            return Ok(Period::Year(y));
        }
        let (y, rest) = s.split_once('-').ok_or_else(err)?;
        let y = year(y).ok_or_else(err)?;
        if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            return match q {
                "1" | "2" | "3" | "4" => Ok(Period::Quarter { year: y, quarter: q.parse().map_err(|_| err())? }),
                _ => Err(err()),
            };
        }
        if rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()) {
            return rest.parse().ok().and_then(|m| Period::month(y, m)).ok_or_else(err);
        }
        Err(err())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Period::FiscalYear(fy) => write!(f, "FY{fy:04}"),
            Period::Year(y) => write!(f, "{y:04}"),
        }
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.start(), self.end()).cmp(&(other.start(), other.end()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip_and_bounds_are_right() {
        for s in ["2023-10", "2023-Q4", "FY2024", "2023"] {
            assert_eq!(Period::parse(s).map(|p| p.to_string()).as_deref(), Ok(s));
        }
        let fy = Period::parse("FY2024").expect("fy");
        assert_eq!(fy.start().to_string(), "2023-10-01");
        assert_eq!(fy.end().to_string(), "2024-09-30");
        assert_eq!(Period::parse("2024-02").expect("m").end().to_string(), "2024-02-29");
        assert_eq!(Period::parse("2023-Q4").expect("q").end().to_string(), "2023-12-31");
        assert_eq!(Period::fiscal_month(2023, 10), Period::month(2022, 10));
        assert_eq!(Period::fiscal_month(2023, 9), Period::month(2023, 9));
        assert_eq!(Period::parse("2022-10").expect("m").fiscal_year(), 2023);
    }

    #[test]
    fn bad_forms_are_refused() {
        for s in ["2023-13", "2023-1", "23-10", "FY24", "2023-Q5", "", "2023/10", "October 2023"] {
            assert!(Period::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn order_is_by_start_then_length() {
        let mut v: Vec<Period> =
            ["FY2024", "2023-10", "2023", "2023-Q4"].iter().map(|s| Period::parse(s).expect("p")).collect();
        v.sort();
        let s: Vec<String> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(s, ["2023", "2023-10", "2023-Q4", "FY2024"]);
    }
}

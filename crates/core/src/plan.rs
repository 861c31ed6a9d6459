//! The plan: requirements (money needed) per line of effort × country × fiscal year, and the
//! funding gap against what is committed, as OCHA's Financial Tracking Service shows a response
//! plan's coverage.
//!
//! Rules (docs/plan.md):
//! - One requirement per cell (strategy, line of effort, country, fiscal year); setting it again
//!   replaces it (the audit trail keeps the value before).
//! - A cell's **funding** is the report's money of that line of effort, country and U.S. fiscal
//!   year in the requirement's currency (imported activities and the entered interventions the
//!   reader may see; money of an activity on several lines of effort split equally, as
//!   everywhere). Money in cells without a requirement is shown apart, as **outside the plan**:
//!   it never raises a plan's coverage.
//! - **Gap** = requirement − committed, never below zero; **percent funded** = committed ÷
//!   requirement × 100, rounded to one decimal (over 100 when over-funded).
//!
//! [`parse_requirement`] is the one check every way in uses (the command line, CSV files, forms).

use crate::codes::CountryCode;
use crate::intervention::{FieldError, Invalid, Problem};
use crate::money::{CurrencyCode, parse_amount};
use crate::report::{Report, Totals};
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Characters at most in a note or a source.
pub const MAX_TEXT: usize = 2000;
/// Fiscal years a requirement may name.
pub const FISCAL_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Money needed for one line of effort in one country in one fiscal year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The strategy's id.
    pub strategy: String,
    /// The line of effort's id, as the strategy writes it.
    pub line_of_effort: String,
    /// The country.
    pub country: CountryCode,
    /// The U.S. fiscal year (`2024` = October 2023 to September 2024).
    pub fiscal_year: i32,
    /// The amount needed (exact, not negative).
    pub amount: Decimal,
    /// Its currency.
    pub currency: CurrencyCode,
    /// Where the figure comes from (a plan, a budget request, an assessment).
    pub source: String,
    /// A note.
    pub note: Option<String>,
}

/// A requirement as typed: text fields from a command line, a CSV row or a form.
#[derive(Debug, Clone, Default)]
pub struct RequirementInput<'a> {
    /// `line_of_effort`.
    pub line_of_effort: &'a str,
    /// `country`.
    pub country: &'a str,
    /// `fiscal_year`: `2024` or `FY2024`.
    pub fiscal_year: &'a str,
    /// `amount`: a plain decimal number.
    pub amount: &'a str,
    /// `currency`: ISO 4217 (empty: USD).
    pub currency: &'a str,
    /// `source`: required.
    pub source: &'a str,
    /// `note`: optional.
    pub note: &'a str,
}

fn text(field: &str, raw: &str, required: bool, errors: &mut Vec<FieldError>) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        if required {
            errors.push(FieldError::new(field, Problem::Missing));
        }
        return None;
    }
    if t.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(field, Problem::TooLong(MAX_TEXT)));
        return None;
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errors.push(FieldError::new(field, Problem::Control));
        return None;
    }
    Some(t.to_owned())
}

/// Checks one requirement of `strategy`: every field's problem at once, each naming its field.
pub fn parse_requirement(input: &RequirementInput<'_>, strategy: &Strategy) -> Result<Requirement, Invalid> {
    let mut errors = Vec::new();
    let line = input.line_of_effort.trim();
    let line_of_effort = match strategy.lines_of_effort.iter().find(|l| l.id.eq_ignore_ascii_case(line)) {
        Some(l) => Some(l.id.clone()),
        None if line.is_empty() => {
            errors.push(FieldError::new("line_of_effort", Problem::Missing));
            None
        }
        None => {
            errors.push(FieldError::new(
                "line_of_effort",
                Problem::NotOneOf {
                    value: line.to_owned(),
                    allowed: strategy.lines_of_effort.iter().map(|l| l.id.clone()).collect(),
                },
            ));
            None
        }
    };
    let country = match CountryCode::parse(input.country.trim()) {
        Ok(c) => Some(c),
        Err(_) if input.country.trim().is_empty() => {
            errors.push(FieldError::new("country", Problem::Missing));
            None
        }
        Err(_) => {
            errors.push(FieldError::new("country", Problem::Country(input.country.trim().to_owned())));
            None
        }
    };
    let fy_raw = input.fiscal_year.trim();
    let digits = fy_raw.strip_prefix("FY").or_else(|| fy_raw.strip_prefix("fy")).unwrap_or(fy_raw);
    let fiscal_year = match digits.parse::<i32>() {
        Ok(y) if digits.len() == 4 && FISCAL_YEARS.contains(&y) => Some(y),
        _ => {
            errors.push(FieldError::new(
                "fiscal_year",
                if fy_raw.is_empty() {
                    Problem::Missing
                } else {
                    Problem::NotOneOf {
                        value: fy_raw.to_owned(),
                        allowed: vec![format!("FY{}..FY{}", FISCAL_YEARS.start(), FISCAL_YEARS.end())],
                    }
                },
            ));
            None
        }
    };
    let amount = match parse_amount(input.amount) {
        Ok(a) if a.is_sign_negative() && !a.is_zero() => {
            errors.push(FieldError::new("amount", Problem::AmountNegative(input.amount.trim().to_owned())));
            None
        }
        Ok(a) => Some(a),
        Err(_) if input.amount.trim().is_empty() => {
            errors.push(FieldError::new("amount", Problem::Missing));
            None
        }
        Err(crate::codes::CodeError::AmountRange(v)) => {
            errors.push(FieldError::new("amount", Problem::AmountRange(v)));
            None
        }
        Err(_) => {
            errors.push(FieldError::new("amount", Problem::Amount(input.amount.trim().to_owned())));
            None
        }
    };
    let cur = if input.currency.trim().is_empty() { "USD" } else { input.currency.trim() };
    let currency = match CurrencyCode::parse(cur) {
        Ok(c) => Some(c),
        Err(_) => {
            errors.push(FieldError::new("currency", Problem::Currency(cur.to_owned())));
            None
        }
    };
    let source = text("source", input.source, true, &mut errors);
    let note = text("note", input.note, false, &mut errors);
    match (line_of_effort, country, fiscal_year, amount, currency, source) {
        (Some(line_of_effort), Some(country), Some(fiscal_year), Some(amount), Some(currency), Some(source))
            if errors.is_empty() =>
        {
            Ok(Requirement {
                strategy: strategy.id.clone(),
                line_of_effort,
                country,
                fiscal_year,
                amount,
                currency,
                source,
                note,
            })
        }
        _ => Err(Invalid(errors)),
    }
}

/// One row of the funding gap: a group of cells (by the dimensions asked) in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapRow {
    /// The group's values: line of effort, country, fiscal year, as asked (`TOTAL` for the total).
    pub key: Vec<String>,
    /// The currency of the requirements and of the money compared with them.
    pub currency: String,
    /// Money needed.
    pub requirement: Decimal,
    /// Committed in the cells with a requirement.
    pub committed: Decimal,
    /// Disbursed in the cells with a requirement.
    pub disbursed: Decimal,
    /// `requirement − committed`, never below zero.
    pub gap: Decimal,
    /// `committed ÷ requirement × 100`, one decimal; `None` when the requirement is zero.
    pub percent_funded: Option<Decimal>,
    /// Committed in cells of the group without a requirement (not counted as coverage).
    pub committed_outside_plan: Decimal,
}

/// Which of line of effort, country and fiscal year a gap table groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GapGrouping {
    /// By line of effort.
    pub line_of_effort: bool,
    /// By country.
    pub country: bool,
    /// By fiscal year.
    pub fiscal_year: bool,
}

fn money_in(t: Option<&Totals>) -> (Decimal, Decimal) {
    t.map_or((Decimal::ZERO, Decimal::ZERO), |t| (t.commitments, t.disbursements))
}

/// The funding gap of `requirements` against `report`, which must be grouped by line of
/// effort, country and fiscal year (in that order, U.S. fiscal years), rows grouped as
/// `grouping` asks, sorted by key then currency, with the total of each currency last
/// (key `TOTAL`).
pub fn funding_gap(requirements: &[Requirement], report: &Report, grouping: GapGrouping) -> Vec<GapRow> {
    // Money per cell and currency.
    let mut cells: BTreeMap<(String, String, String), BTreeMap<String, Totals>> = BTreeMap::new();
    for r in &report.rows {
        let [l, c, y] = [0, 1, 2].map(|i| r.key.get(i).cloned().unwrap_or_default());
        let m = cells.entry((l, c, y)).or_default();
        m.insert("USD".to_owned(), r.usd);
        for (cur, t) in &r.unconverted {
            m.insert(cur.clone(), *t);
        }
    }
    let key_of = |l: &str, c: &str, y: &str| -> Vec<String> {
        let mut k = Vec::new();
        if grouping.line_of_effort {
            k.push(l.to_owned());
        }
        if grouping.country {
            k.push(c.to_owned());
        }
        if grouping.fiscal_year {
            k.push(y.to_owned());
        }
        k
    };
    #[derive(Default)]
    struct Acc {
        requirement: Decimal,
        committed: Decimal,
        disbursed: Decimal,
        outside: Decimal,
    }
    let mut groups: BTreeMap<(Vec<String>, String), Acc> = BTreeMap::new();
    let mut planned: std::collections::BTreeSet<(String, String, String, String)> = Default::default();
    for q in requirements {
        let (l, c, y) = (q.line_of_effort.clone(), q.country.as_str().to_owned(), q.fiscal_year.to_string());
        let cur = q.currency.as_str().to_owned();
        let acc = groups.entry((key_of(&l, &c, &y), cur.clone())).or_default();
        acc.requirement += q.amount;
        if planned.insert((l.clone(), c.clone(), y.clone(), cur.clone())) {
            let (committed, disbursed) = money_in(cells.get(&(l, c, y)).and_then(|m| m.get(&cur)));
            acc.committed += committed;
            acc.disbursed += disbursed;
        }
    }
    // Money of cells without a requirement, in currencies some requirement of the group uses.
    let currencies: std::collections::BTreeSet<String> =
        requirements.iter().map(|q| q.currency.as_str().to_owned()).collect();
    for ((l, c, y), m) in &cells {
        for (cur, t) in m {
            if !currencies.contains(cur) || planned.contains(&(l.clone(), c.clone(), y.clone(), cur.clone())) {
                continue;
            }
            if let Some(acc) = groups.get_mut(&(key_of(l, c, y), cur.clone())) {
                acc.outside += t.commitments;
            }
        }
    }
    let row = |key: Vec<String>, currency: String, a: &Acc| {
        let gap = (a.requirement - a.committed).max(Decimal::ZERO);
        let percent_funded = (!a.requirement.is_zero())
            .then(|| (a.committed * Decimal::ONE_HUNDRED / a.requirement).round_dp(1).normalize());
        GapRow {
            key,
            currency,
            requirement: a.requirement,
            committed: a.committed,
            disbursed: a.disbursed,
            gap,
            percent_funded,
            committed_outside_plan: a.outside,
        }
    };
    let mut totals: BTreeMap<String, Acc> = BTreeMap::new();
    let mut out = Vec::new();
    for ((key, cur), a) in &groups {
        let t = totals.entry(cur.clone()).or_default();
        t.requirement += a.requirement;
        t.committed += a.committed;
        t.disbursed += a.disbursed;
        t.outside += a.outside;
        out.push(row(key.clone(), cur.clone(), a));
    }
    for (cur, a) in &totals {
        out.push(row(vec!["TOTAL".to_owned()], cur.clone(), a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Dimension, Row};

    fn st() -> Strategy {
        Strategy::builtin("cmms-2021").expect("strategy")
    }

    fn input<'a>(line: &'a str, country: &'a str, fy: &'a str, amount: &'a str) -> RequirementInput<'a> {
        RequirementInput {
            line_of_effort: line,
            country,
            fiscal_year: fy,
            amount,
            currency: "",
            source: "FY2024 plan",
            note: "",
        }
    }

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn bad_fields_are_each_named_and_nothing_is_made() {
        let e = parse_requirement(&input("LOE9", "Guatemala", "24", "1,5"), &st()).expect_err("invalid");
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["line_of_effort", "country", "fiscal_year", "amount"]);
        for bad in ["N/A", "<5", "1 000"] {
            let e = parse_requirement(&input("LOE1", "GT", "2024", bad), &st()).expect_err(bad);
            assert_eq!(e.0[0].problem, Problem::Amount(bad.to_owned()));
        }
        let e = parse_requirement(&input("LOE1", "GT", "2024", "-5"), &st()).expect_err("negative");
        assert_eq!(e.0[0].problem, Problem::AmountNegative("-5".into()));
        let mut i = input("LOE1", "GT", "FY2024", "5");
        i.currency = "usd1";
        i.source = "";
        let e = parse_requirement(&i, &st()).expect_err("currency");
        assert_eq!(e.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["currency", "source"]);
        assert!(e.0[0].message(crate::intervention::Lang::Es).contains("ISO 4217"));
    }

    #[test]
    fn a_good_requirement_is_canonical() {
        let q = parse_requirement(&input("loe1", "gt", "FY2024", "1500000.50"), &st()).expect("valid");
        assert_eq!((q.line_of_effort.as_str(), q.country.as_str(), q.fiscal_year), ("LOE1", "GT", 2024));
        assert_eq!((q.amount, q.currency.as_str()), (dec("1500000.50"), "USD"));
    }

    fn report(rows: &[(&str, &str, &str, &str, &str)]) -> Report {
        let mut r = Report::empty(vec![Dimension::LineOfEffort, Dimension::Country, Dimension::FiscalYear], false);
        for (l, c, y, com, dis) in rows {
            r.rows.push(Row {
                key: vec![(*l).into(), (*c).into(), (*y).into()],
                activities: 1,
                usd: Totals { commitments: dec(com), disbursements: dec(dis), ..Totals::default() },
                unconverted: BTreeMap::new(),
            });
        }
        r
    }

    #[test]
    fn the_gap_counts_money_inside_the_plan_and_shows_the_rest_apart() {
        let q = |l, c, y, a| parse_requirement(&input(l, c, y, a), &st()).expect("valid");
        let reqs = [q("LOE1", "GT", "2024", "1000"), q("LOE1", "HN", "2024", "500"), q("LOE2", "GT", "2024", "100")];
        let r = report(&[
            ("LOE1", "GT", "2024", "250", "100"),
            ("LOE1", "HN", "2024", "600", "0"),
            ("LOE1", "SV", "2024", "999", "0"),
            ("LOE2", "GT", "2023", "40", "0"),
        ]);
        let by_line = funding_gap(&reqs, &r, GapGrouping { line_of_effort: true, ..Default::default() });
        let loe1 = &by_line[0];
        assert_eq!(loe1.key, ["LOE1"]);
        assert_eq!((loe1.requirement, loe1.committed, loe1.disbursed), (dec("1500"), dec("850"), dec("100")));
        assert_eq!((loe1.gap, loe1.percent_funded), (dec("650"), Some(dec("56.7"))));
        assert_eq!(loe1.committed_outside_plan, dec("999"), "SV has no requirement");
        let loe2 = &by_line[1];
        assert_eq!((loe2.committed, loe2.gap, loe2.committed_outside_plan), (dec("0"), dec("100"), dec("40")));
        let total = by_line.last().expect("total");
        assert_eq!(
            (total.key.as_slice(), total.requirement, total.gap),
            (["TOTAL".to_owned()].as_slice(), dec("1600"), dec("750"))
        );
        let by_cell = funding_gap(&reqs, &r, GapGrouping { line_of_effort: true, country: true, fiscal_year: true });
        let hn = by_cell.iter().find(|g| g.key == ["LOE1", "HN", "2024"]).expect("HN");
        assert_eq!((hn.gap, hn.percent_funded), (dec("0"), Some(dec("120"))), "over-funded: no negative gap");
    }
}

//! Portfolio report: commitments, disbursements, expenditures and distinct activities,
//! grouped by any of the [`Dimension`]s, with filters. Exact decimals; every view of the same
//! filtered data sums to the same grand total, because money is split (never copied) over
//! lines of effort, countries, sectors and implementers.

use crate::attribution::UNSPECIFIED;
use crate::codes::FiscalYear;
use crate::money::allocate;
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use time::Date;

/// Label for money of activities that map to no line of effort.
pub const NOT_MAPPED: &str = "NOT_MAPPED";
/// Label for a fact without a date.
pub const NO_DATE: &str = "unknown";

/// A grouping dimension (`--by`). Names are the CSV column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Line of effort id (`LOE1`..), or `NOT_MAPPED`; money of an activity mapped to several
    /// lines of effort is split equally between them.
    LineOfEffort,
    /// ISO 3166-1 alpha-2, `REGIONAL` or `UNKNOWN`.
    Country,
    /// U.S. fiscal year (`2023` = FY2023), or the calendar year with `calendar_year`.
    FiscalYear,
    /// `reporting-org` name.
    ReportingOrg,
    /// Implementing organisation (transaction `receiver-org`, else `participating-org[@role=4]`).
    ImplementingOrg,
    /// The strategy's instrument (`foreign_assistance` for IATI activities).
    Instrument,
    /// DAC 5-digit sector code.
    Sector,
    /// Where the record comes from: [`SOURCE_IATI`] (imported) or [`SOURCE_ENTERED`]
    /// (an intervention entered in Senda). Never seen by the fact kernels: [`with_source`]
    /// takes it out and puts the label back.
    Source,
}

/// [`Dimension::Source`] of imported IATI activities.
pub const SOURCE_IATI: &str = "iati";
/// [`Dimension::Source`] of interventions entered in Senda.
pub const SOURCE_ENTERED: &str = "entered";
/// Number of [`Dimension`]s (the size of per-dimension tables).
pub(crate) const DIMENSIONS: usize = Dimension::ALL.len();

impl Dimension {
    /// All dimensions.
    pub const ALL: [Dimension; 8] = [
        Dimension::LineOfEffort,
        Dimension::Country,
        Dimension::FiscalYear,
        Dimension::ReportingOrg,
        Dimension::ImplementingOrg,
        Dimension::Instrument,
        Dimension::Sector,
        Dimension::Source,
    ];
    /// The snake_case name (CSV column).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::LineOfEffort => "line_of_effort",
            Dimension::Country => "country",
            Dimension::FiscalYear => "fiscal_year",
            Dimension::ReportingOrg => "reporting_org",
            Dimension::ImplementingOrg => "implementing_org",
            Dimension::Instrument => "instrument",
            Dimension::Sector => "sector",
            Dimension::Source => "source",
        }
    }
    fn idx(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dimension {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL.into_iter().find(|d| d.name() == s.trim()).ok_or_else(|| {
            let all: Vec<_> = Dimension::ALL.iter().map(|d| d.name()).collect();
            format!("unknown dimension {s:?} (expected one of {})", all.join(", "))
        })
    }
}

/// Money totals by transaction type, in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Outgoing commitments (IATI transaction type 2; U.S. obligations).
    pub commitments: Decimal,
    /// Disbursements (type 3).
    pub disbursements: Decimal,
    /// Expenditures (type 4).
    pub expenditures: Decimal,
    /// The negative part of `commitments` (U.S. de-obligations; zero or below): the gross
    /// obligations are `commitments - deobligations`. Not serialised: `senda report --gross`
    /// shows it.
    #[serde(skip)]
    pub deobligations: Decimal,
    /// The negative part of `disbursements` (returned or reversed disbursements; zero or below).
    #[serde(skip)]
    pub returns: Decimal,
}

impl Totals {
    fn add(&mut self, ttype: &str, amount: Decimal) {
        match ttype {
            "2" => self.add_commitment(amount),
            "3" => self.add_disbursement(amount),
            "4" => self.expenditures += amount,
            _ => {}
        }
    }
    /// Adds a commitment (its negative part is also a de-obligation).
    #[inline]
    pub fn add_commitment(&mut self, amount: Decimal) {
        self.commitments += amount;
        if amount.is_sign_negative() {
            self.deobligations += amount;
        }
    }
    /// Adds a disbursement (its negative part is also a return).
    #[inline]
    pub fn add_disbursement(&mut self, amount: Decimal) {
        self.disbursements += amount;
        if amount.is_sign_negative() {
            self.returns += amount;
        }
    }
    /// Adds `o` to these totals.
    pub fn merge(&mut self, o: &Totals) {
        self.commitments += o.commitments;
        self.disbursements += o.disbursements;
        self.expenditures += o.expenditures;
        self.deobligations += o.deobligations;
        self.returns += o.returns;
    }
    /// Obligations before de-obligations (`commitments - deobligations`).
    pub fn gross_commitments(&self) -> Decimal {
        self.commitments - self.deobligations
    }
    /// Disbursements before returns (`disbursements - returns`).
    pub fn gross_disbursements(&self) -> Decimal {
        self.disbursements - self.returns
    }
    /// True when every total is zero.
    pub fn is_zero(&self) -> bool {
        self.commitments.is_zero() && self.disbursements.is_zero() && self.expenditures.is_zero()
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The group's values, in the order of [`Report::dimensions`].
    pub key: Vec<String>,
    /// Distinct activities with a fact in the group.
    pub activities: u64,
    /// Totals in U.S. dollars.
    pub usd: Totals,
    /// Totals in other currencies, unconverted (no exchange rates yet), by ISO 4217 code.
    pub unconverted: BTreeMap<String, Totals>,
}

/// A finished report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Grouping dimensions, in the order asked.
    pub dimensions: Vec<Dimension>,
    /// Years are calendar years (`true`) or U.S. fiscal years (`false`, default).
    pub calendar_year: bool,
    /// Rows, sorted by key.
    pub rows: Vec<Row>,
    /// Grand total: distinct activities and money over all rows.
    pub total: Row,
}

/// What the report needs to know of an activity.
#[derive(Debug, Clone)]
pub struct ActivityInfo {
    /// `reporting-org` display name.
    pub reporting_org: String,
    /// Lines of effort (after overrides); empty = not mapped.
    pub lines_of_effort: Vec<String>,
    /// Instrument id.
    pub instrument: String,
}

/// One attributed fact as read from the store (see [`crate::attribution::Fact`]).
#[derive(Debug, Clone, Copy)]
pub struct FactRef<'a> {
    /// Key of the activity in the `activities` map given to [`ReportBuilder::new`].
    pub activity: u32,
    /// `"2"`, `"3"`, `"4"`, or `"0"` for a presence fact.
    pub transaction_type: &'a str,
    /// Date of the fact.
    pub date: Option<Date>,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// Country label.
    pub country: &'a str,
    /// DAC sector code.
    pub sector: &'a str,
    /// Implementing organisation.
    pub implementing_org: &'a str,
    /// Amount.
    pub amount: Decimal,
}

/// A filter: for each dimension, the accepted values (empty map = everything).
pub type Filters = HashMap<Dimension, Vec<String>>;

#[derive(Default)]
struct Acc {
    usd: Totals,
    other: BTreeMap<String, Totals>,
    activities: FxHashSet<u32>,
}

/// Accumulates facts into a report. Feed facts with [`ReportBuilder::add`], then [`ReportBuilder::finish`].
pub struct ReportBuilder<'i> {
    dims: Vec<Dimension>,
    calendar_year: bool,
    filters: Filters,
    activities: &'i HashMap<u32, ActivityInfo>,
    interner: Vec<FxHashMap<String, u32>>,
    years: FxHashMap<i64, u32>,
    names: Vec<Vec<String>>,
    groups: FxHashMap<[u32; DIMENSIONS], Acc>,
    total: Acc,
    /// Per activity, the USD money that passed the filters ([`ReportBuilder::per_activity`]).
    per_activity: Option<FxHashMap<u32, Totals>>,
}

const NONE: u32 = u32::MAX;

fn year_text(year: i64) -> String {
    if year == i64::MIN { NO_DATE.to_owned() } else { year.to_string() }
}

impl<'i> ReportBuilder<'i> {
    /// A builder grouping by `dims`, keeping only facts whose values pass `filters`.
    pub fn new(
        dims: Vec<Dimension>,
        calendar_year: bool,
        filters: Filters,
        activities: &'i HashMap<u32, ActivityInfo>,
    ) -> Self {
        // The source is not a property of facts: `with_source` labels a whole report.
        let (mut dims, mut filters) = (dims, filters);
        dims.retain(|d| *d != Dimension::Source);
        filters.remove(&Dimension::Source);
        Self {
            dims,
            calendar_year,
            filters,
            activities,
            interner: vec![FxHashMap::default(); DIMENSIONS],
            years: FxHashMap::default(),
            names: vec![Vec::new(); DIMENSIONS],
            groups: FxHashMap::default(),
            total: Acc::default(),
            per_activity: None,
        }
    }

    /// Also keeps, per activity, the USD money the report counts (its share in the view: the
    /// part of each fact passing the filters, split over lines of effort as the report
    /// splits it), read with [`ReportBuilder::money_per_activity`]. Summed over activities it
    /// is the report's total.
    pub fn per_activity(mut self) -> Self {
        self.per_activity = Some(FxHashMap::default());
        self
    }

    /// The money per activity kept by [`ReportBuilder::per_activity`] (empty without it).
    pub fn money_per_activity(&mut self) -> HashMap<u32, Totals> {
        self.per_activity.take().map(|m| m.into_iter().collect()).unwrap_or_default()
    }

    fn intern(&mut self, d: Dimension, v: &str) -> u32 {
        let i = d.idx();
        if let Some(&id) = self.interner[i].get(v) {
            return id;
        }
        let id = self.names[i].len() as u32;
        self.names[i].push(v.to_owned());
        self.interner[i].insert(v.to_owned(), id);
        id
    }

    fn passes(&self, d: Dimension, v: &str) -> bool {
        self.filters.get(&d).is_none_or(|vals| vals.iter().any(|x| x.eq_ignore_ascii_case(v)))
    }

    /// Adds one fact. Facts of activities unknown to the builder are ignored.
    pub fn add(&mut self, f: FactRef<'_>) {
        let activities = self.activities;
        let Some(info) = activities.get(&f.activity) else { return };
        // Years are kept as numbers; their text is made once per distinct year.
        let year: i64 = match f.date {
            Some(d) if self.calendar_year => i64::from(d.year()),
            Some(d) => i64::from(FiscalYear::of(d).0),
            None => i64::MIN,
        };
        if self.filters.contains_key(&Dimension::FiscalYear) && !self.passes(Dimension::FiscalYear, &year_text(year)) {
            return;
        }
        let fixed: [(Dimension, &str); 5] = [
            (Dimension::Country, f.country),
            (Dimension::ReportingOrg, &info.reporting_org),
            (Dimension::ImplementingOrg, f.implementing_org),
            (Dimension::Instrument, &info.instrument),
            (Dimension::Sector, if f.sector.is_empty() { UNSPECIFIED } else { f.sector }),
        ];
        if !self.filters.is_empty() && fixed.iter().any(|(d, v)| !self.passes(*d, v)) {
            return;
        }
        let mut base = [NONE; DIMENSIONS];
        for (d, v) in fixed {
            if self.dims.contains(&d) {
                base[d.idx()] = self.intern(d, v);
            }
        }
        if self.dims.contains(&Dimension::FiscalYear) {
            base[Dimension::FiscalYear.idx()] = self.intern_year(year);
        }
        let want_loe =
            self.dims.contains(&Dimension::LineOfEffort) || self.filters.contains_key(&Dimension::LineOfEffort);
        if !want_loe {
            self.accumulate(base, &f, f.amount);
            return;
        }
        let lines = &info.lines_of_effort;
        if lines.len() <= 1 {
            let l = lines.first().map(String::as_str).unwrap_or(NOT_MAPPED);
            self.accumulate_line(base, &f, l, f.amount);
            return;
        }
        let parts = allocate(f.amount, &vec![Decimal::ONE; lines.len()]);
        for (l, amt) in lines.iter().zip(parts) {
            self.accumulate_line(base, &f, l, amt);
        }
    }

    fn accumulate_line(&mut self, mut key: [u32; DIMENSIONS], f: &FactRef<'_>, line: &str, amount: Decimal) {
        if !self.passes(Dimension::LineOfEffort, line) {
            return;
        }
        if self.dims.contains(&Dimension::LineOfEffort) {
            key[Dimension::LineOfEffort.idx()] = self.intern(Dimension::LineOfEffort, line);
        }
        self.accumulate(key, f, amount);
    }

    fn intern_year(&mut self, year: i64) -> u32 {
        if let Some(&id) = self.years.get(&year) {
            return id;
        }
        let i = Dimension::FiscalYear.idx();
        let id = self.names[i].len() as u32;
        self.names[i].push(year_text(year));
        self.years.insert(year, id);
        id
    }

    fn accumulate(&mut self, key: [u32; DIMENSIONS], f: &FactRef<'_>, amount: Decimal) {
        if let Some(m) = self.per_activity.as_mut().filter(|_| f.currency == "USD") {
            m.entry(f.activity).or_default().add(f.transaction_type, amount);
        }
        let acc = self.groups.entry(key).or_default();
        for a in [acc, &mut self.total] {
            a.activities.insert(f.activity);
            if f.currency == "USD" {
                a.usd.add(f.transaction_type, amount);
            } else if f.transaction_type != "0" {
                a.other.entry(f.currency.to_owned()).or_default().add(f.transaction_type, amount);
            }
        }
    }

    /// The finished report, rows sorted by key (years numerically, `unknown` last).
    pub fn finish(self) -> Report {
        let mut rows: Vec<Row> = self
            .groups
            .into_iter()
            .map(|(k, acc)| Row {
                key: self
                    .dims
                    .iter()
                    .map(|d| self.names[d.idx()].get(k[d.idx()] as usize).cloned().unwrap_or_default())
                    .collect(),
                activities: acc.activities.len() as u64,
                usd: acc.usd,
                unconverted: acc.other,
            })
            .collect();
        sort_rows(&mut rows);
        let total = Row {
            key: vec!["TOTAL".into()],
            activities: self.total.activities.len() as u64,
            usd: self.total.usd,
            unconverted: self.total.other,
        };
        Report { dimensions: self.dims, calendar_year: self.calendar_year, rows, total }
    }
}

/// Sorts rows by key: years numerically, then names, then `REGIONAL`, `UNKNOWN`, `NOT_MAPPED`
/// and unspecified, then `unknown` years.
pub(crate) fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        for (x, y) in a.key.iter().zip(&b.key) {
            let o = sort_key(x).cmp(&sort_key(y));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
}

fn sort_key(s: &str) -> (u8, i64, &str) {
    match s {
        "REGIONAL" | "UNKNOWN" | NOT_MAPPED | UNSPECIFIED | crate::attribution::UNALLOCATED => (2, 0, s),
        NO_DATE => (3, 0, s),
        _ => match s.parse::<i64>() {
            Ok(n) if s.len() == 4 => (0, n, s),
            _ => (1, 0, s),
        },
    }
}

impl Report {
    /// Sum of the rows' money (equals `total` when the report is consistent).
    pub fn rows_sum(&self) -> (Totals, BTreeMap<String, Totals>) {
        let mut t = Totals::default();
        let mut o: BTreeMap<String, Totals> = BTreeMap::new();
        for r in &self.rows {
            t.merge(&r.usd);
            for (c, x) in &r.unconverted {
                o.entry(c.clone()).or_default().merge(x);
            }
        }
        (t, o)
    }
}

impl Report {
    /// A report with no row and zero totals.
    pub fn empty(dimensions: Vec<Dimension>, calendar_year: bool) -> Self {
        let total =
            Row { key: vec!["TOTAL".into()], activities: 0, usd: Totals::default(), unconverted: BTreeMap::new() };
        Report { dimensions, calendar_year, rows: Vec::new(), total }
    }

    /// `self` and `other` (same dimensions) as one report: rows with the same key added
    /// together, activities summed. Right only when no activity is counted in both (imported
    /// activities and entered interventions are disjoint by construction).
    pub fn merge(mut self, other: Report) -> Report {
        let mut at: HashMap<Vec<String>, usize> =
            self.rows.iter().enumerate().map(|(i, r)| (r.key.clone(), i)).collect();
        for r in other.rows {
            match at.get(&r.key) {
                Some(&i) => self.rows[i].add(&r),
                None => {
                    at.insert(r.key.clone(), self.rows.len());
                    self.rows.push(r);
                }
            }
        }
        self.total.add(&other.total);
        sort_rows(&mut self.rows);
        self
    }
}

impl Row {
    fn add(&mut self, o: &Row) {
        self.activities += o.activities;
        self.usd.merge(&o.usd);
        for (c, t) in &o.unconverted {
            self.unconverted.entry(c.clone()).or_default().merge(t);
        }
    }
}

/// Runs `part` for the records of one source (`label`: [`SOURCE_IATI`] or [`SOURCE_ENTERED`])
/// without [`Dimension::Source`] in its dimensions or filters, then puts the label back in
/// every row's key where the dimension was asked. When the filters exclude `label`, `part` is
/// not run and the report is empty.
pub fn with_source(
    label: &str,
    dims: &[Dimension],
    calendar_year: bool,
    filters: &Filters,
    part: impl FnOnce(Vec<Dimension>, Filters) -> Report,
) -> Report {
    if let Some(wanted) = filters.get(&Dimension::Source)
        && !wanted.iter().any(|w| w.eq_ignore_ascii_case(label))
    {
        return Report::empty(dims.to_vec(), calendar_year);
    }
    let inner_dims: Vec<Dimension> = dims.iter().copied().filter(|d| *d != Dimension::Source).collect();
    let mut inner_filters = filters.clone();
    inner_filters.remove(&Dimension::Source);
    let mut r = part(inner_dims, inner_filters);
    if let Some(pos) = dims.iter().position(|d| *d == Dimension::Source) {
        for row in &mut r.rows {
            row.key.insert(pos, label.to_owned());
        }
    }
    r.dimensions = dims.to_vec();
    r
}

/// One report over imported activities (`iati`) and interventions entered in Senda
/// (`entered`), each run by [`with_source`] (so [`Dimension::Source`] groups and filters them),
/// then merged. The two never share an activity, so counts add up.
pub fn combine(
    dims: Vec<Dimension>,
    calendar_year: bool,
    filters: Filters,
    iati: impl FnOnce(Vec<Dimension>, Filters) -> Report,
    entered: impl FnOnce(Vec<Dimension>, Filters) -> Report,
) -> Report {
    let a = with_source(SOURCE_IATI, &dims, calendar_year, &filters, iati);
    let b = with_source(SOURCE_ENTERED, &dims, calendar_year, &filters, entered);
    a.merge(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_sums_to_the_same_total_and_splits_never_inflate() {
        let mut acts = HashMap::new();
        acts.insert(
            1,
            ActivityInfo {
                reporting_org: "State".into(),
                lines_of_effort: vec!["LOE5".into(), "LOE6".into(), "LOE3".into()],
                instrument: "foreign_assistance".into(),
            },
        );
        acts.insert(
            2,
            ActivityInfo {
                reporting_org: "USAID".into(),
                lines_of_effort: vec![],
                instrument: "foreign_assistance".into(),
            },
        );
        let d = |s: &str| s.parse::<Decimal>().expect("dec");
        let facts = [
            (1, "3", "GT", "100.00", "USD"),
            (1, "2", "HN", "33.33", "USD"),
            (2, "3", "REGIONAL", "7.01", "USD"),
            (2, "3", "GT", "5", "EUR"),
        ];
        let run = |dims: Vec<Dimension>| {
            let mut b = ReportBuilder::new(dims, false, Filters::new(), &acts);
            for (a, t, c, amt, cur) in facts {
                b.add(FactRef {
                    activity: a,
                    transaction_type: t,
                    date: None,
                    currency: cur,
                    country: c,
                    sector: "",
                    implementing_org: "x",
                    amount: d(amt),
                });
            }
            b.finish()
        };
        let base = run(vec![]);
        assert_eq!(base.total.usd.disbursements, d("107.01"));
        assert_eq!(base.total.unconverted["EUR"].disbursements, d("5"));
        for dims in [
            vec![Dimension::LineOfEffort],
            vec![Dimension::Country, Dimension::LineOfEffort],
            vec![Dimension::FiscalYear],
        ] {
            let r = run(dims);
            let (sum, other) = r.rows_sum();
            assert_eq!(sum, base.total.usd);
            assert_eq!(other, base.total.unconverted);
            assert_eq!(r.total.activities, 2);
        }
        let by_loe = run(vec![Dimension::LineOfEffort]);
        let loe5 = by_loe.rows.iter().find(|r| r.key[0] == "LOE5").expect("LOE5 row");
        assert_eq!(loe5.usd.disbursements, d("33.34"));
    }
}

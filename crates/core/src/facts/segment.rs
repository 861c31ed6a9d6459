//! A fact segment: the facts of one range of activity ids, column by column, small enough to
//! keep a million activities' facts in memory and to store as one value in the database.
//!
//! What a report needs of a fact is kept and nothing else: the activity, the transaction type,
//! the currency, the country, the sector, the implementing organisation (these five as one
//! index into the segment's distinct combinations), the calendar year and whether the date
//! falls in October to December (which gives the U.S. fiscal year), and the exact amount
//! (an `i64` mantissa and its scale; amounts that do not fit are kept as [`Decimal`]s aside).

use crate::report::FactRef;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use time::Date;

/// Activity ids per segment: segment `s` holds activities `s * SEGMENT_SPAN .. (s + 1) * SEGMENT_SPAN`.
pub const SEGMENT_SPAN: u32 = 1 << 14;

/// The segment an activity id belongs to.
pub fn segment_of(activity_id: u32) -> u32 {
    activity_id / SEGMENT_SPAN
}

/// `year` value of a fact without a date.
pub(crate) const NO_YEAR: u16 = u16::MAX;
/// Offset added to calendar years so that any year `time` accepts (±9999) packs in a `u16`.
const YEAR_OFFSET: i32 = 10_000;
/// `scale` value of an amount kept in `big` (its mantissa is the index there).
const BIG: u8 = u8::MAX;

/// Packs a date as (calendar year + offset) × 2 + (month ≥ October).
pub(crate) fn pack_year(d: Option<Date>) -> u16 {
    match d {
        Some(d) => {
            let y = d.year() + YEAR_OFFSET;
            let q4 = u16::from(d.month() as u8 >= 10);
            // `time` keeps years within ±9999, so 0 < y < 20,000 and the value fits.
            u16::try_from(y).map_or(NO_YEAR, |y| (y << 1) | q4)
        }
        None => NO_YEAR,
    }
}

/// The calendar year and fiscal year of a packed date (`None` without a date).
pub(crate) fn unpack_year(v: u16) -> Option<(i64, i64)> {
    if v == NO_YEAR {
        return None;
    }
    let cy = i64::from(v >> 1) - i64::from(YEAR_OFFSET);
    Some((cy, cy + i64::from(v & 1)))
}

/// The five text fields of a fact, as indexes into [`FactSegment`]'s strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Combo {
    /// Transaction type (`"0"` for a presence fact).
    pub transaction_type: u32,
    /// ISO 4217 currency.
    pub currency: u32,
    /// Country label.
    pub country: u32,
    /// DAC sector code (may be empty).
    pub sector: u32,
    /// Implementing organisation.
    pub implementing_org: u32,
}

/// The facts of a range of activity ids, column by column (see the module documentation).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FactSegment {
    /// Activity ids, ascending, each once.
    pub(crate) activities: Vec<u32>,
    /// For activity `i`, its facts are `ends[i - 1]..ends[i]` (from 0 for the first).
    pub(crate) ends: Vec<u32>,
    /// For activity `i`, its reporting organisation's name (index into `strings`): what a reader
    /// needs of the activity besides its lines of effort, kept here so that it need not read
    /// the activities.
    pub(crate) orgs: Vec<u32>,
    /// Distinct strings of the segment.
    pub(crate) strings: Vec<String>,
    /// Distinct combinations of the five text fields.
    pub(crate) combos: Vec<Combo>,
    /// Per fact: its combination, when some index needs more than 16 bits (else empty).
    pub(crate) combo: Vec<u32>,
    /// Per fact: its combination, when every index fits 16 bits (else empty).
    pub(crate) combo16: Vec<u16>,
    /// Per fact: packed date (see `pack_year`).
    pub(crate) year: Vec<u16>,
    /// Per fact: the amount's mantissa, or its index in `big`, when some needs more than 32
    /// bits (else empty).
    pub(crate) mantissa: Vec<i64>,
    /// Per fact: the same, when every one fits 32 bits (else empty).
    pub(crate) mantissa32: Vec<i32>,
    /// Per fact: the amount's scale (`BIG`: kept in `big`).
    pub(crate) scale: Vec<u8>,
    /// Amounts whose mantissa does not fit an `i64`.
    pub(crate) big: Vec<Decimal>,
}

impl FactSegment {
    /// Number of facts.
    pub fn len(&self) -> usize {
        self.year.len()
    }

    /// True when the segment holds no fact.
    pub fn is_empty(&self) -> bool {
        self.year.is_empty()
    }

    /// The combination of fact `i`.
    #[inline]
    pub(crate) fn combo_at(&self, i: usize) -> u32 {
        match self.combo16.get(i) {
            Some(&c) => u32::from(c),
            None => self.combo.get(i).copied().unwrap_or(u32::MAX),
        }
    }

    /// The mantissa (or `big` index) of fact `i`.
    #[inline]
    fn mantissa_at(&self, i: usize) -> i64 {
        match self.mantissa32.get(i) {
            Some(&m) => i64::from(m),
            None => self.mantissa.get(i).copied().unwrap_or(0),
        }
    }

    /// Keeps the combination and mantissa columns in 16 and 32 bits when every value fits.
    fn narrow(&mut self) {
        if let Ok(v) = self.combo.iter().map(|&c| u16::try_from(c)).collect::<Result<Vec<u16>, _>>() {
            self.combo16 = v;
            self.combo = Vec::new();
        }
        if let Ok(v) = self.mantissa.iter().map(|&m| i32::try_from(m)).collect::<Result<Vec<i32>, _>>() {
            self.mantissa32 = v;
            self.mantissa = Vec::new();
        }
    }

    /// The activities with at least one fact, ascending, each with its reporting organisation.
    pub fn activities(&self) -> impl Iterator<Item = (u32, &str)> {
        self.activities
            .iter()
            .zip(&self.orgs)
            .map(|(&a, &o)| (a, self.strings.get(o as usize).map_or("", String::as_str)))
    }

    /// Number of activities with at least one fact.
    pub fn activity_count(&self) -> usize {
        self.activities.len()
    }

    /// Approximate heap size in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.activities.capacity() * 4
            + self.ends.capacity() * 4
            + self.orgs.capacity() * 4
            + self.strings.iter().map(|s| s.capacity() + 24).sum::<usize>()
            + self.combos.capacity() * std::mem::size_of::<Combo>()
            + self.combo.capacity() * 4
            + self.combo16.capacity() * 2
            + self.year.capacity() * 2
            + self.mantissa.capacity() * 8
            + self.mantissa32.capacity() * 4
            + self.scale.capacity()
            + self.big.capacity() * 16
    }

    /// The amount of fact `i`.
    pub(crate) fn amount(&self, i: usize) -> Decimal {
        let m = self.mantissa_at(i);
        match self.scale[i] {
            BIG => usize::try_from(m).ok().and_then(|k| self.big.get(k).copied()).unwrap_or_default(),
            s => Decimal::new(m, u32::from(s)),
        }
    }

    /// Checks the invariants a decoded segment must keep (so that reading it cannot panic):
    /// columns of equal length, indexes in range, activities ascending, ends non-decreasing.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.year.len();
        let one_of = |a: usize, b: usize| (a == n && b == 0) || (a == 0 && b == n);
        if self.scale.len() != n
            || !one_of(self.combo.len(), self.combo16.len())
            || !one_of(self.mantissa.len(), self.mantissa32.len())
        {
            return Err("fact columns of different lengths".into());
        }
        if self.ends.len() != self.activities.len() || self.orgs.len() != self.activities.len() {
            return Err("activity columns of different lengths".into());
        }
        if self.activities.windows(2).any(|w| w[0] >= w[1]) {
            return Err("activities not in ascending order".into());
        }
        if self.ends.windows(2).any(|w| w[0] > w[1]) || self.ends.last().map_or(n != 0, |&e| e as usize != n) {
            return Err("fact ranges do not cover the facts".into());
        }
        if self.orgs.iter().any(|&o| o as usize >= self.strings.len()) {
            return Err("organisation index out of range".into());
        }
        if (0..n).any(|i| self.combo_at(i) as usize >= self.combos.len()) {
            return Err("combination index out of range".into());
        }
        let ns = self.strings.len();
        let bad = |c: &Combo| {
            [c.transaction_type, c.currency, c.country, c.sector, c.implementing_org].iter().any(|&i| i as usize >= ns)
        };
        if self.combos.iter().any(bad) {
            return Err("string index out of range".into());
        }
        for (i, &s) in self.scale.iter().enumerate() {
            if s == BIG {
                if usize::try_from(self.mantissa_at(i)).ok().is_none_or(|k| k >= self.big.len()) {
                    return Err("large amount index out of range".into());
                }
            } else if u32::from(s) > 28 {
                return Err(format!("amount scale {s} out of range"));
            }
        }
        Ok(())
    }

    /// Calls `f` with every fact, activity by activity, in the order stored.
    pub fn for_each(&self, mut f: impl FnMut(FactRef<'_>)) {
        let mut start = 0usize;
        for (a, &end) in self.activities.iter().zip(&self.ends) {
            for i in start..end as usize {
                let c = self.combos[self.combo_at(i) as usize];
                let s = |k: u32| self.strings[k as usize].as_str();
                let date = unpack_year(self.year[i]).and_then(|(cy, fy)| {
                    // A representative date: 1 January, or 1 October when the fact is in Q4.
                    let m = if fy > cy { time::Month::October } else { time::Month::January };
                    Date::from_calendar_date(i32::try_from(cy).ok()?, m, 1).ok()
                });
                f(FactRef {
                    activity: *a,
                    transaction_type: s(c.transaction_type),
                    date,
                    currency: s(c.currency),
                    country: s(c.country),
                    sector: s(c.sector),
                    implementing_org: s(c.implementing_org),
                    amount: self.amount(i),
                });
            }
            start = end as usize;
        }
    }
}

/// Builds a [`FactSegment`] from facts given activity by activity, in ascending activity order.
#[derive(Debug, Default)]
pub struct SegmentBuilder {
    seg: FactSegment,
    strings: FxHashMap<String, u32>,
    combos: FxHashMap<Combo, u32>,
    /// Facts pushed out of activity order, sorted at the end.
    unsorted: bool,
    /// Reporting organisation by activity (string index).
    orgs: FxHashMap<u32, u32>,
}

impl SegmentBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.seg.strings.len() as u32;
        self.seg.strings.push(s.to_owned());
        self.strings.insert(s.to_owned(), i);
        i
    }

    /// Appends one fact.
    pub fn push(&mut self, f: FactRef<'_>) {
        let c = Combo {
            transaction_type: self.string(f.transaction_type),
            currency: self.string(f.currency),
            country: self.string(f.country),
            sector: self.string(f.sector),
            implementing_org: self.string(f.implementing_org),
        };
        let next = self.seg.combos.len() as u32;
        let ci = *self.combos.entry(c).or_insert(next);
        if ci == next {
            self.seg.combos.push(c);
        }
        let n = self.seg.year.len() as u32;
        match self.seg.activities.last() {
            Some(&a) if a == f.activity => {}
            last => {
                if last.is_some_and(|&a| a > f.activity) {
                    self.unsorted = true;
                }
                self.seg.activities.push(f.activity);
                self.seg.ends.push(n);
            }
        }
        self.seg.combo.push(ci);
        self.seg.year.push(pack_year(f.date));
        let m = f.amount.mantissa();
        match i64::try_from(m) {
            Ok(m) => {
                self.seg.mantissa.push(m);
                self.seg.scale.push(f.amount.scale() as u8);
            }
            Err(_) => {
                self.seg.mantissa.push(self.seg.big.len() as i64);
                self.seg.scale.push(BIG);
                self.seg.big.push(f.amount);
            }
        }
        if let Some(e) = self.seg.ends.last_mut() {
            *e = n + 1;
        }
    }

    /// Records activity `activity`'s reporting organisation (name).
    pub fn reporting_org(&mut self, activity: u32, name: &str) {
        let i = self.string(name);
        self.orgs.insert(activity, i);
    }

    /// The finished segment (activities ascending even if they were pushed in another order).
    /// An activity whose organisation was not given has an empty one.
    pub fn finish(mut self) -> FactSegment {
        if self.unsorted {
            self.seg = sort_by_activity(self.seg);
        }
        let missing = self.seg.activities.iter().any(|a| !self.orgs.contains_key(a));
        let empty = if missing { self.string("") } else { 0 };
        self.seg.orgs = self.seg.activities.iter().map(|a| self.orgs.get(a).copied().unwrap_or(empty)).collect();
        self.seg.activities.shrink_to_fit();
        self.seg.ends.shrink_to_fit();
        self.seg.orgs.shrink_to_fit();
        self.seg.narrow();
        self.seg.combo.shrink_to_fit();
        self.seg.year.shrink_to_fit();
        self.seg.mantissa.shrink_to_fit();
        self.seg.scale.shrink_to_fit();
        self.seg
    }
}

/// The same facts, grouped by activity in ascending order (facts of one activity keep their
/// relative order).
fn sort_by_activity(seg: FactSegment) -> FactSegment {
    let mut runs: Vec<(u32, usize, usize)> = Vec::new();
    let mut start = 0usize;
    for (&a, &e) in seg.activities.iter().zip(&seg.ends) {
        runs.push((a, start, e as usize));
        start = e as usize;
    }
    runs.sort_by_key(|r| r.0); // stable: runs of one activity keep their order
    let mut out = FactSegment { strings: seg.strings, combos: seg.combos, big: seg.big, ..Default::default() };
    for (a, s, e) in runs {
        if out.activities.last() != Some(&a) {
            out.activities.push(a);
            out.ends.push(out.combo.len() as u32);
        }
        out.combo.extend_from_slice(&seg.combo[s..e]);
        out.year.extend_from_slice(&seg.year[s..e]);
        out.mantissa.extend_from_slice(&seg.mantissa[s..e]);
        out.scale.extend_from_slice(&seg.scale[s..e]);
        if let Some(last) = out.ends.last_mut() {
            *last = out.combo.len() as u32;
        }
    }
    out
}

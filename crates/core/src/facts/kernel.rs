//! One report over fact segments: the same rules as [`ReportBuilder`](crate::report::ReportBuilder)
//! (filters, the equal split over lines of effort, USD and other currencies, distinct
//! activities), computed over integer columns. Everything that depends on a string is decided
//! once per activity class, per combination of a segment, or per year, not once per fact.
//! Distinct activities are counted without sets: facts come activity by activity, so a group
//! counts an activity when it differs from the last one the group saw.

use super::segment::{FactSegment, unpack_year};
use super::{ActivityClasses, UNKNOWN};
use crate::attribution::UNSPECIFIED;
use crate::money::allocate;
use crate::report::{DIMENSIONS, Dimension, Filters, NO_DATE, NOT_MAPPED, Report, Row, Totals, sort_rows};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

const NONE: u32 = u32::MAX;
/// Possible keys at most for groups kept in a vector (4 MiB of indexes).
const DENSE_LIMIT: usize = 1 << 20;
/// Year table entry: not looked at yet.
const UNSEEN: u32 = u32::MAX - 1;
/// Year table entry: filtered out.
const OUT: u32 = u32::MAX - 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commitment,
    Disbursement,
    Expenditure,
    /// A presence fact (`"0"`): counts the activity, no money.
    Presence,
    /// Another transaction type: counts the activity; in another currency it opens the
    /// currency's totals at zero, as the report builder does.
    Other,
}

#[derive(Default)]
struct Acc {
    usd: Totals,
    other: Vec<(u32, Totals)>,
    activities: u64,
    last: Option<u32>,
}

fn add(t: &mut Totals, kind: Kind, amount: Decimal) {
    match kind {
        Kind::Commitment => t.add_commitment(amount),
        Kind::Disbursement => t.add_disbursement(amount),
        Kind::Expenditure => t.expenditures += amount,
        Kind::Presence | Kind::Other => {}
    }
}

impl Acc {
    #[inline]
    fn add(&mut self, activity: u32, kind: Kind, currency: Option<u32>, amount: Decimal) {
        if self.last != Some(activity) {
            self.last = Some(activity);
            self.activities += 1;
        }
        match currency {
            None => add(&mut self.usd, kind, amount),
            Some(_) if kind == Kind::Presence => {}
            Some(c) => match self.other.iter_mut().find(|(k, _)| *k == c) {
                Some((_, t)) => add(t, kind, amount),
                None => {
                    let mut t = Totals::default();
                    add(&mut t, kind, amount);
                    self.other.push((c, t));
                }
            },
        }
    }
}

/// The groups of a report: keys and accumulators in order of first appearance, an index by
/// key, and the last key used (facts of one activity often fall in the same group, which then
/// costs no hashing).
#[derive(Default)]
struct Groups {
    keys: Vec<[u32; DIMENSIONS]>,
    accs: Vec<Acc>,
    /// When not empty: group index by the key's position (sum of component × stride), for
    /// every possible key.
    dense: Vec<u32>,
    /// (dimension, stride) of each grouping dimension.
    strides: Vec<(usize, usize)>,
    index: FxHashMap<[u32; DIMENSIONS], u32>,
    last: Option<([u32; DIMENSIONS], u32)>,
    /// Distinct activities with a fact in any group, and the last one counted.
    total_activities: u64,
    last_activity: Option<u32>,
}

impl Groups {
    #[inline]
    fn add(&mut self, key: [u32; DIMENSIONS], activity: u32, kind: Kind, currency: Option<u32>, amount: Decimal) {
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = self.slot(key);
                self.last = Some((key, i));
                i
            }
        };
        if self.last_activity != Some(activity) {
            self.last_activity = Some(activity);
            self.total_activities += 1;
        }
        if let Some(acc) = self.accs.get_mut(i as usize) {
            acc.add(activity, kind, currency, amount);
        }
    }

    /// The group of `key`, made if new: in the vector when the key has a place there (always
    /// the same place for the same key), else in the map.
    fn slot(&mut self, key: [u32; DIMENSIONS]) -> u32 {
        let next = self.accs.len() as u32;
        let pos = (!self.dense.is_empty())
            .then(|| self.strides.iter().map(|&(d, stride)| (key[d] as usize).saturating_mul(stride)).sum::<usize>());
        let i = match pos.and_then(|p| self.dense.get_mut(p)) {
            Some(slot) => {
                if *slot == NONE {
                    *slot = next;
                }
                *slot
            }
            None => *self.index.entry(key).or_insert(next),
        };
        if i == next {
            self.keys.push(key);
            self.accs.push(Acc::default());
        }
        i
    }
}

/// What the report needs of a combination of a segment.
struct ComboInfo {
    ok: bool,
    key: [u32; DIMENSIONS],
    kind: Kind,
    /// `None`: USD; else the currency's index in `Names::currencies`.
    currency: Option<u32>,
}

/// What the report needs of an activity class.
struct ClassInfo {
    ok: bool,
    key: [u32; DIMENSIONS],
    /// (line component or NONE, passes the line filter); one entry when not split.
    lines: Vec<(u32, bool)>,
}

struct Names {
    dims: Vec<Dimension>,
    filters: Filters,
    interner: Vec<FxHashMap<String, u32>>,
    names: Vec<Vec<String>>,
    currencies: Vec<String>,
    currency_ids: FxHashMap<String, u32>,
}

impl Names {
    fn has(&self, d: Dimension) -> bool {
        self.dims.contains(&d)
    }
    fn passes(&self, d: Dimension, v: &str) -> bool {
        self.filters.get(&d).is_none_or(|vals| vals.iter().any(|x| x.eq_ignore_ascii_case(v)))
    }
    fn intern(&mut self, d: Dimension, v: &str) -> u32 {
        let i = d as usize;
        if let Some(&id) = self.interner[i].get(v) {
            return id;
        }
        let id = self.names[i].len() as u32;
        self.names[i].push(v.to_owned());
        self.interner[i].insert(v.to_owned(), id);
        id
    }
    /// Sets `key[d]` to `v`'s component when `d` is a grouping dimension.
    fn set(&mut self, key: &mut [u32; DIMENSIONS], d: Dimension, v: &str) {
        if self.has(d) {
            key[d as usize] = self.intern(d, v);
        }
    }
    fn currency(&mut self, c: &str) -> Option<u32> {
        if c == "USD" {
            return None;
        }
        if let Some(&i) = self.currency_ids.get(c) {
            return Some(i);
        }
        let i = self.currencies.len() as u32;
        self.currencies.push(c.to_owned());
        self.currency_ids.insert(c.to_owned(), i);
        Some(i)
    }
}

fn classes_info(n: &mut Names, classes: &ActivityClasses, want_loe: bool) -> Vec<ClassInfo> {
    classes
        .classes()
        .iter()
        .map(|c| {
            let ok =
                n.passes(Dimension::ReportingOrg, &c.reporting_org) && n.passes(Dimension::Instrument, &c.instrument);
            let mut key = [NONE; DIMENSIONS];
            n.set(&mut key, Dimension::ReportingOrg, &c.reporting_org);
            n.set(&mut key, Dimension::Instrument, &c.instrument);
            let lines = if !want_loe {
                vec![(NONE, true)]
            } else if c.lines_of_effort.is_empty() {
                vec![line(n, NOT_MAPPED)]
            } else {
                c.lines_of_effort.iter().map(|l| line(n, l)).collect()
            };
            ClassInfo { ok, key, lines }
        })
        .collect()
}

fn line(n: &mut Names, l: &str) -> (u32, bool) {
    let pass = n.passes(Dimension::LineOfEffort, l);
    let comp = if n.has(Dimension::LineOfEffort) { n.intern(Dimension::LineOfEffort, l) } else { NONE };
    (comp, pass)
}

fn combos_info(n: &mut Names, seg: &FactSegment) -> Vec<ComboInfo> {
    seg.combos
        .iter()
        .map(|c| {
            let s = |i: u32| seg.strings[i as usize].as_str();
            let sector = if s(c.sector).is_empty() { UNSPECIFIED } else { s(c.sector) };
            let ok = n.passes(Dimension::Country, s(c.country))
                && n.passes(Dimension::ImplementingOrg, s(c.implementing_org))
                && n.passes(Dimension::Sector, sector);
            let mut key = [NONE; DIMENSIONS];
            n.set(&mut key, Dimension::Country, s(c.country));
            n.set(&mut key, Dimension::ImplementingOrg, s(c.implementing_org));
            n.set(&mut key, Dimension::Sector, sector);
            let kind = match s(c.transaction_type) {
                "2" => Kind::Commitment,
                "3" => Kind::Disbursement,
                "4" => Kind::Expenditure,
                "0" => Kind::Presence,
                _ => Kind::Other,
            };
            let currency = n.currency(s(c.currency));
            ComboInfo { ok, key, kind, currency }
        })
        .collect()
}

/// `amount` split equally in `n` parts exactly as [`allocate`] with equal weights splits it
/// (values and scales: parts are at the amount's scale, at least cents; the remainder goes a
/// unit at a time to the first parts), computed in integers. `false` (and `out` untouched) for
/// amounts where it would not be cheap or certain: then the caller uses `allocate`.
pub(crate) fn equal_split(amount: Decimal, n: usize, out: &mut Vec<Decimal>) -> bool {
    let s = amount.scale();
    let target = s.max(2);
    let m = amount.mantissa();
    let (Ok(n_i), true) = (i128::try_from(n), n >= 2 && m.unsigned_abs() < 10u128.pow(20) && s <= 6) else {
        return false;
    };
    let big = m * 10i128.pow(target - s);
    let (q, r) = (big / n_i, big % n_i);
    if q == 0 {
        // Parts of zero may carry a sign in `allocate`: leave them to it.
        return false;
    }
    out.clear();
    if m % n_i == 0 {
        // Whole at the amount's own scale: `allocate`'s quotient keeps that scale.
        let part = Decimal::from_i128_with_scale(m / n_i, s);
        out.extend(std::iter::repeat_n(part, n));
    } else if r == 0 {
        // Whole only at the target scale (a quotient with more digits, floored to it).
        let part = Decimal::from_i128_with_scale(q, target);
        out.extend(std::iter::repeat_n(part, n));
    } else {
        let step = r.signum();
        for i in 0..n_i {
            let v = if i < r.abs() { q + step } else { q };
            out.push(Decimal::from_i128_with_scale(v, target));
        }
    }
    true
}

fn year_text(year: Option<i64>) -> String {
    year.map_or_else(|| NO_DATE.to_owned(), |y| y.to_string())
}

/// See the module documentation.
pub(super) fn report(
    segments: &[Arc<FactSegment>],
    classes: &ActivityClasses,
    dims: Vec<Dimension>,
    calendar_year: bool,
    filters: Filters,
) -> Report {
    report_with(segments, classes, dims, calendar_year, filters, DENSE_LIMIT)
}

/// [`report`], with groups in a vector only when there are at most `dense_limit` possible keys.
pub(crate) fn report_with(
    segments: &[Arc<FactSegment>],
    classes: &ActivityClasses,
    dims: Vec<Dimension>,
    calendar_year: bool,
    filters: Filters,
    dense_limit: usize,
) -> Report {
    // The source is not a property of facts: `report::with_source` labels a whole report.
    let (mut dims, mut filters) = (dims, filters);
    dims.retain(|d| *d != Dimension::Source);
    filters.remove(&Dimension::Source);
    let want_loe = dims.contains(&Dimension::LineOfEffort) || filters.contains_key(&Dimension::LineOfEffort);
    let mut n = Names {
        dims,
        filters,
        interner: vec![FxHashMap::default(); DIMENSIONS],
        names: vec![Vec::new(); DIMENSIONS],
        currencies: Vec::new(),
        currency_ids: FxHashMap::default(),
    };
    let cls = classes_info(&mut n, classes, want_loe);
    let fy_filter = n.filters.contains_key(&Dimension::FiscalYear);
    let fy_dim = n.has(Dimension::FiscalYear);
    // Packed year -> component (or OUT), filled as years are met.
    let mut years = vec![UNSEEN; usize::from(u16::MAX) + 1];
    let mut year_comp = |n: &mut Names, packed: u16| -> u32 {
        let slot = &mut years[usize::from(packed)];
        if *slot == UNSEEN {
            let y = unpack_year(packed).map(|(cy, fy)| if calendar_year { cy } else { fy });
            let text = year_text(y);
            *slot = if fy_filter && !n.passes(Dimension::FiscalYear, &text) {
                OUT
            } else if fy_dim {
                n.intern(Dimension::FiscalYear, &text)
            } else {
                NONE
            };
        }
        *slot
    };
    // Every value a group key can take is interned before the facts are read (the combinations
    // of every segment, every year present), so the number of possible keys is known: when it
    // is small, groups sit in a vector indexed by the key instead of a hash map.
    let seg_combos: Vec<Vec<ComboInfo>> = segments.iter().map(|seg| combos_info(&mut n, seg)).collect();
    if fy_dim || fy_filter {
        let mut present = vec![false; usize::from(u16::MAX) + 1];
        for seg in segments {
            for &y in &seg.year {
                present[usize::from(y)] = true;
            }
        }
        for (y, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            year_comp(&mut n, y as u16);
        }
    }
    let mut groups = Groups::default();
    let mut size: usize = 1;
    for d in &n.dims {
        let card = n.names[*d as usize].len().max(1);
        groups.strides.push((*d as usize, size));
        size = size.saturating_mul(card);
    }
    if size <= dense_limit {
        groups.dense = vec![NONE; size];
    }
    let mut parts: Vec<Decimal> = Vec::new();
    for (seg, combos) in segments.iter().zip(&seg_combos) {
        let mut start = 0usize;
        for (&a, &end) in seg.activities.iter().zip(&seg.ends) {
            let (s, e) = (start, end as usize);
            start = e;
            let c = classes.class_of(a);
            if c == UNKNOWN {
                continue;
            }
            let Some(ci) = cls.get(c as usize) else { continue };
            if !ci.ok {
                continue;
            }
            for i in s..e {
                let Some(co) = combos.get(seg.combo_at(i) as usize) else { continue };
                if !co.ok {
                    continue;
                }
                let y = year_comp(&mut n, seg.year[i]);
                if y == OUT {
                    continue;
                }
                let mut key = co.key;
                for d in [Dimension::ReportingOrg, Dimension::Instrument] {
                    key[d as usize] = ci.key[d as usize];
                }
                key[Dimension::FiscalYear as usize] = y;
                let amount = seg.amount(i);
                if ci.lines.len() == 1 {
                    let (comp, pass) = ci.lines[0];
                    if pass {
                        key[Dimension::LineOfEffort as usize] = comp;
                        groups.add(key, a, co.kind, co.currency, amount);
                    }
                    continue;
                }
                if !equal_split(amount, ci.lines.len(), &mut parts) {
                    parts = allocate(amount, &vec![Decimal::ONE; ci.lines.len()]);
                }
                for (&(comp, pass), &part) in ci.lines.iter().zip(&parts) {
                    if pass {
                        key[Dimension::LineOfEffort as usize] = comp;
                        groups.add(key, a, co.kind, co.currency, part);
                    }
                }
            }
        }
    }
    let row = |n: &Names, key: Vec<String>, acc: Acc| Row {
        key,
        activities: acc.activities,
        usd: acc.usd,
        unconverted: acc
            .other
            .into_iter()
            .map(|(c, t)| (n.currencies[c as usize].clone(), t))
            .collect::<BTreeMap<_, _>>(),
    };
    // The grand total: every group's money (each fact part is in exactly one group), and the
    // activities counted as they came.
    let mut total = Acc { activities: groups.total_activities, ..Acc::default() };
    for acc in &groups.accs {
        total.usd.merge(&acc.usd);
        for (c, t) in &acc.other {
            match total.other.iter_mut().find(|(k, _)| k == c) {
                Some((_, x)) => x.merge(t),
                None => total.other.push((*c, *t)),
            }
        }
    }
    let mut rows: Vec<Row> = groups
        .keys
        .iter()
        .zip(groups.accs)
        .map(|(k, acc)| {
            let key = n
                .dims
                .iter()
                .map(|d| n.names[*d as usize].get(k[*d as usize] as usize).cloned().unwrap_or_default())
                .collect();
            row(&n, key, acc)
        })
        .collect();
    sort_rows(&mut rows);
    let total = row(&n, vec!["TOTAL".into()], total);
    Report { dimensions: n.dims, calendar_year, rows, total }
}

//! Attribution: how a transaction's money is split over countries, sectors and implementing
//! organisations, exactly (parts always add up to the transaction).
//!
//! Rules (see `docs/attribution.md`):
//! - country: a transaction's own `recipient-country` wins (several: equal split); a
//!   transaction `recipient-region` without country is `REGIONAL`; otherwise the activity's
//!   `recipient-country` and `recipient-region` percentages split it (regions go to
//!   `REGIONAL`; percentages under 100 leave the rest to `REGIONAL`; over 100 are scaled down;
//!   missing percentages split equally). No geography at all: `REGIONAL`. An invalid country
//!   code: `UNKNOWN`.
//! - sector (DAC 5-digit, vocabulary 1): the transaction's DAC sectors (equal split), else the
//!   activity's DAC sectors by percentage (percentages under 100 leave the rest to
//!   `(unallocated)`), else `(unspecified)`.
//! - implementing organisation: the transaction's `receiver-org`, else the activity's
//!   `participating-org[@role=4]` (equal split), else `(unspecified)`.

use crate::activity::{Activity, Transaction};
use crate::money::allocate;
use rust_decimal::Decimal;
use std::borrow::Cow;
use time::Date;

/// Label of money attributed to no country.
pub const REGIONAL: &str = "REGIONAL";
/// Label of money whose published country code was invalid.
pub const UNKNOWN: &str = "UNKNOWN";
/// Label of a missing sector or organisation.
pub const UNSPECIFIED: &str = "(unspecified)";
/// Sector label of the money that DAC sector percentages under 100 leave unattributed.
pub const UNALLOCATED: &str = "(unallocated)";

/// At most this many parts (countries x sectors x implementing organisations) one transaction
/// is split into. Real files stay far below it (the U.S. files: at most 66 facts per whole
/// activity); a file naming, say, 150 countries, 300 sectors and 20 implementers on one
/// activity would otherwise turn each transaction into 900,000 facts. Past it, the money is not
/// split over implementing organisations, then not over sectors either (those show as
/// [`NOT_SPLIT`]); countries are always split (at most about 250 codes).
pub const MAX_PARTS_PER_TRANSACTION: usize = 256;

/// The sector or implementing organisation of money that [`MAX_PARTS_PER_TRANSACTION`] kept
/// from being split over them.
pub const NOT_SPLIT: &str = "(not split: too many parts)";

/// Which dimensions some transaction of an activity was not split over (see
/// [`MAX_PARTS_PER_TRANSACTION`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotSplit {
    /// Sectors not split (they show as [`NOT_SPLIT`]).
    pub sector: bool,
    /// Implementing organisations not split.
    pub implementing_org: bool,
}

/// Applies [`MAX_PARTS_PER_TRANSACTION`] to one transaction's weights: which dimensions fall
/// back to [`NOT_SPLIT`].
fn not_split(countries: usize, sectors: usize, implementers: usize) -> NotSplit {
    let max = MAX_PARTS_PER_TRANSACTION;
    let implementing_org = countries.saturating_mul(sectors).saturating_mul(implementers) > max;
    let sector = implementing_org && countries.saturating_mul(sectors) > max;
    NotSplit { sector, implementing_org }
}

/// Which dimensions the money of `a` is not split over because some transaction would have
/// more than [`MAX_PARTS_PER_TRANSACTION`] parts (the reader warns about it). `None` when
/// every transaction is split in full, as in any real file.
pub fn unsplit_dimensions(a: &Activity) -> Option<NotSplit> {
    // A cheap bound first: nearly every activity is far below the limit.
    let act_c = a.recipient_countries.len() + a.recipient_regions.len() + 1;
    let act_s = a.sectors.len().max(1);
    let act_i = a.participating_orgs.len().max(1);
    let tx_c = a.transactions.iter().map(|t| t.recipient_countries.len() + 1).max().unwrap_or(1);
    let tx_s = a.transactions.iter().map(|t| t.sectors.len()).max().unwrap_or(0);
    if act_c.max(tx_c).saturating_mul(act_s.max(tx_s)).saturating_mul(act_i) <= MAX_PARTS_PER_TRANSACTION {
        return None;
    }
    let (act_countries, act_sectors, act_imps) =
        (activity_country_weights_ref(a), activity_sector_weights(a), activity_implementer_weights(a));
    let mut out = NotSplit::default();
    for t in
        a.transactions.iter().filter(|t| REPORTED_TYPES.contains(&t.transaction_type.as_str()) && t.value.is_some())
    {
        let n = not_split(
            country_weights(t, &act_countries).len(),
            sector_weights(t, &act_sectors).len(),
            implementer_weights(t, &act_imps).len(),
        );
        out.sector |= n.sector;
        out.implementing_org |= n.implementing_org;
    }
    (out != NotSplit::default()).then_some(out)
}

/// The transaction types Senda reports: 2 outgoing commitment (U.S. obligation),
/// 3 disbursement, 4 expenditure.
pub const REPORTED_TYPES: &[&str] = &["2", "3", "4"];

/// One slice of a transaction after attribution. Shape: a transaction of 4,500 USD split
/// 60/40 over GT and REGIONAL gives two facts, 2,700 and 1,800.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// Index of the transaction in the activity (document order; after [`compact`], of the first
    /// merged transaction); `None` for a presence row.
    pub transaction_index: Option<usize>,
    /// Transaction type code (`"2"`, `"3"`, `"4"`); `"0"` for a presence row (no money).
    pub transaction_type: String,
    /// `transaction-date`, else `value/@value-date`; for presence rows the activity start date.
    /// After [`compact`], the start of the reporting period instead.
    pub date: Option<Date>,
    /// ISO 4217 currency.
    pub currency: String,
    /// ISO 3166-1 alpha-2, `REGIONAL` or `UNKNOWN`.
    pub country: String,
    /// DAC 5-digit sector code or `(unspecified)`.
    pub sector: String,
    /// Implementing organisation name or `(unspecified)`.
    pub implementing_org: String,
    /// The slice's amount, exact.
    pub amount: Decimal,
}

/// Weighted keys (country, sector or implementing organisation) borrowed from the activity.
type Weights<'a> = Vec<(&'a str, Decimal)>;

/// Weights of one transaction: its own, or (borrowed) the activity's.
type TxWeights<'w, 'a> = Cow<'w, [(&'a str, Decimal)]>;

fn country_weights<'w, 'a>(t: &'a Transaction, activity_level: &'w Weights<'a>) -> TxWeights<'w, 'a> {
    if t.invalid_country || !t.recipient_countries.is_empty() {
        // Equal shares (IATI allows one recipient-country per transaction: several are split
        // equally, with a warning from the reader), each code once; an invalid code's share
        // goes to UNKNOWN, as at activity level.
        let mut w: Weights<'a> = Vec::with_capacity(t.recipient_countries.len() + 1);
        for c in &t.recipient_countries {
            if !w.iter().any(|(k, _)| *k == c.code.as_str()) {
                w.push((c.code.as_str(), Decimal::ONE));
            }
        }
        if t.invalid_country {
            w.push((UNKNOWN, Decimal::ONE));
        }
        return Cow::Owned(w);
    }
    if !t.recipient_regions.is_empty() {
        return Cow::Owned(vec![(REGIONAL, Decimal::ONE)]);
    }
    Cow::Borrowed(activity_level)
}

/// The activity-level country split (percent weights), including `REGIONAL`/`UNKNOWN` shares.
pub fn activity_country_weights(a: &Activity) -> Vec<(String, Decimal)> {
    activity_country_weights_ref(a).into_iter().map(|(k, w)| (k.to_owned(), w)).collect()
}

fn activity_country_weights_ref(a: &Activity) -> Weights<'_> {
    let n_entries = a.recipient_countries.len() + a.recipient_regions.len() + usize::from(a.invalid_country);
    if n_entries == 0 {
        return vec![(REGIONAL, Decimal::ONE)];
    }
    let any_pct = a.recipient_countries.iter().any(|c| c.percentage.is_some())
        || a.recipient_regions.iter().any(|r| r.percentage.is_some());
    let mut out: Weights<'_> = Vec::new();
    let mut add = |k, w: Decimal| {
        if let Some(e) = out.iter_mut().find(|(x, _)| *x == k) {
            e.1 += w;
        } else {
            out.push((k, w));
        }
    };
    if !any_pct {
        let w = Decimal::ONE;
        for c in &a.recipient_countries {
            add(c.code.as_str(), w);
        }
        for _ in &a.recipient_regions {
            add(REGIONAL, w);
        }
        if a.invalid_country {
            add(UNKNOWN, w);
        }
        return out;
    }
    let mut sum = Decimal::ZERO;
    for c in &a.recipient_countries {
        let p = c.percentage.map(|p| p.value()).unwrap_or(Decimal::ZERO);
        sum += p;
        add(c.code.as_str(), p);
    }
    for r in &a.recipient_regions {
        let p = r.percentage.map(|p| p.value()).unwrap_or(Decimal::ZERO);
        sum += p;
        add(REGIONAL, p);
    }
    if sum < Decimal::ONE_HUNDRED {
        let rest = Decimal::ONE_HUNDRED - sum;
        add(if a.invalid_country { UNKNOWN } else { REGIONAL }, rest);
    }
    out.retain(|(_, w)| *w > Decimal::ZERO);
    if out.is_empty() {
        out.push((REGIONAL, Decimal::ONE));
    }
    out
}

fn sector_weights<'w, 'a>(t: &'a Transaction, activity_level: &'w Weights<'a>) -> TxWeights<'w, 'a> {
    if t.sectors.iter().any(|s| s.vocabulary == "1") {
        // Equal shares, each code once.
        let mut w: Weights<'a> = Vec::new();
        for s in t.sectors.iter().filter(|s| s.vocabulary == "1") {
            if !w.iter().any(|(k, _)| *k == s.code.as_str()) {
                w.push((s.code.as_str(), Decimal::ONE));
            }
        }
        return Cow::Owned(w);
    }
    Cow::Borrowed(activity_level)
}

/// The activity's DAC sectors (vocabulary 1) by percentage, else `(unspecified)`.
fn activity_sector_weights(a: &Activity) -> Weights<'_> {
    let act: Vec<_> = a.sectors.iter().filter(|s| s.vocabulary == "1").collect();
    if act.is_empty() {
        return vec![(UNSPECIFIED, Decimal::ONE)];
    }
    let any_pct = act.iter().any(|s| s.percentage.is_some());
    let mut out: Weights<'_> = Vec::new();
    let mut sum = Decimal::ZERO;
    for s in act {
        let w = if any_pct { s.percentage.map(|p| p.value()).unwrap_or(Decimal::ZERO) } else { Decimal::ONE };
        sum += w;
        if let Some(e) = out.iter_mut().find(|(c, _)| *c == s.code) {
            e.1 += w;
        } else {
            out.push((s.code.as_str(), w));
        }
    }
    // Percentages under 100 leave the rest unallocated, as country percentages leave theirs to
    // REGIONAL (never a silent rescale); over 100, shares are scaled down in proportion.
    if any_pct && sum < Decimal::ONE_HUNDRED {
        out.push((UNALLOCATED, Decimal::ONE_HUNDRED - sum));
    }
    out.retain(|(_, w)| *w > Decimal::ZERO);
    if out.is_empty() {
        out.push((UNSPECIFIED, Decimal::ONE));
    }
    out
}

fn implementer_weights<'w, 'a>(t: &'a Transaction, activity_level: &'w Weights<'a>) -> TxWeights<'w, 'a> {
    if let Some(r) = &t.receiver_org {
        let n = r.display_name();
        if !n.is_empty() {
            return Cow::Owned(vec![(n, Decimal::ONE)]);
        }
    }
    Cow::Borrowed(activity_level)
}

/// The activity's implementing organisations (`participating-org[@role=4]`, equal split), else
/// `(unspecified)`.
fn activity_implementer_weights(a: &Activity) -> Weights<'_> {
    let imp = a.implementing_orgs();
    if imp.is_empty() {
        return vec![(UNSPECIFIED, Decimal::ONE)];
    }
    imp.into_iter().map(|n| (n, Decimal::ONE)).collect()
}

/// Splits `amount` over a list of weighted keys (exact; see [`allocate`]).
pub fn split(amount: Decimal, keys: &[(String, Decimal)]) -> impl Iterator<Item = (&str, Decimal)> {
    let weights: Vec<Decimal> = keys.iter().map(|(_, w)| *w).collect();
    keys.iter().map(|(k, _)| k.as_str()).zip(allocate(amount, &weights))
}

/// [`split`] over borrowed keys, calling `f` with each key and its part; one key takes the
/// whole amount without allocating.
fn for_split<'a>(amount: Decimal, keys: &[(&'a str, Decimal)], mut f: impl FnMut(&'a str, Decimal)) {
    if let [(k, _)] = keys {
        return f(k, amount);
    }
    let weights: Vec<Decimal> = keys.iter().map(|(_, w)| *w).collect();
    for ((k, _), part) in keys.iter().zip(allocate(amount, &weights)) {
        f(k, part);
    }
}

/// The activity's start date: actual start (type 2), else planned start (type 1).
pub fn start_date(a: &Activity) -> Option<Date> {
    let by = |t: &str| a.dates.iter().find(|d| d.date_type == t).map(|d| d.date);
    by("2").or_else(|| by("1"))
}

/// All facts of an activity: one or more per reported transaction (commitment, disbursement,
/// expenditure) with a value, plus one zero "presence" fact for each activity-level country
/// that has no money fact, so activities are counted where they work.
pub fn facts(a: &Activity) -> Vec<Fact> {
    let mut out = Vec::new();
    for_each_slice(a, |s| out.push(s.to_fact(s.date)));
    out
}

/// [`compact`]`(`[`facts`]`(a))`, owned: the same facts as [`compact_fact_refs`].
pub fn compact_facts(a: &Activity) -> Vec<Fact> {
    compact_fact_refs(a).iter().map(|f| f.to_fact(f.date)).collect()
}

/// [`compact`]`(`[`facts`]`(a))` with the strings borrowed from the activity: what the import
/// stores, without copying five strings per fact.
///
/// Merged as they are made, so memory grows with the distinct facts (a few per transaction
/// type, period and part), not with the slices: an activity of 200,000 transactions over a few
/// years holds a few hundred facts at a time.
pub fn compact_fact_refs(a: &Activity) -> Vec<FactRef<'_>> {
    let mut out: Vec<FactRef<'_>> = Vec::new();
    let mut merger = Merger::default();
    for_each_slice(a, |mut f| {
        f.date = f.date.map(period_start);
        let t = merger.target((f.transaction_type, f.date, f.currency, f.country, f.sector, f.implementing_org));
        if t == out.len() {
            out.push(f);
        } else if let Some(o) = out.get_mut(t) {
            o.amount += f.amount;
        }
    });
    out
}

/// A [`Fact`] whose strings are borrowed from the activity (the same fields, the same meaning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRef<'a> {
    /// See [`Fact::transaction_index`].
    pub transaction_index: Option<usize>,
    /// See [`Fact::transaction_type`].
    pub transaction_type: &'a str,
    /// See [`Fact::date`].
    pub date: Option<Date>,
    /// See [`Fact::currency`].
    pub currency: &'a str,
    /// See [`Fact::country`].
    pub country: &'a str,
    /// See [`Fact::sector`].
    pub sector: &'a str,
    /// See [`Fact::implementing_org`].
    pub implementing_org: &'a str,
    /// See [`Fact::amount`] (exact).
    pub amount: Decimal,
}

impl FactRef<'_> {
    fn to_fact(&self, date: Option<Date>) -> Fact {
        Fact {
            transaction_index: self.transaction_index,
            transaction_type: self.transaction_type.to_owned(),
            date,
            currency: self.currency.to_owned(),
            country: self.country.to_owned(),
            sector: self.sector.to_owned(),
            implementing_org: self.implementing_org.to_owned(),
            amount: self.amount,
        }
    }
}

/// Calls `emit` with every slice of `a`, in order: each reported transaction split over
/// countries, sectors and implementing organisations, then the zero presence rows.
fn for_each_slice<'a>(a: &'a Activity, mut emit: impl FnMut(FactRef<'a>)) {
    // Countries that got a slice of money (or a zero slice) from some transaction: a handful
    // (at most the ~250 country codes and REGIONAL/UNKNOWN), so a vector beats hashing.
    let mut with_money: Vec<&str> = Vec::new();
    let act_countries = activity_country_weights_ref(a);
    let act_sectors = activity_sector_weights(a);
    let act_imps = activity_implementer_weights(a);
    for (i, t) in a.transactions.iter().enumerate() {
        if !REPORTED_TYPES.contains(&t.transaction_type.as_str()) {
            continue;
        }
        let Some(v) = &t.value else { continue };
        let date = t.date.or(v.value_date);
        let countries = country_weights(t, &act_countries);
        let mut sectors = sector_weights(t, &act_sectors);
        let mut imps = implementer_weights(t, &act_imps);
        let cap = not_split(countries.len(), sectors.len(), imps.len());
        if cap.implementing_org {
            imps = Cow::Owned(vec![(NOT_SPLIT, Decimal::ONE)]);
        }
        if cap.sector {
            sectors = Cow::Owned(vec![(NOT_SPLIT, Decimal::ONE)]);
        }
        for (c, _) in countries.iter() {
            if !with_money.contains(c) {
                with_money.push(c);
            }
        }
        for_split(v.amount, &countries, |c, ca| {
            for_split(ca, &sectors, |s, sa| {
                for_split(sa, &imps, |o, oa| {
                    emit(FactRef {
                        transaction_index: Some(i),
                        transaction_type: &t.transaction_type,
                        date,
                        currency: v.currency.as_str(),
                        country: c,
                        sector: s,
                        implementing_org: o,
                        amount: oa,
                    })
                })
            })
        });
    }
    let start = start_date(a);
    let first_sector = a.sectors.iter().find(|s| s.vocabulary == "1").map(|s| s.code.as_str()).unwrap_or(UNSPECIFIED);
    let first_imp = a.implementing_orgs().first().copied().unwrap_or(UNSPECIFIED);
    let mut named: Vec<&str> = a.recipient_countries.iter().map(|c| c.code.as_str()).collect();
    for t in &a.transactions {
        named.extend(t.recipient_countries.iter().map(|c| c.code.as_str()));
    }
    if a.invalid_country {
        named.push(UNKNOWN);
    }
    if named.is_empty() && with_money.is_empty() {
        named.push(REGIONAL);
    }
    named.sort_unstable();
    named.dedup();
    for c in named {
        if !with_money.contains(&c) {
            emit(FactRef {
                transaction_index: None,
                transaction_type: "0",
                date: start,
                currency: "USD",
                country: c,
                sector: first_sector,
                implementing_org: first_imp,
                amount: Decimal::ZERO,
            });
        }
    }
}

/// The start of the reporting period a date falls in: 1 October for October-December, else
/// 1 January. Both the U.S. fiscal year and the calendar year of the date can be derived from
/// it, which is all the report needs.
pub fn period_start(d: Date) -> Date {
    let month = if d.month() as u8 >= 10 { time::Month::October } else { time::Month::January };
    Date::from_calendar_date(d.year(), month, 1).unwrap_or(d)
}

/// What makes two facts mergeable: type, period, currency, country, sector, implementer.
type FactKey<'a> = (&'a str, Option<Date>, &'a str, &'a str, &'a str, &'a str);

fn fact_key(f: &Fact, period: Option<Date>) -> FactKey<'_> {
    (&f.transaction_type, period, &f.currency, &f.country, &f.sector, &f.implementing_org)
}

/// Merges facts that differ only in their date within one reporting period (see
/// [`period_start`]) and in their transaction: amounts are summed exactly, the date becomes the
/// period start and `transaction_index` the first transaction's. This keeps the fact table, and
/// so every report, small without changing any total. Output order: first occurrence.
pub fn compact(facts: Vec<Fact>) -> Vec<Fact> {
    let periods: Vec<Option<Date>> = facts.iter().map(|f| f.date.map(period_start)).collect();
    let target = merge_targets(facts.iter().zip(&periods).map(|(f, p)| fact_key(f, *p)));
    let mut out: Vec<Fact> = Vec::with_capacity(facts.len());
    for ((mut f, p), t) in facts.into_iter().zip(periods).zip(target) {
        if t == out.len() {
            f.date = p;
            out.push(f);
        } else if let Some(o) = out.get_mut(t) {
            o.amount += f.amount;
        }
    }
    out
}

/// For each fact key, the index of the merged fact it goes to (assigned in order of first
/// occurrence, so a new index is always the next one).
fn merge_targets<'a>(keys: impl Iterator<Item = FactKey<'a>>) -> Vec<usize> {
    let mut merger = Merger::default();
    keys.map(|k| merger.target(k)).collect()
}

/// Assigns fact keys to merged facts, in order of first occurrence (see [`merge_targets`]).
#[derive(Default)]
struct Merger<'a> {
    firsts: Vec<FactKey<'a>>,
    index: std::collections::HashMap<FactKey<'a>, usize>,
}

impl<'a> Merger<'a> {
    /// The merged fact `key` goes to: an earlier one with the same key, else the next index.
    fn target(&mut self, key: FactKey<'a>) -> usize {
        // Most activities have a handful of facts: a linear scan beats hashing them.
        let found = if self.index.is_empty() {
            let hit = self.firsts.iter().position(|k| *k == key);
            if hit.is_none() && self.firsts.len() == 32 {
                self.index = self.firsts.iter().enumerate().map(|(i, k)| (*k, i)).collect();
            }
            hit
        } else {
            self.index.get(&key).copied()
        };
        found.unwrap_or_else(|| {
            let t = self.firsts.len();
            self.firsts.push(key);
            if !self.index.is_empty() {
                self.index.insert(key, t);
            }
            t
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::{RecipientCountry, RecipientRegion, Transaction};
    use crate::codes::{CountryCode, IatiIdentifier, Percentage};
    use crate::money::{CurrencyCode, Money};

    fn tx(amount: &str) -> Transaction {
        Transaction {
            r#ref: None,
            transaction_type: "3".into(),
            date: None,
            value: Some(Money { amount: amount.parse().expect("dec"), currency: CurrencyCode::USD, value_date: None }),
            description: crate::Narratives::new(),
            provider_org: None,
            receiver_org: None,
            recipient_countries: vec![],
            recipient_regions: vec![],
            invalid_country: false,
            sectors: vec![],
            aid_types: vec![],
            humanitarian: None,
        }
    }

    #[test]
    fn compacting_keeps_totals_and_periods() {
        let mut a = Activity::new(IatiIdentifier::parse("A").expect("id"));
        for (amt, date) in [("10.01", "2022-09-30"), ("5", "2022-03-01"), ("7", "2022-10-01"), ("1", "2022-12-31")] {
            let mut t = tx(amt);
            t.date = crate::codes::parse_iso_date(date).ok();
            a.transactions.push(t);
        }
        let c = compact(facts(&a));
        assert_eq!(c.len(), 2, "January-September and October-December of 2022");
        let total: Decimal = c.iter().map(|f| f.amount).sum();
        assert_eq!(total, "23.01".parse::<Decimal>().expect("d"));
        let fy = |f: &Fact| f.date.map(crate::codes::FiscalYear::of);
        assert_eq!(
            c.iter().filter(|f| fy(f) == Some(crate::codes::FiscalYear(2023))).map(|f| f.amount).sum::<Decimal>(),
            Decimal::from(8)
        );
    }

    #[test]
    fn compacting_many_facts_equals_a_plain_sum_per_key() {
        // 300 transactions over 3 years, 2 types and 12 countries (more keys than the linear
        // scan handles: the hashed path runs too), against a BTreeMap sum.
        let mut a = Activity::new(IatiIdentifier::parse("A").expect("id"));
        let countries = ["GT", "HN", "SV", "MX", "CO", "PE", "EC", "BR", "AR", "CL", "BO", "PY"];
        for i in 0..300u32 {
            let mut t = tx(&format!("{}.{:02}", i * 7 % 1000, i % 100));
            t.transaction_type = if (i / 36) % 2 == 0 { "2" } else { "3" }.into();
            t.date = crate::codes::parse_iso_date(&format!("{}-{:02}-15", 2020 + (i / 12) % 3, 1 + i % 12)).ok();
            let code = countries[(i as usize * 5) % countries.len()];
            t.recipient_countries
                .push(RecipientCountry { code: CountryCode::parse(code).expect("c"), percentage: None });
            a.transactions.push(t);
        }
        let all = facts(&a);
        let mut expected: std::collections::BTreeMap<(String, Option<Date>, String), Decimal> = Default::default();
        for f in &all {
            *expected.entry((f.transaction_type.clone(), f.date.map(period_start), f.country.clone())).or_default() +=
                f.amount;
        }
        let c = compact(all);
        assert!(c.len() > 32, "{} merged facts", c.len());
        assert_eq!(c.len(), expected.len());
        for f in &c {
            assert_eq!(
                Some(&f.amount),
                expected.get(&(f.transaction_type.clone(), f.date, f.country.clone())),
                "{f:?}"
            );
        }
        // Order: first occurrence; each merged fact keeps its first transaction's index.
        let firsts: Vec<usize> = c.iter().filter_map(|f| f.transaction_index).collect();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
    }

    #[test]
    fn country_60_region_40_reconciles() {
        let mut a = Activity::new(IatiIdentifier::parse("A").expect("id"));
        a.recipient_countries.push(RecipientCountry {
            code: CountryCode::parse("GT").expect("c"),
            percentage: Percentage::parse("60").ok(),
        });
        a.recipient_regions.push(RecipientRegion {
            code: "389".into(),
            vocabulary: "1".into(),
            percentage: Percentage::parse("40").ok(),
        });
        a.transactions.push(tx("1000.01"));
        let f = facts(&a);
        let gt: Decimal = f.iter().filter(|x| x.country == "GT").map(|x| x.amount).sum();
        let reg: Decimal = f.iter().filter(|x| x.country == REGIONAL).map(|x| x.amount).sum();
        assert_eq!(gt + reg, "1000.01".parse::<Decimal>().expect("d"));
        assert_eq!(gt, "600.01".parse::<Decimal>().expect("d"));
    }

    #[test]
    fn transaction_country_wins_and_invalid_is_unknown() {
        let mut a = Activity::new(IatiIdentifier::parse("A").expect("id"));
        a.recipient_countries.push(RecipientCountry { code: CountryCode::parse("GT").expect("c"), percentage: None });
        let mut t = tx("50");
        t.recipient_countries.push(RecipientCountry { code: CountryCode::parse("HN").expect("c"), percentage: None });
        a.transactions.push(t);
        let mut bad = tx("7");
        bad.invalid_country = true;
        a.transactions.push(bad);
        let f = facts(&a);
        assert!(f.iter().any(|x| x.country == "HN" && x.amount == Decimal::from(50)));
        assert!(f.iter().any(|x| x.country == UNKNOWN && x.amount == Decimal::from(7)));
        // GT is named at activity level but has no money: a presence fact counts it.
        assert!(f.iter().any(|x| x.country == "GT" && x.transaction_type == "0"));
    }
}

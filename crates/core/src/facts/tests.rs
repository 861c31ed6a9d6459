use super::*;
use crate::report::{FactRef, ReportBuilder};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use time::Date;

fn date(s: &str) -> Option<Date> {
    crate::codes::parse_iso_date(s).ok()
}

#[test]
fn a_segment_gives_back_what_was_pushed_with_the_dates_reports_use() {
    let mut b = SegmentBuilder::new();
    for (i, (c, d)) in [("GT", "2023-10-05"), ("HN", "2023-03-01"), ("GT", "")].iter().enumerate() {
        b.push(FactRef {
            activity: 7 + (i as u32 / 2),
            transaction_type: "3",
            date: date(d),
            currency: "USD",
            country: c,
            sector: "15190",
            implementing_org: "IOM",
            amount: Decimal::new(12345 + i as i64, 2),
        });
    }
    b.reporting_org(7, "USAID");
    let seg = b.finish();
    assert_eq!(seg.validate(), Ok(()));
    assert_eq!(seg.activities().collect::<Vec<_>>(), vec![(7, "USAID"), (8, "")], "an organisation not given is empty");
    let mut seen = Vec::new();
    seg.for_each(|f| {
        seen.push((f.activity, f.country.to_owned(), f.date.map(|d| d.to_string()), f.amount.to_string()))
    });
    assert_eq!(
        seen,
        vec![
            (7, "GT".into(), Some("2023-10-01".into()), "123.45".into()),
            (7, "HN".into(), Some("2023-01-01".into()), "123.46".into()),
            (8, "GT".into(), None, "123.47".into())
        ]
    );
    assert_eq!((seg.len(), seg.activity_count()), (3, 2));
    assert_eq!(seg.strings.len(), 8, "3, USD, GT, 15190, IOM, HN, USAID and the empty name: each kept once");
    assert_eq!(seg.combos.len(), 2, "two combinations of the text fields");
}

#[test]
fn facts_pushed_out_of_activity_order_come_back_grouped_in_order() {
    let mut b = SegmentBuilder::new();
    for (a, amt) in [(5u32, 1i64), (3, 2), (5, 3), (4, 4)] {
        b.push(FactRef {
            activity: a,
            transaction_type: "2",
            date: None,
            currency: "USD",
            country: "GT",
            sector: "",
            implementing_org: "",
            amount: Decimal::new(amt, 0),
        });
    }
    let seg = b.finish();
    assert_eq!(seg.validate(), Ok(()));
    let mut seen = Vec::new();
    seg.for_each(|f| seen.push((f.activity, f.amount.to_string())));
    assert_eq!(seen, vec![(3, "2".into()), (4, "4".into()), (5, "1".into()), (5, "3".into())]);
}

#[test]
fn an_amount_too_large_for_an_i64_mantissa_is_kept_exactly() {
    let big: Decimal = "79228162514264337593543950335".parse().expect("max decimal");
    let tiny: Decimal = "0.0000000000000000000000000001".parse().expect("tiny");
    let mut b = SegmentBuilder::new();
    for amount in [big, tiny, -big] {
        b.push(FactRef {
            activity: 1,
            transaction_type: "3",
            date: None,
            currency: "USD",
            country: "GT",
            sector: "",
            implementing_org: "",
            amount,
        });
    }
    let seg = b.finish();
    assert_eq!(seg.validate(), Ok(()));
    let mut seen = Vec::new();
    seg.for_each(|f| seen.push(f.amount));
    assert_eq!(seen, vec![big, tiny, -big]);
}

#[test]
fn a_damaged_segment_is_refused_by_validate_not_read() {
    let mut b = SegmentBuilder::new();
    b.push(FactRef {
        activity: 1,
        transaction_type: "3",
        date: None,
        currency: "USD",
        country: "GT",
        sector: "",
        implementing_org: "",
        amount: Decimal::ONE,
    });
    let good = b.finish();
    let mut s = good.clone();
    s.combo16[0] = 9;
    assert!(s.validate().is_err_and(|e| e.contains("combination")));
    let mut s = good.clone();
    s.year.clear();
    assert!(s.validate().is_err_and(|e| e.contains("lengths")));
    let mut s = good.clone();
    s.combos[0].country = 99;
    assert!(s.validate().is_err_and(|e| e.contains("string index")));
    let mut s = good.clone();
    s.ends[0] = 5;
    assert!(s.validate().is_err_and(|e| e.contains("cover")));
    let mut s = good;
    s.scale[0] = 40;
    assert!(s.validate().is_err_and(|e| e.contains("scale")));
}

/// A fact as the random test makes it: activity, type, date, currency, country, sector,
/// implementing organisation, amount.
type RawFact = (u32, &'static str, Option<Date>, &'static str, &'static str, &'static str, &'static str, Decimal);

/// A small deterministic generator (xorshift), so that a failure is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn the_segment_report_equals_the_report_builder_on_random_data() {
    let mut rng = Rng(0x5e4d_a5e4_da5e_4da5);
    let dims_choices: Vec<Vec<Dimension>> = vec![
        vec![],
        vec![Dimension::LineOfEffort],
        vec![Dimension::LineOfEffort, Dimension::FiscalYear],
        vec![Dimension::LineOfEffort, Dimension::ReportingOrg],
        vec![Dimension::Country],
        vec![Dimension::Country, Dimension::FiscalYear, Dimension::LineOfEffort],
        vec![Dimension::Sector, Dimension::ImplementingOrg],
        vec![Dimension::Instrument, Dimension::FiscalYear],
        Dimension::ALL.to_vec(),
    ];
    let mut with_rows = 0;
    for round in 0..120 {
        let n_acts = 1 + rng.next() % 60;
        let mut infos: HashMap<u32, ActivityInfo> = HashMap::new();
        let mut facts: Vec<RawFact> = Vec::new();
        for k in 0..n_acts {
            // Ids with gaps, across two segments.
            let id = (k as u32) * 3 + if k % 2 == 0 { 0 } else { SEGMENT_SPAN };
            let nl = rng.next() % 4;
            let lines: Vec<String> = (0..nl).map(|_| rng.pick(&["LOE1", "LOE2", "LOE5", "LOE8"]).to_owned()).collect();
            let mut lines_dedup = lines.clone();
            lines_dedup.dedup();
            if !rng.next().is_multiple_of(7) {
                infos.insert(
                    id,
                    ActivityInfo {
                        reporting_org: rng.pick(&["USAID", "State", "Inter-American Foundation"]).to_owned(),
                        lines_of_effort: lines_dedup,
                        instrument: rng.pick(&["foreign_assistance", "diplomacy"]).to_owned(),
                    },
                );
            }
            for _ in 0..rng.next() % 6 {
                let mut m = (rng.next() % 2_000_001) as i64 - 500_000;
                if rng.next().is_multiple_of(10) {
                    // Mantissas beyond 32 bits: the segment keeps them in 64.
                    m *= 10_000_000;
                }
                let amount = Decimal::new(m, (rng.next() % 4) as u32);
                facts.push((
                    id,
                    rng.pick(&["0", "1", "2", "3", "4", "11"]),
                    date(rng.pick(&["2019-01-31", "2019-10-01", "2020-12-31", "2021-06-15", ""])),
                    rng.pick(&["USD", "USD", "EUR", "GTQ"]),
                    rng.pick(&["GT", "HN", "SV", "REGIONAL", "UNKNOWN"]),
                    rng.pick(&["15190", "", "72010"]),
                    rng.pick(&["IOM", "UNHCR", ""]),
                    amount,
                ));
            }
        }
        let to_ref =
            |f: &(u32, &'static str, Option<Date>, &'static str, &'static str, &'static str, &'static str, Decimal)| {
                FactRef {
                    activity: f.0,
                    transaction_type: f.1,
                    date: f.2,
                    currency: f.3,
                    country: f.4,
                    sector: f.5,
                    implementing_org: f.6,
                    amount: f.7,
                }
            };
        let mut segs: BTreeMap<u32, SegmentBuilder> = BTreeMap::new();
        for f in &facts {
            segs.entry(segment_of(f.0)).or_default().push(to_ref(f));
        }
        let table = FactTable::from_segments(segs.into_values().map(|b| Arc::new(b.finish())).collect());
        let classes = ActivityClasses::from(&infos);
        let dims = dims_choices[round % dims_choices.len()].clone();
        let calendar_year = round % 5 == 4;
        let mut filters = Filters::new();
        match round % 6 {
            1 => {
                filters.insert(Dimension::Country, vec!["gt".into(), "HN".into()]);
            }
            2 => {
                filters.insert(Dimension::LineOfEffort, vec!["LOE5".into(), "NOT_MAPPED".into()]);
            }
            3 => {
                filters.insert(Dimension::FiscalYear, vec!["2020".into(), "unknown".into()]);
                filters.insert(Dimension::ReportingOrg, vec!["usaid".into()]);
            }
            4 => {
                filters.insert(Dimension::Sector, vec!["(unspecified)".into()]);
                filters.insert(Dimension::Instrument, vec!["diplomacy".into()]);
            }
            _ => {}
        }
        let mut b = ReportBuilder::new(dims.clone(), calendar_year, filters.clone(), &infos);
        // The builder sees facts in the order the table gives them (activity by activity).
        let mut ordered = facts.clone();
        ordered.sort_by_key(|f| f.0);
        for f in &ordered {
            b.add(to_ref(f));
        }
        let want = b.finish();
        let got = table.report(&classes, dims.clone(), calendar_year, filters.clone());
        // Groups in a hash map (as for reports with very many possible keys): the same report.
        let hashed = kernel::report_with(table.segments(), &classes, dims.clone(), calendar_year, filters.clone(), 0);
        assert_eq!(format!("{hashed:?}"), format!("{got:?}"), "round {round}: groups in a map");
        if got.rows.len() > 1 && got.total.activities > 1 {
            with_rows += 1;
        }
        assert_eq!(
            format!("{got:?}"),
            format!("{want:?}"),
            "round {round}: dims {dims:?}, calendar year {calendar_year}, filters {filters:?}"
        );
    }
    assert!(with_rows > 60, "most rounds compare reports of several rows ({with_rows} of 120)");
}

#[test]
fn activity_classes_are_shared_and_sparse_ids_work() {
    let info = |o: &str| ActivityInfo {
        reporting_org: o.into(),
        lines_of_effort: vec!["LOE1".into()],
        instrument: "x".into(),
    };
    let mut c = ActivityClasses::new();
    c.insert(1, info("A"));
    c.insert(2, info("A"));
    c.insert(4_000_000_000, info("B"));
    c.compact();
    assert_eq!(c.classes().len(), 2);
    assert_eq!(c.get(2).map(|i| i.reporting_org.as_str()), Some("A"));
    assert_eq!(c.get(4_000_000_000).map(|i| i.reporting_org.as_str()), Some("B"));
    assert!(c.get(3).is_none());
    let mut d = ActivityClasses::new();
    for i in 1..100 {
        d.insert(i, info("A"));
    }
    d.compact();
    assert!(!d.dense.is_empty(), "dense ids are kept in a vector");
    assert_eq!(d.get(99).map(|i| i.reporting_org.as_str()), Some("A"));
    assert!(d.get(100).is_none() && d.get(0).is_none());
}

#[test]
fn the_integer_equal_split_equals_allocate_value_and_scale() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for _ in 0..200_000 {
        let m = (rng.next() % 2_000_000_001) as i64 - 1_000_000_000;
        let m = if rng.next().is_multiple_of(3) { m / 1000 } else { m };
        let s = (rng.next() % 7) as u32;
        let n = 2 + (rng.next() % 7) as usize;
        let amount = Decimal::new(m, s);
        let want = crate::money::allocate(amount, &vec![Decimal::ONE; n]);
        let mut got = Vec::new();
        if kernel::equal_split(amount, n, &mut got) {
            checked += 1;
            if format!("{got:?}") != format!("{want:?}") && mismatches.len() < 10 {
                mismatches.push(format!("{amount} / {n}: {got:?} vs allocate {want:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(checked > 150_000, "the fast path covers most amounts ({checked})");
}

//! Property tests of the invariants money depends on: splits never create or lose a cent, and
//! every grouping of a report sums to the same grand total.

use proptest::prelude::*;
use rust_decimal::Decimal;
use senda_core::money::allocate;
use senda_core::report::{ActivityInfo, Dimension, FactRef, Filters, ReportBuilder};
use std::collections::HashMap;

fn amount() -> impl Strategy<Value = Decimal> {
    (-10_000_000_000i64..10_000_000_000i64, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

proptest! {
    #[test]
    fn allocation_parts_add_up_exactly(a in amount(), weights in prop::collection::vec(0u32..1000, 1..8)) {
        let w: Vec<Decimal> = weights.iter().map(|x| Decimal::from(*x)).collect();
        let parts = allocate(a, &w);
        prop_assert_eq!(parts.len(), w.len());
        prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), a);
        if a >= Decimal::ZERO {
            prop_assert!(parts.iter().all(|p| *p >= Decimal::ZERO));
        }
    }

    #[test]
    fn every_grouping_sums_to_the_same_total(
        facts in prop::collection::vec((0u32..5, 2u8..5, 0usize..4, amount(), 2015i32..2026), 1..60),
        mapped in prop::collection::vec(prop::collection::vec(0usize..8, 0..3), 5),
    ) {
        let countries = ["GT", "HN", "SV", "REGIONAL"];
        let mut infos = HashMap::new();
        for (i, m) in mapped.iter().enumerate() {
            let mut lines: Vec<String> = m.iter().map(|l| format!("LOE{}", l + 1)).collect();
            lines.sort();
            lines.dedup();
            infos.insert(i as u32, ActivityInfo { reporting_org: format!("org{}", i % 2), lines_of_effort: lines, instrument: "foreign_assistance".into() });
        }
        let types = ["2", "3", "4"];
        let run = |dims: Vec<Dimension>| {
            let mut b = ReportBuilder::new(dims, false, Filters::new(), &infos);
            for (act, ty, c, amt, year) in &facts {
                let date = time::Date::from_calendar_date(*year, time::Month::November, 3).ok();
                b.add(FactRef { activity: *act, transaction_type: types[(*ty - 2) as usize], date, currency: "USD", country: countries[*c], sector: "", implementing_org: "x", amount: *amt });
            }
            b.finish()
        };
        let base = run(vec![Dimension::Country]);
        for dims in [vec![Dimension::LineOfEffort], vec![Dimension::FiscalYear, Dimension::LineOfEffort], vec![Dimension::ReportingOrg, Dimension::Country, Dimension::LineOfEffort]] {
            let r = run(dims);
            prop_assert_eq!(r.rows_sum().0, base.total.usd);
            prop_assert_eq!(r.total.usd, base.total.usd);
            prop_assert_eq!(r.total.activities, base.total.activities);
        }
    }
}

//! Reports, on every backend and across them: every grouping's rows add up to the same grand
//! total (money is exact and conserved), and both backends give the same reports.

use super::*;
use crate::support::*;
use senda_core::report::Filters;

/// Activities that exercise the splits: several countries and a region, sectors and
/// implementers with percentages, several lines of effort, money in another currency, the
/// largest and smallest amounts allowed, dates in several fiscal years and none.
fn portfolio() -> String {
    let split = activity(
        "XM-REP-SPLIT",
        &format!(
            r#"  <title><narrative>Protection of returned migrants and border management</narrative></title>
  <participating-org role="4" ref="XM-IMPL-1"><narrative>Implementer Uno</narrative></participating-org>
  <participating-org role="4"><narrative>Implementadora Dos</narrative></participating-org>
  <recipient-country code="GT" percentage="33.3"/>
  <recipient-country code="HN" percentage="33.3"/>
  <recipient-country code="SV" percentage="13.4"/>
  <recipient-region code="389" vocabulary="1" percentage="20"/>
  <sector vocabulary="1" code="15130" percentage="70"/>
  <sector vocabulary="1" code="15190" percentage="30"/>
{}
{}
{}
{}"#,
            transaction("2", "2021-10-01", "1000000000000000"),
            transaction("3", "2022-09-30", "333333.333333"),
            transaction("3", "2023-10-01", "0.000001"),
            transaction("4", "2024-02-29", "100.01"),
        ),
    );
    let eur = activity(
        "XM-REP-EUR",
        &format!(
            "  <title><narrative>Coffee value chain</narrative></title>\n  <recipient-country code=\"HN\"/>\n{}\n  <transaction><transaction-type code=\"3\"/><transaction-date iso-date=\"2023-05-05\"/><value currency=\"EUR\">70.5</value></transaction>",
            transaction("3", "2023-05-05", "-1000000000000000")
        ),
    );
    let undated = activity(
        "XM-REP-NODATE",
        "  <title><narrative>Information campaign on the risks of irregular migration</narrative></title>\n  <recipient-country code=\"SV\"/>\n  <transaction><transaction-type code=\"3\"/><value>7</value></transaction>",
    );
    doc("2.03", &(split + &eur + &undated + &rich("XM-REP-RICH", "12345.678901")))
}

/// Every grouping (and the calendar-year variant, and a few filters) reconciles with one grand
/// total; the reports are the same on every backend.
#[test]
fn every_grouping_sums_to_the_same_total_on_every_backend() {
    let dir = data_dir();
    let files = vec![
        write(dir.path(), "portfolio.xml", portfolio()),
        fixture("good.xml"),
        fixture("country_region_split.xml"),
        fixture("invalid_country.xml"),
    ];
    let mut per_backend: Vec<(&str, Vec<String>)> = Vec::new();
    for_each_backend(|b| {
        let mut db = b.db();
        let r = import(&mut *db, &files);
        assert_eq!(r.files_rejected, 0, "{}", dump(&r));
        let mut texts = Vec::new();
        for strategy in ["cmms-2021", "rc-2021"] {
            let total = senda_store::build_report(&*db, strategy, vec![], false, Default::default()).expect("total");
            assert!(!total.total.usd.is_zero(), "the test needs money");
            assert!(!total.total.unconverted.is_empty(), "and money in another currency");
            let mut filtered_totals = Vec::new();
            for calendar_year in [false, true] {
                for dims in groupings() {
                    let rep =
                        senda_store::build_report(&*db, strategy, dims.clone(), calendar_year, Default::default())
                            .expect("report");
                    let what = format!("{strategy} by {dims:?} (calendar year: {calendar_year})");
                    let (sum, other) = rep.rows_sum();
                    assert_eq!(sum, total.total.usd, "{what}: rows add up to the grand total");
                    assert_eq!(other, total.total.unconverted, "{what}: unconverted rows add up too");
                    assert_eq!(rep.total.usd, total.total.usd, "{what}: the same grand total");
                    texts.push(format!("{what}: {rep:?}"));
                }
                // Filtered: each view of the filtered money adds up to the filtered total.
                let filters: Vec<Filters> = vec![
                    [(Dimension::Country, vec!["GT".to_owned(), "REGIONAL".to_owned()])].into_iter().collect(),
                    [(Dimension::FiscalYear, vec!["2022".to_owned(), "2023".to_owned()])].into_iter().collect(),
                    [(Dimension::Sector, vec!["15130".to_owned()])].into_iter().collect(),
                ];
                for f in filters {
                    let base = senda_store::build_report(&*db, strategy, vec![], calendar_year, f.clone()).expect("r");
                    for dims in groupings() {
                        let rep = senda_store::build_report(&*db, strategy, dims.clone(), calendar_year, f.clone())
                            .expect("report");
                        let (sum, _) = rep.rows_sum();
                        assert_eq!(sum, base.total.usd, "{strategy} {f:?} by {dims:?}");
                        texts.push(format!("{strategy} {f:?} by {dims:?}: {rep:?}"));
                    }
                    filtered_totals.push(base.total.usd);
                }
            }
            assert!(filtered_totals.iter().any(|t| *t != total.total.usd), "the filters select part of the money");
        }
        per_backend.push((b.name(), texts));
    });
    let (first, reference) = &per_backend[0];
    for (name, texts) in &per_backend[1..] {
        for (a, b) in reference.iter().zip(texts) {
            assert_eq!(a, b, "{name} differs from {first}");
        }
        assert_eq!(reference.len(), texts.len());
    }
}

/// Moved from `bad_input.rs` (bad-input trial finding 01), where it counted facts with raw
/// SQL: past `MAX_PARTS_PER_TRANSACTION` parts the money is not split over implementing
/// organisations, then sectors; countries always are; nothing is lost.
#[test]
fn a_transaction_split_into_too_many_parts_is_split_by_country_only_with_a_warning() {
    use senda_core::attribution::{MAX_PARTS_PER_TRANSACTION, NOT_SPLIT};
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let countries: Vec<String> =
            senda_core::country_codes::IATI_COUNTRY_CODES.iter().take(150).map(|c| c.to_string()).collect();
        let mut inner = String::from("  <title><narrative>Many parts</narrative></title>\n");
        for c in &countries {
            inner.push_str(&format!("  <recipient-country code=\"{c}\"/>\n"));
        }
        for s in 0..300 {
            inner.push_str(&format!("  <sector vocabulary=\"1\" code=\"{}\"/>\n", 10000 + s));
        }
        for o in 0..20 {
            inner.push_str(&format!(
                "  <participating-org role=\"4\"><narrative>Implementer {o}</narrative></participating-org>\n"
            ));
        }
        inner.push_str(&transaction("3", "2023-11-15", "1000000"));
        inner.push_str(&transaction("3", "2022-03-01", "300"));
        let f = write(dir.path(), "parts.xml", activity_xml("XM-PARTS", &inner));
        let started = std::time::Instant::now();
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(r.created, 1, "{}", dump(&r));
        let w = diags(&r, "split-too-fine");
        assert_eq!(w.len(), 1, "{}", dump(&r));
        assert!(
            w[0].message.contains(&MAX_PARTS_PER_TRANSACTION.to_string()) && w[0].message.contains(NOT_SPLIT),
            "{}",
            w[0]
        );
        assert_located(w[0], &f);
        // 150 countries x 2 periods, not 1.8 million facts.
        assert_eq!(rows_in(&*db, "fact"), 300);
        assert!(started.elapsed().as_secs() < 30, "bounded time: {:?}", started.elapsed());
        // Every dollar is there, split over the countries; sectors and implementers not split.
        let rep = by_country(&*db);
        assert_reconciles(&rep);
        assert_eq!(rep.total.usd.disbursements, dec("1000300"));
        assert_eq!(rep.rows.len(), 150);
        let by_sector = report(&*db, vec![Dimension::Sector]);
        assert_eq!(by_sector.rows.len(), 1, "{:?}", by_sector.rows.iter().map(|r| &r.key).collect::<Vec<_>>());
        assert_eq!(row(&by_sector, NOT_SPLIT).usd.disbursements, dec("1000300"));
    });
}

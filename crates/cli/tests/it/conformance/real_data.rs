//! The real files of `../shared/data/iati/` (read in place, never copied) on every backend:
//! `senda report --by line_of_effort,country,fiscal_year --format csv` is byte-identical, the
//! databases hold the same rows, and the country totals equal an independent computation.

use super::*;
use crate::real_data::{independent_totals, shared};
use rust_decimal::Decimal;
use std::process::{Command, Output};

/// Runs the built `senda` binary on the database at `url`.
fn senda(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(url)
        .args(args)
        .env_remove("SENDA_DB")
        .output()
        .expect("run senda")
}

fn ok(o: Output, what: &str) -> String {
    assert!(o.status.code().is_some_and(|c| c <= 1), "{what}: {:?}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// `senda import` of the whole real-data folder with the binary, then the report and the
/// activity list as CSV, on each backend: the same bytes, and the same rows in every table.
#[test]
fn real_data_reports_are_byte_identical_on_every_backend() {
    let folder = shared();
    let folder_s = folder.to_str().expect("UTF-8 path");
    // Per backend: its name, (command, output) pairs, and what its database holds.
    type Outputs = (&'static str, Vec<(String, String)>, Snapshot);
    let mut outputs: Vec<Outputs> = Vec::new();
    for_each_backend(|b| {
        let database = b.empty_database();
        let url = database.url.clone();
        let o = senda(&url, &["import", "--no-progress", folder_s]);
        // Exit 1: the v1 samples hold activities that are rejected (said, not fatal).
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.code().is_some_and(|c| c <= 1), "import: {:?}\n{stderr}", o.status);
        assert!(stderr.contains("63 files (63 imported"), "{stderr}");
        let mut texts = Vec::new();
        for args in [
            &["report", "--by", "line_of_effort,country,fiscal_year", "--format", "csv"][..],
            &["report", "--by", "line_of_effort,country,fiscal_year", "--format", "csv", "--strategy", "rc-2021"],
            &["report", "--by", "sector,implementing_org", "--format", "csv"],
            &["activities", "--format", "csv"],
            &["activities", "--format", "csv", "--text", "migra"],
        ] {
            let out = ok(senda(&url, args), &args.join(" "));
            assert!(out.lines().count() > 5, "{args:?}: {out}");
            texts.push((args.join(" "), out));
        }
        // A second import changes nothing.
        let again = senda(&url, &["import", "--no-progress", folder_s]);
        let stderr = String::from_utf8_lossy(&again.stderr).into_owned();
        assert!(stderr.contains("0 created, 0 updated"), "{stderr}");
        let store = senda_store::open(&url, OpenMode::Existing).expect("open");
        let mut snap = snapshot(&*store);
        snap.remove("import_run");
        outputs.push((b.name(), texts, snap));
        drop(store);
        drop(database);
    });
    let (first, reference, snap) = &outputs[0];
    for (name, texts, other) in &outputs[1..] {
        for ((what, a), (_, b)) in reference.iter().zip(texts) {
            if a != b {
                let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
                panic!(
                    "`senda {what}` differs between {first} and {name} (first differing line {line:?}):\n{:?}\n{:?}",
                    line.and_then(|l| a.lines().nth(l)),
                    line.and_then(|l| b.lines().nth(l))
                );
            }
        }
        assert_same_database(snap, other, &format!("{first} vs {name}"));
    }
}

/// Moved from `real_data.rs`, now on every backend: the by-country report over
/// `../shared/data/iati/us-gov` equals an independent computation (`independent_totals`,
/// written without Senda's reader, mapping or report code), and every grouping sums to the
/// same grand total.
#[test]
fn country_totals_equal_an_independent_computation() {
    let folder = shared().join("us-gov");
    let files = senda::import::discover(std::slice::from_ref(&folder)).expect("files").files;
    let (expected, splits) = independent_totals(&files);
    let tolerance = Decimal::new(1, 2) * Decimal::from(splits.max(1));
    for_each_backend(|b| {
        let mut db = b.db();
        let report = senda::import::import(&mut *db, std::slice::from_ref(&folder), false, false).expect("import");
        assert_eq!(report.files_rejected, 0);
        let r = senda::commands::build_report(
            &*db,
            "cmms-2021",
            vec![Dimension::Country],
            false,
            &senda::cli::Filters::default(),
        )
        .expect("report");
        let mut countries: Vec<String> = expected.keys().map(|(c, _)| c.clone()).collect();
        countries.dedup();
        for c in &countries {
            let row =
                r.rows.iter().find(|row| &row.key[0] == c).unwrap_or_else(|| panic!("country {c} missing from report"));
            for (ty, got) in [("2", row.usd.commitments), ("3", row.usd.disbursements), ("4", row.usd.expenditures)] {
                let want = expected.get(&(c.clone(), ty.to_owned())).copied().unwrap_or_default();
                assert!((got - want).abs() <= tolerance, "{c} type {ty}: report {got}, independent {want}");
            }
        }
        let want_total: Decimal = expected.iter().filter(|((_, t), _)| t == "3").map(|(_, v)| *v).sum();
        assert!(
            (r.total.usd.disbursements - want_total).abs() <= tolerance,
            "total disbursements {} vs {want_total}",
            r.total.usd.disbursements
        );
        // Every grouping sums to the same grand total.
        for dims in groupings() {
            let v = report_of(&*db, dims.clone());
            let (sum, _) = v.rows_sum();
            assert_eq!(sum, r.total.usd, "grouping {dims:?} does not reconcile");
            assert_eq!(v.total.usd, r.total.usd);
        }
    });
}

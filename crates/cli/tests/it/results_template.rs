//! `senda results template` (issue 21 item 8): a CSV of the strategy's result indicators that
//! a new user fills in and imports without reading the code.

use senda_core::Strategy;
use senda_core::indicator::IndicatorKind;
use std::process::Command;

fn senda(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SENDA_DB")
        .output()
        .expect("run")
}

#[test]
fn the_results_template_lists_every_result_indicator_and_imports_once_filled() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("t.db");
    let file = dir.path().join("results.csv");
    let o = senda(&db, &["results", "template", "--output", file.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).expect("written");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().expect("headers").iter().map(str::to_owned).collect();
    assert_eq!(
        headers,
        [
            "indicator",
            "country",
            "admin1",
            "period",
            "kind",
            "value",
            "denominator",
            "sex",
            "age_group",
            "population_group",
            "note"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    let st = Strategy::builtin("cmms-2021").expect("cmms");
    let results: Vec<&str> =
        st.indicators.iter().filter(|d| d.kind == IndicatorKind::Result).map(|d| d.code.as_str()).collect();
    assert!(!results.is_empty());
    // Every result indicator × focus country × (baseline, target, actual); no context indicator.
    assert_eq!(rows.len(), results.len() * 3 * 3);
    for code in &results {
        assert_eq!(rows.iter().filter(|x| &x[0] == *code).count(), 9, "{code}");
    }
    assert!(rows.iter().all(|x| results.contains(&&x[0]) && !x[10].is_empty()));
    // Not over an existing file without --force.
    let again = senda(&db, &["results", "template", "--output", file.to_str().expect("path")]);
    assert!(!again.status.success());
    // Filled in (period and value) for the first indicator, it imports.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).expect("header");
    for x in rows.iter().filter(|x| &x[0] == results[0]) {
        let mut v: Vec<String> = x.iter().map(str::to_owned).collect();
        v[3] = "FY2024".into();
        v[5] = "120".into();
        w.write_record(&v).expect("row");
    }
    let filled = dir.path().join("filled.csv");
    std::fs::write(&filled, w.into_inner().expect("csv")).expect("write");
    assert!(senda(&db, &["migrate"]).status.success());
    let imp = senda(&db, &["results", "import", filled.to_str().expect("path")]);
    let out = format!("{}{}", String::from_utf8_lossy(&imp.stdout), String::from_utf8_lossy(&imp.stderr));
    assert!(imp.status.success(), "{out}");
    assert!(out.contains("9 new"), "{out}");
}

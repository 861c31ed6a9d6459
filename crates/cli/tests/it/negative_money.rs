//! Negative money on the real files (issue 21): U.S. files hold de-obligations and returned
//! disbursements, and LOE5's net totals are negative. `senda report --gross` shows the gross
//! parts, which add up to the net; the activity filter finds the activities behind them; the
//! pages and the printed report mark the negative totals and say why.

use crate::support::*;
use crate::web::{app, get, runtime};
use rust_decimal::Decimal;
use senda_store::{ActivityFilter, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

fn senda(db: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SENDA_DB")
        .output()
        .expect("run senda");
    assert!(o.status.success(), "senda {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8")
}

fn us_gov() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati/us-gov")
}

#[test]
fn loe5_is_negative_on_the_real_files_and_every_view_says_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("senda.db");
    {
        let mut store = db_in(dir.path(), "senda.db");
        let r = import(&mut store, &[us_gov()]);
        assert_eq!(r.files_rejected, 0, "{}", dump(&r));
        senda::commands::ensure_mappings(&mut store).expect("mappings");
    }
    // --gross: obligations + de-obligations = commitments; gross disbursements + returns =
    // disbursements; on every row and the total, exactly.
    let csv = senda(&path, &["report", "--by", "line_of_effort", "--gross", "--format", "csv"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        header,
        [
            "line_of_effort",
            "activities",
            "obligations_usd",
            "deobligations_usd",
            "commitments_usd",
            "gross_disbursements_usd",
            "returns_usd",
            "disbursements_usd",
            "expenditures_usd"
        ]
    );
    let mut loe5 = None;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let d = |i: usize| dec(f[i]);
        assert_eq!(d(2) + d(3), d(4), "{line}: obligations + de-obligations = commitments");
        assert_eq!(d(5) + d(6), d(7), "{line}: disbursements + returns = net disbursements");
        assert!(d(2) >= Decimal::ZERO && d(3) <= Decimal::ZERO && d(5) >= Decimal::ZERO && d(6) <= Decimal::ZERO);
        if f[0] == "LOE5" {
            loe5 = Some((d(3), d(4), d(6), d(7)));
        }
    }
    let (deob, commitments, returns, disbursements) = loe5.expect("LOE5 row");
    assert!(
        commitments < Decimal::ZERO || disbursements < Decimal::ZERO,
        "LOE5's net is negative on these files (commitments {commitments}, disbursements {disbursements})"
    );
    assert!(deob < Decimal::ZERO || returns < Decimal::ZERO);
    // The net report is unchanged by --gross.
    let net = senda(&path, &["report", "--by", "line_of_effort", "--format", "csv"]);
    let net_loe5 = net.lines().find(|l| l.starts_with("LOE5,")).expect("LOE5");
    assert!(net_loe5.contains(&commitments.to_string()) && net_loe5.contains(&disbursements.to_string()));
    let table = senda(&path, &["report", "--by", "line_of_effort"]);
    assert!(table.contains("Negative amounts are net"), "the terminal table says why:\n{table}");
    // JSON: a `gross` object with the same names.
    let json: serde_json::Value =
        serde_json::from_str(&senda(&path, &["report", "--by", "line_of_effort", "--gross", "--format", "json"]))
            .expect("json");
    assert_eq!(json["total"]["gross"]["commitments_usd"], json["total"]["usd"]["commitments"]);
    // The activities behind it: every listed LOE5 activity has a negative commitment or
    // disbursement, and the CLI and the store filter agree.
    let store = senda_store::SqliteStore::open_existing(&path).expect("open");
    let f = ActivityFilter {
        strategy: "cmms-2021".into(),
        line_of_effort: Some("LOE5".into()),
        negative_money: true,
        ..Default::default()
    };
    let rows = store.list_activities(&f).expect("list");
    assert!(!rows.is_empty(), "LOE5 has activities with de-obligations");
    for r in &rows {
        let a = stored(&store, &r.iati_identifier);
        assert!(
            a.transactions.iter().any(|t| matches!(t.transaction_type.as_str(), "2" | "3")
                && t.value.as_ref().is_some_and(|v| v.amount < Decimal::ZERO)),
            "{} has no negative commitment or disbursement",
            r.iati_identifier
        );
    }
    let all = store.count_activities_matching(&ActivityFilter { negative_money: false, ..f.clone() }).expect("count");
    assert!(all > rows.len() as u64, "the filter narrows the list");
    let cli = senda(&path, &["activities", "--line-of-effort", "LOE5", "--negative-money", "--format", "csv"]);
    assert_eq!(cli.lines().count() - 1, rows.len());
    // Pages: the LOE5 page and the overview mark the negative totals and link to the list.
    let rt = runtime();
    let app = app(&path);
    for (page, link) in [
        ("/loe/LOE5", "/activities?negative_money=true&amp;strategy=cmms-2021&amp;line_of_effort=LOE5"),
        ("/", "/activities?negative_money=true&amp;strategy=cmms-2021"),
    ] {
        for (lang, why) in [("en", "Negative amounts are net"), ("es", "Los importes negativos son netos")] {
            let r = get(&rt, &app, page, &[("cookie", &format!("senda_lang={lang}"))]);
            assert!(r.body.contains("id=\"negative-note\"") && r.body.contains(why), "{page} ({lang}) explains");
            assert!(r.body.contains(link), "{page} ({lang}) links to the activities: {link}");
            assert!(r.body.contains("class=\"neg-mark\""), "{page} marks the negative amounts");
        }
    }
    let list = get(&rt, &app, "/activities?negative_money=true&line_of_effort=LOE5", &[]);
    assert!(list.body.contains(&senda_web::i18n::Locale::EN.int(rows.len() as i64)), "the page lists them");
    let bad = get(&rt, &app, "/activities?negative_money=maybe", &[]);
    assert_eq!(bad.status.as_u16(), 400);
    // The printed report's first page says it too, with LOE5's gross parts.
    let html = senda_web::printable::render_report_html(
        &store,
        &senda_core::Strategy::builtin("cmms-2021").expect("strategy"),
        &senda_web::i18n::Locale::EN,
        &Default::default(),
    )
    .expect("report");
    let cover = &html[..html.find("<section").expect("sections")];
    assert!(cover.contains("class=\"negative-note\""), "page 1 explains negative totals");
    assert!(cover.contains("LOE5: Assist and reintegrate returned persons: obligations"), "with LOE5's gross parts");
    assert!(cover.contains("Not mapped to any line of effort:"), "page 1 says how much is not mapped");
}

//! Statistics and indicator values end to end: `senda stats import` of the real CBP and DHS
//! OHSS files (read from ../shared/data/migration-stats, never copied), results import with bad
//! rows, definition versions, progress, the pages and the API.

use crate::support::*;
use crate::web::{app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use senda::values::{Dataset, import_values};
use senda_core::indicator::{Scope, Status};
use senda_core::{CountryCode, Strategy};
use senda_store::{ObservationFilter, SqliteStore, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) fn stats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/migration-stats")
}

pub(crate) fn cmms() -> Strategy {
    Strategy::builtin("cmms-2021").expect("cmms")
}

pub(crate) fn cc(s: &str) -> CountryCode {
    CountryCode::parse(s).expect("country")
}

/// Independent sum over the southwest border CSV: split each line on commas (the file has no
/// quoted fields, checked below), take column 0 (fiscal year, "2025 (FYTD)" → 2025), column 5
/// (citizenship grouping) and column 8 (count), and add counts per (citizenship, fiscal year).
pub(crate) fn independent_swb_totals() -> BTreeMap<(String, i32), i64> {
    let text = std::fs::read_to_string(stats_dir().join("cbp/sbo-encounters-fy22-fy25-aug.csv")).expect("csv");
    assert!(!text.contains('"'), "the method assumes no quoted fields");
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let fy: i32 = f[0][..4].parse().expect("fy");
        let code = match f[5] {
            "El Salvador" => "SV",
            "Guatemala" => "GT",
            "Honduras" => "HN",
            _ => continue,
        };
        *out.entry((code.to_owned(), fy)).or_insert(0) += f[8].trim().parse::<i64>().expect("count");
    }
    out
}

const RESULTS_CSV: &str = "indicator,country,admin1,period,kind,value,denominator,sex,note
LOE5-1,GT,,FY2021,baseline,100,,,
LOE5-1,GT,,FY2025,target,500,,,
LOE5-1,Guatemala,,FY2023,actual,380,,,reached in two departments
LOE5-1,Atlantis,,FY2023,actual,50,,,
LOE5-1,HN,,FY2023,actual,N/A,,,
LOE5-1,HN,,FY2023,actual,<5,,,
LOE5-1,SV,,FY2023,actual,\"1,234\",,,
LOE9-9,GT,,FY2023,actual,1,,,
LOE5-1,GT,GT-QZ,FY2023,actual,40,,female,
LOE5-1,GT,GT-QZ,FY2023,actual,45,,female,
LOE5-1,GT,,FY2023,actual,1,,unknown,
LOE6-C1,GT,,FY2023,actual,1,,,
LOE5-1,GT,Atlántida,FY2023,actual,9,,,
LOE5-1,HN,Atlántida,FY2023,actual,12,,,
";

#[test]
fn results_import_reports_each_bad_row_and_keeps_the_good_ones() {
    let (dir, mut store) = db();
    let f = write(dir.path(), "results.csv", RESULTS_CSV);
    let r = import_values(&mut store, std::slice::from_ref(&f), &Dataset::Results(&cmms())).expect("import");
    let by_code = |code: &str| r.diagnostics.iter().filter(|d| d.code == code).collect::<Vec<_>>();
    // Unknown country: listed with its row and column, not guessed, not stored.
    let unknown = by_code("unknown-country");
    assert_eq!(unknown.len(), 1);
    assert_eq!((unknown[0].line, unknown[0].column), (5, 2));
    assert!(unknown[0].message.contains("Atlantis") && unknown[0].file.ends_with("results.csv"));
    // N/A and <5: refused with row and column, never 0.
    let bad_numbers: Vec<(u64, u64)> = by_code("invalid-number").iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(bad_numbers, [(6, 6), (7, 6)]);
    assert!(by_code("unknown-indicator").iter().any(|d| d.line == 9 && d.message.contains("LOE9-9")));
    assert!(by_code("context-indicator").iter().any(|d| d.line == 13));
    assert!(by_code("invalid-disaggregation").iter().any(|d| d.line == 12 && d.message.contains("unknown")));
    // A department name of another country: an error with its row and column, not guessed.
    let dept = by_code("unknown-department");
    assert_eq!(dept.len(), 1);
    assert_eq!((dept[0].line, dept[0].column), (14, 3));
    assert!(dept[0].message.contains("Atlántida") && dept[0].message.contains("GT"));
    // The same key twice: the later row kept, with a warning naming both rows.
    let dup = by_code("duplicate-key");
    assert_eq!(dup.len(), 1);
    assert!(dup[0].line == 11 && dup[0].message.contains("row 10"), "{}", dup[0]);
    let stored = store.observations(&ObservationFilter::default()).expect("rows");
    let values: Vec<(String, String, String)> = stored
        .iter()
        .map(|s| (s.observation.place.to_string(), s.observation.period.to_string(), s.observation.value.to_string()))
        .collect();
    assert!(values.contains(&("SV".into(), "FY2023".into(), "1234".into())), "1,234 is 1234: {values:?}");
    assert!(values.contains(&("GT-09".into(), "FY2023".into(), "45".into())), "GT-QZ is GT-09 since 2021: {values:?}");
    // Atlántida is a department of Honduras (HN-AT): found by name within the row's country.
    assert!(values.contains(&("HN-AT".into(), "FY2023".into(), "12".into())), "{values:?}");
    assert!(!values.iter().any(|v| v.0 == "HN"), "refused values are not stored: {values:?}");
    assert_eq!(stored.len(), 6, "{values:?}");

    // Progress for Guatemala: baseline 100, target 500, actual 380 in FY2023 = 70 % of the way;
    // half-way in time (FY2021 end → FY2025 end, FY2023 end) is 50 %: on track.
    let views = senda_store::indicator_views(&store, &cmms(), &Scope::Countries(vec![cc("GT")])).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE5-1").expect("LOE5-1");
    assert_eq!(v.progress.percent_of_target, Some(Decimal::from(70)));
    assert_eq!(v.progress.status, Status::OnTrack);
    assert_eq!(v.version, 1);
}

#[test]
fn hxl_results_skip_blank_rows_and_report_a_bad_attribute_column() {
    let (dir, mut store) = db();
    let text = "\n\nIndicator,Country,Period,Baseline,Target,Women reached,Men reached,Year column\n\
                #indicator+code,#country+code,#date,#indicator+value+baseline,#indicator+value+target,#indicator+value+actual+f,#indicator+value+actual+m,#meta+2020\n\
                LOE7-1,GT,FY2023,,,600,400,x\n\
                \n\
                LOE7-1,HN,FY2023,,,300,200,y\n\
                LOE7-1,GT,FY2021,1000,,,,\n";
    let f = write(dir.path(), "reach.hxl.csv", text);
    let r = import_values(&mut store, std::slice::from_ref(&f), &Dataset::Results(&cmms())).expect("import");
    assert_eq!(r.files_rejected(), 0, "{:?}", r.files);
    assert_eq!(r.files[0].blank_rows, 3, "two before the headers, one inside the data");
    assert!(
        r.diagnostics.iter().any(|d| d.column == 8 && d.message.contains("2020")),
        "the +2020 column is reported: {:?}",
        r.diagnostics
    );
    assert_eq!(r.files[0].inserted, 5, "{:?}", r.diagnostics);
    // The region (SV, GT, HN) total of actuals by sex: 600 + 400 + 300 + 200.
    let views = senda_store::indicator_views(&store, &cmms(), &Scope::Countries(cmms().focus_countries)).expect("v");
    let v = views.iter().find(|v| v.def.code == "LOE7-1").expect("LOE7-1");
    assert_eq!(v.progress.latest_actual.as_ref().and_then(|p| p.value.value()), Some(Decimal::from(1500)));
}

/// A demo-like database: synthetic activities, plus synthetic statistics and results.
pub(crate) fn demo_db() -> (tempfile::TempDir, PathBuf) {
    let (dir, mut store) = db();
    let file = dir.path().join("synthetic.xml");
    senda::generate::write_file(&file, 60, None, 7).expect("generate");
    senda::import::import(&mut store, &[file], false, false).expect("import");
    senda::commands::ensure_mappings(&mut store).expect("mappings");
    let stats = dir.path().join("stats.csv");
    let results = dir.path().join("results.csv");
    senda::generate::write_demo_stats(&stats, 7).expect("stats");
    senda::generate::write_demo_results(&results, &cmms(), 7).expect("results");
    let r = import_values(&mut store, &[stats], &Dataset::Stats).expect("stats import");
    assert!(r.diagnostics.is_empty() && r.files_rejected() == 0, "{:?}", r.diagnostics);
    let r = import_values(&mut store, &[results], &Dataset::Results(&cmms())).expect("results import");
    assert!(r.diagnostics.is_empty() && r.files_rejected() == 0, "{:?}", r.diagnostics);
    let path = dir.path().join("senda.db");
    (dir, path)
}

#[test]
fn country_and_line_of_effort_pages_show_money_indicators_and_encounters_together() {
    let (_dir, db) = demo_db();
    let rt = runtime();
    let app = app(&db);
    for (lang, heading, status) in [("en", "Migration context", "On track"), ("es", "Contexto migratorio", "En camino")]
    {
        let r = get(&rt, &app, &format!("/country/GT?lang={lang}"), &[]);
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(heading), "{lang}: context heading");
        assert!(r.body.contains("LOE6-C1") && r.body.contains("LOE5-1"), "{lang}: indicators");
        assert!(r.body.contains(status), "{lang}: a status word");
        assert!(r.body.contains("chart-country-fy"), "{lang}: the money chart is there too");
        assert!(!r.body.contains('⟦'), "{lang}: missing message");
        let r = get(&rt, &app, &format!("/loe/LOE6?lang={lang}"), &[]);
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("ctx-loe6-loe6-c1"), "{lang}: the LOE6 encounters chart");
        // A time-series chart of the result indicator LOE6-1 (actual and target per period).
        assert!(r.body.contains("id=\"ind-loe6-loe6-1\""), "{lang}: the LOE6-1 progress chart");
        // LOE6-2 is not additive: the three countries together are "not aggregable".
        let na = if lang == "en" { "not aggregable" } else { "no agregable" };
        assert!(r.body.contains(na), "{lang}: not aggregable shown as such");
    }
}

fn post(rt: &tokio::runtime::Runtime, app: &axum::Router, body: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().method("POST").uri("/api/v1/results").header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req.body(Body::from(body.to_owned())).expect("request");
    rt.block_on(async {
        let r = app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    })
}

#[test]
fn api_shows_indicators_and_statistics_and_accepts_results_with_the_token_only() {
    let (_dir, db) = demo_db();
    let rt = runtime();
    let token = "test-token-0123456789";
    let writable = senda_web::router(Arc::new(
        senda_web::AppState::new(db.display().to_string()).expect("state").with_write_token(Some(token.into())),
    ));
    let r = get(&rt, &writable, "/api/v1/indicators?country=GT&line_of_effort=LOE6", &[]);
    assert_eq!(r.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let codes: Vec<&str> = v.as_array().expect("array").iter().filter_map(|x| x["def"]["code"].as_str()).collect();
    assert_eq!(codes, ["LOE6-1", "LOE6-2", "LOE6-C1", "LOE6-C2"]);
    let r = get(&rt, &writable, "/api/v1/statistics", &[]);
    assert!(r.body.contains("cbp-swb-encounters"));
    let r = get(&rt, &writable, "/api/v1/statistics/cbp-swb-encounters?country=HN", &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("\"place\":\"HN\"") && !r.body.contains("\"place\":\"GT\""));
    // Stored values carry their origin (file:row), not a meaningless `"row": 0`.
    assert!(r.body.contains("\"origin\":") && !r.body.contains("\"row\":0"), "{}", &r.body[..r.body.len().min(300)]);
    for bad in ["/api/v1/statistics/nope", "/api/v1/indicators?country=XX", "/api/v1/indicators?line_of_effort=LOE99"] {
        let r = get(&rt, &writable, bad, &[]);
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
        assert!(r.headers["content-type"].to_str().unwrap_or("").contains("problem+json"), "{bad}");
    }

    let body = r#"{"values":[{"indicator":"LOE6-1","place":"GT-QZ","period":"FY2026","kind":"actual","value":"77","disaggregation":{"sex":"female"}}]}"#;
    // No token configured: writes disabled.
    let read_only = app(&db);
    assert_eq!(post(&rt, &read_only, body, Some(token)).0, StatusCode::FORBIDDEN);
    // Wrong or missing token: 401.
    assert_eq!(post(&rt, &writable, body, Some("wrong-token-0123456789")).0, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&rt, &writable, body, None).0, StatusCode::UNAUTHORIZED);
    // Bad value: 400 naming the field, nothing stored.
    let (s, b) = post(&rt, &writable, &body.replace("\"77\"", "\"N/A\""), Some(token));
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("values[0].value"), "{b}");
    let (s, b) = post(&rt, &writable, body, Some(token));
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b.contains("\"inserted\":1"), "{b}");
    let store = SqliteStore::open_existing(&db).expect("open");
    let stored = store
        .observations(&ObservationFilter { series: vec!["LOE6-1".into()], country: Some("GT".into()), kinds: vec![] })
        .expect("rows");
    // GT-QZ is Quetzaltenango's former code: stored under the current one, GT-09.
    assert!(stored.iter().any(|s| s.origin == "api" && s.observation.place.to_string() == "GT-09"));
}

/// Each finding of the bad-input trial on statistics and results (see the issue note) as a test.
#[test]
fn findings_of_the_bad_input_trial_stay_fixed() {
    let (dir, mut store) = db();
    let st = cmms();
    let results = |store: &mut SqliteStore, name: &str, text: &str| {
        let f = write(dir.path(), name, text);
        import_values(store, std::slice::from_ref(&f), &Dataset::Results(&st)).expect("import")
    };
    let h = "indicator,country,admin1,period,kind,value,denominator,sex,age_group,population_group,note\n";

    // 1. Values near Decimal's limit: progress is "not aggregable" or without percent, never a panic.
    let nines = "9999999999999999999999999999";
    let mut text = format!(
        "{h}LOE6-1,GT,,FY2023,baseline,0,,,,,\nLOE6-1,GT,,FY2025,target,1,,,,,\nLOE6-1,HN,,2024-01,actual,{nines},,,,,\n"
    );
    for d in 1..=9 {
        text.push_str(&format!("LOE6-1,GT,GT-{d:02},2024-01,actual,{nines},,,,,\n"));
    }
    text.push_str("LOE3-2,GT,,2024-01,actual,1000000000000000000000000000,1,,,,\n");
    let r = results(&mut store, "huge.csv", &text);
    assert_eq!(r.files[0].inserted, 13, "{:?}", r.diagnostics);
    // Nine departments of 28 nines each do not fit in a Decimal: Guatemala is "not aggregable".
    let views = senda_store::indicator_views(&store, &st, &Scope::Countries(vec![cc("GT")])).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE6-1").expect("LOE6-1");
    assert_eq!(
        v.progress.latest_actual.as_ref().map(|p| &p.value),
        Some(&senda_core::indicator::Combined::NotAggregable)
    );
    // Honduras alone: baseline 0, target 1, actual 28 nines: achieved, the percent does not fit.
    let views = senda_store::indicator_views(&store, &st, &Scope::Countries(vec![cc("HN")])).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE6-1").expect("LOE6-1");
    assert_eq!(v.progress.status, Status::NoTarget, "HN has no target of its own");
    let views = senda_store::indicator_views(&store, &st, &Scope::Countries(vec![cc("GT")])).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE3-2").expect("LOE3-2");
    assert_eq!(
        v.progress.latest_actual.as_ref().map(|p| &p.value),
        Some(&senda_core::indicator::Combined::NotAggregable)
    );
    let rt = runtime();
    let a = app(&dir.path().join("senda.db"));
    for page in ["/loe/LOE6", "/loe/LOE3", "/country/GT", "/report", "/api/v1/indicators?country=HN"] {
        assert_eq!(get(&rt, &a, page, &[]).status, StatusCode::OK, "{page}");
    }

    // 2. A former Guatemalan department code and the department's name are one place.
    let r = results(
        &mut store,
        "depts.csv",
        "indicator,country,admin1,period,kind,value\nLOE6-1,GT,GT-GU,2025-01,actual,10\nLOE6-1,GT,Guatemala,2025-01,actual,30\n",
    );
    assert_eq!(r.files[0].inserted, 1, "{:?}", r.diagnostics);
    assert!(r.diagnostics.iter().any(|d| d.code == "duplicate-key" && d.line == 3), "{:?}", r.diagnostics);
    let gu = senda_stats::countries::admin1_from_name(cc("GT"), "Guatemala").expect("GT-01");
    let views = senda_store::indicator_views(&store, &st, &Scope::Admin1(gu.to_owned())).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE6-1").expect("LOE6-1");
    assert_eq!(v.progress.latest_actual.as_ref().and_then(|p| p.value.value()), Some(Decimal::from(30)));

    // 3. A context series with a total row and its parts: the total wins (100, not 200).
    let f = write(
        dir.path(),
        "visas.csv",
        "#date,#country+code,#indicator+code,#indicator+value,#sex\n2024-05,GT,dos-h2-visas,100,\n2024-05,GT,dos-h2-visas,60,f\n2024-05,GT,dos-h2-visas,40,m\n2024-06,GT,dos-h2-visas,7,f\n2024-06,GT,dos-h2-visas,8,m\n",
    );
    import_values(&mut store, &[f], &Dataset::Stats).expect("stats");
    let views = senda_store::indicator_views(&store, &st, &Scope::Countries(vec![cc("GT")])).expect("views");
    let v = views.iter().find(|v| v.def.code == "LOE4-C1").expect("LOE4-C1");
    let got: Vec<(String, Option<Decimal>)> =
        v.progress.actuals.iter().map(|p| (p.period.to_string(), p.value.value())).collect();
    assert_eq!(got, [("2024-05".into(), Some(Decimal::from(100))), ("2024-06".into(), Some(Decimal::from(15)))]);

    // 4. An unclosed quote: the file is refused (naming the line), nothing stored.
    let r = results(
        &mut store,
        "quote.csv",
        &format!("{h}LOE6-1,GT,,2026-01,actual,1,,,,,\"oops\nLOE6-1,GT,,2026-02,actual,2,,,,,\n"),
    );
    let err = r.files[0].error.as_deref().unwrap_or("");
    assert!(err.contains("quote.csv") && err.contains("line 2") && err.contains("never closed"), "{err}");

    // 5. CRLF line endings: rows are numbered as an editor shows them.
    let r = results(
        &mut store,
        "crlf.csv",
        &format!("{}\r\nLOE6-1,GT,,2026-02,actual,11,,,,,\r\nLOE6-1,GT,,2026-04,actual,N/A,,,,,\r\n", h.trim_end()),
    );
    let bad: Vec<u64> = r.diagnostics.iter().filter(|d| d.code == "invalid-number").map(|d| d.line).collect();
    assert_eq!(bad, [3]);

    // 6. An HXL file with thousands of tagged columns is refused at once.
    let mut wide = String::from("#date,#country+code,#indicator+code,#indicator+value");
    for i in 0..5000 {
        wide.push_str(&format!(",#x_{i}"));
    }
    wide.push_str("\n2024-01,GT,wide,1\n");
    let f = write(dir.path(), "wide.csv", wide);
    let started = std::time::Instant::now();
    let r = import_values(&mut store, &[f], &Dataset::Stats).expect("stats");
    assert!(r.files[0].error.as_deref().is_some_and(|e| e.contains("5004 columns")), "{:?}", r.files[0]);
    assert!(started.elapsed().as_secs() < 10);

    // 8. Unknown departments are refused by the CLI scope, the API and the API's writes.
    assert!(senda::values::scope_of(&st, None, Some("GT-XX")).is_err());
    assert!(senda::values::scope_of(&st, None, Some("GT-AV")).is_ok(), "a former code is known");
    let r = get(&rt, &a, "/api/v1/indicators?department=GT-XX", &[]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let token = "test-token-0123456789";
    let writable = senda_web::router(Arc::new(
        senda_web::AppState::new(dir.path().join("senda.db").display().to_string())
            .expect("state")
            .with_write_token(Some(token.into())),
    ));
    let body = |place: &str, value: &str| {
        format!(
            r#"{{"values":[{{"indicator":"LOE6-1","place":"{place}","period":"FY2026","kind":"actual","value":"{value}"}}]}}"#
        )
    };
    let (s, b) = post(&rt, &writable, &body("GT-XX", "1"), Some(token));
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.contains("values[0].place"), "{b}");
    // 9. The API reads numbers by the files' rule: 1e5 is refused, 1,234 is 1234.
    for bad in ["1e5", "1_000", "+5", ".5"] {
        let (s, b) = post(&rt, &writable, &body("GT", bad), Some(token));
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert!(b.contains("values[0].value"), "{b}");
    }
    let (s, b) = post(&rt, &writable, &body("GT-AV", "1,234"), Some(token));
    assert_eq!(s, StatusCode::OK, "{b}");

    // 10. A repeated value column warns; a semicolon file gets a clear message.
    let r =
        results(&mut store, "dupcol.csv", "indicator,country,period,kind,value,value\nLOE6-1,SV,FY2026,actual,10,99\n");
    assert!(r.diagnostics.iter().any(|d| d.code == "duplicate-column" && d.column == 6), "{:?}", r.diagnostics);
    let r = results(&mut store, "semi.csv", "indicator;country;period;kind;value\nLOE6-1;SV;FY2026;actual;10\n");
    assert!(r.files[0].error.as_deref().is_some_and(|e| e.contains("comma-separated")), "{:?}", r.files[0]);
    let r = results(&mut store, "sex.csv", "indicator,country,period,kind,value,sex\nLOE6-1,SV,FY2026,actual,10,f\n");
    assert!(r.diagnostics.iter().any(|d| d.message.contains("female, male")), "{:?}", r.diagnostics);

    // 11. Exported text cells that a spreadsheet would run as formulas get a leading '.
    let f = write(
        dir.path(),
        "formula.csv",
        "#date,#country+code,#indicator+code,#indicator+value\n2024-01,GT,=HYPERLINK(1),5\n",
    );
    import_values(&mut store, &[f], &Dataset::Stats).expect("stats");
    let mut out = Vec::new();
    let filter = ObservationFilter { series: vec!["=HYPERLINK(1)".into()], ..Default::default() };
    senda::values::cmd_export(&dir.path().join("senda.db").display().to_string(), &filter, false, &mut out)
        .expect("export");
    assert!(
        String::from_utf8_lossy(&out)
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("\"'=HYPERLINK(1)\"") || l.starts_with("'=HYPERLINK(1)")),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

/// Issue 20 item 8 (the rest): a results file follows the API's rules for values (none is
/// negative) and denominators (greater than 0), with the row and column named; the other rows
/// are kept.
#[test]
fn results_files_refuse_negative_values_and_denominators_of_zero_as_the_api_does() {
    let (dir, mut store) = db();
    let text = "indicator,country,admin1,period,kind,value,denominator,sex,note
LOE5-1,GT,,FY2023,actual,-5,,,
LOE5-1,HN,,FY2023,actual,7,,,
LOE3-2,GT,,FY2023,actual,3,0,,
LOE3-2,SV,,FY2023,actual,3,-4,,
LOE3-2,HN,,FY2023,actual,3,10,,
";
    let f = write(dir.path(), "results-signs.csv", text);
    let r = import_values(&mut store, std::slice::from_ref(&f), &Dataset::Results(&cmms())).expect("import");
    let at =
        |code: &str| r.diagnostics.iter().filter(|d| d.code == code).map(|d| (d.line, d.column)).collect::<Vec<_>>();
    assert_eq!(at("negative-value"), [(2, 6)], "{:?}", r.diagnostics);
    assert_eq!(at("invalid-denominator"), [(4, 7), (5, 7)], "{:?}", r.diagnostics);
    let stored = store.observations(&ObservationFilter::default()).expect("rows");
    let places: Vec<String> = stored.iter().map(|s| s.observation.place.to_string()).collect();
    assert_eq!(places.len(), 2, "only the good rows: {places:?}");
    assert!(places.contains(&"HN".to_owned()));
}

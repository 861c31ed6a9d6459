//! The web dashboard and JSON API, driven in-process (tower `oneshot`) over databases built by
//! the real import: pages in both languages, escaping of imported text, problem+json errors,
//! keyset pagination, the CSV download, the strategy switch and the safety headers.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use senda_store::overrides::OverrideStore;
use senda_store::{SqliteStore, Store};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

pub(crate) fn app(db: &Path) -> axum::Router {
    senda_web::router(Arc::new(senda_web::AppState::new(db.display().to_string()).expect("state")))
}

pub(crate) fn get(rt: &tokio::runtime::Runtime, app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::empty()).expect("request");
    rt.block_on(async {
        let r = app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

/// A database with `n` synthetic activities (the demo generator) in a temporary folder.
pub(crate) fn synthetic_db(n: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, mut store) = db();
    let file = dir.path().join("synthetic.xml");
    senda::generate::write_file(&file, n, None, 7).expect("generate");
    senda::import::import(&mut store, &[file], false, false).expect("import");
    senda::commands::ensure_mappings(&mut store).expect("mappings");
    let path = dir.path().join("senda.db");
    (dir, path)
}

fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", &r.body[..r.body.len().min(300)]))
}

#[test]
fn every_page_renders_in_english_and_spanish_with_no_missing_message() {
    let (_dir, db) = synthetic_db(80);
    let rt = runtime();
    let store = SqliteStore::open_existing(&db).expect("open");
    let first = store
        .list_activities(&senda_store::ActivityFilter {
            strategy: STRATEGY.into(),
            limit: Some(1),
            ..Default::default()
        })
        .expect("list")
        .remove(0);
    // Two analyst's decisions on the first activity, one since removed: its page shows them.
    let decide = |lines: &[&str], note: &str, at: &str| senda_store::Override {
        iati_identifier: first.iati_identifier.clone(),
        strategy: STRATEGY.into(),
        lines_of_effort: lines.iter().map(|l| l.to_string()).collect(),
        note: note.into(),
        created_at: at.into(),
    };
    store
        .set_override(
            &senda_store::accounts::Actor::cli(),
            &decide(&["LOE2"], "first reading", "2026-11-01T09:00:00Z"),
            1,
        )
        .expect("set");
    assert!(
        store
            .remove_override(
                &senda_store::accounts::Actor::cli(),
                &first.iati_identifier,
                STRATEGY,
                "",
                "2026-11-02T09:00:00Z",
                1
            )
            .expect("unset")
    );
    store
        .set_override(&senda_store::accounts::Actor::cli(), &decide(&[], "second reading", "2026-11-03T09:00:00Z"), 1)
        .expect("set");
    let app = app(&db);
    let detail = json(&get(&rt, &app, &format!("/api/v1/activities/{}", first.iati_identifier), &[]));
    let actions: Vec<&str> =
        detail["override_history"].as_array().expect("history").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["set", "unset", "set"], "{detail}");
    assert_eq!(detail["lines_of_effort"].as_array().map(Vec::len), Some(0), "the last decision is in force");
    let pages = [
        "/".to_owned(),
        "/loe/LOE5".into(),
        "/country/GT".into(),
        "/activities".into(),
        "/activities?line_of_effort=LOE6&country=HN&fy_from=2020&fy_to=2024&sort=disbursements".into(),
        format!("/activity/{}", first.iati_identifier),
        format!("/organisation?name={}", senda_web::query::enc(&first.reporting_org)),
        "/imports".into(),
        "/imports/1".into(),
    ];
    for (lang, marker) in [("en", "The strategy at a glance"), ("es-GT,es;q=0.9", "La estrategia de un vistazo")] {
        for p in &pages {
            let r = get(&rt, &app, p, &[("accept-language", lang)]);
            assert_eq!(r.status, StatusCode::OK, "{p} ({lang}): {}", &r.body[..r.body.len().min(400)]);
            assert!(!r.body.contains('⟦'), "{p} ({lang}) shows a missing message key");
            let code = &lang[..2];
            assert!(r.body.contains(&format!("<html lang=\"{code}\"")), "{p} is not in {code}");
            assert!(r.body.contains("SYNTHETIC") || r.body.contains("SINTÉTICOS"), "{p}: synthetic banner");
        }
        let home = get(&rt, &app, "/", &[("accept-language", lang)]);
        assert!(home.body.contains(marker), "overview in {lang}");
        let page = get(&rt, &app, &format!("/activity/{}", first.iati_identifier), &[("accept-language", lang)]);
        // The decision in force is stated first; the history (a <details>) follows, oldest first.
        let history = page.body.split_once("class=\"override-history\"").map_or("", |x| x.1);
        let (first_at, second_at) = (history.find("first reading"), history.find("second reading"));
        assert!(matches!((first_at, second_at), (Some(a), Some(b)) if a < b), "history on the page, oldest first");
        let heading = if lang == "en" { "Decisions on this activity" } else { "Decisiones sobre la asignación" };
        assert!(history.contains(heading), "history heading in {lang}");
    }
    // Numbers in the reader's locale: Spanish (CLDR es) groups with dots, English with commas.
    let es = get(&rt, &app, "/activities?lang=es", &[]);
    let en = get(&rt, &app, "/activities?lang=en", &[]);
    assert!(es.body.contains("US$"), "Spanish money format");
    assert!(!en.body.contains("actividades coinciden") && es.body.contains("actividades coinciden"));
    // The switch is remembered in a cookie.
    let cookie = es.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(cookie.starts_with("senda_lang=es"), "{cookie}");
    let again = get(&rt, &app, "/", &[("cookie", "senda_lang=es"), ("accept-language", "en")]);
    assert!(again.body.contains("La estrategia de un vistazo"), "cookie wins over Accept-Language");
}

#[test]
fn script_like_text_from_imported_data_is_shown_as_text_and_never_runs() {
    let (dir, mut store) = db();
    let evil = "&lt;script&gt;alert('x')&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
    let inner = format!(
        "<title><narrative>Returnee reintegration {evil}</narrative></title>\n<description><narrative>{evil}</narrative></description>\n<participating-org role=\"4\"><narrative>Org {evil}</narrative></participating-org>\n<recipient-country code=\"GT\"/>\n{}",
        transaction("3", "2023-01-15", "1000")
    );
    let f = write(dir.path(), "evil.xml", activity_xml("XM-TEST-EVIL", &inner));
    senda::import::import(&mut store, &[f], false, false).expect("import");
    drop(store);
    let rt = runtime();
    let app = app(&dir.path().join("senda.db"));
    for uri in ["/activity/XM-TEST-EVIL", "/activities?q=reintegration", "/activities?lang=es", "/loe/LOE5"] {
        let r = get(&rt, &app, uri, &[]);
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(!r.body.contains("<script"), "{uri}: a script element reached the page");
        assert!(!r.body.contains("<img src=x"), "{uri}: an img element reached the page");
        let csp = r.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(csp.contains("script-src 'none'") && csp.contains("default-src 'none'"), "{uri}: CSP {csp}");
        assert_eq!(r.headers.get(header::X_CONTENT_TYPE_OPTIONS).and_then(|v| v.to_str().ok()), Some("nosniff"));
    }
    let page = get(&rt, &app, "/activity/XM-TEST-EVIL", &[]);
    assert!(page.body.contains("&lt;script&gt;alert('x')&lt;/script&gt;"), "shown as text");
}

/// Issue 20 item 9: the activity page lists what Senda keeps without modelling it (element,
/// parent path, attributes, text), and says how many more there are beyond the first 500, with
/// the JSON that holds them all.
#[test]
fn the_activity_page_shows_kept_elements_and_counts_those_beyond_the_table() {
    let (dir, mut store) = db();
    let links: String = (0..600).map(|i| format!("<other-identifier ref=\"XM-OTHER-{i}\" type=\"B1\"/>")).collect();
    let inner = format!(
        "<title><narrative>Kept</narrative></title><contact-info type=\"1\"><email>contact@example.org</email></contact-info>{links}"
    );
    let f = write(dir.path(), "kept.xml", activity_xml("XM-TEST-KEPT", &inner));
    senda::import::import(&mut store, &[f], false, false).expect("import");
    drop(store);
    let rt = runtime();
    let app = app(&dir.path().join("senda.db"));
    let page = get(&rt, &app, "/activity/XM-TEST-KEPT", &[]);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("contact@example.org"), "the e-mail of contact-info is shown");
    assert!(page.body.contains("iati-activity/contact-info"), "with its parent path");
    // contact-info, its email and 600 other-identifiers: 602 kept, 500 in the table.
    assert!(
        page.body.contains("… 102 · <a href=\"/api/v1/activities/XM-TEST-KEPT\">JSON</a>"),
        "{}",
        &page.body[page.body.len().saturating_sub(2000)..]
    );
    let api = get(&rt, &app, "/api/v1/activities/XM-TEST-KEPT", &[]);
    let v: serde_json::Value = serde_json::from_str(&api.body).expect("JSON");
    let kept =
        v.pointer("/activity/extensions").or_else(|| v.get("extensions")).and_then(|e| e.as_array()).map(Vec::len);
    assert_eq!(kept, Some(602), "the API returns every kept element");
}

#[test]
fn api_errors_are_problem_json_naming_the_parameter_without_internals() {
    let (_dir, db) = synthetic_db(20);
    let rt = runtime();
    let app = app(&db);
    let cases = [
        ("/api/v1/activities?country=Guatemala", StatusCode::BAD_REQUEST, "country:"),
        ("/api/v1/activities?line_of_effort=LOE9", StatusCode::BAD_REQUEST, "line_of_effort:"),
        ("/api/v1/activities?limit=1001", StatusCode::BAD_REQUEST, "limit:"),
        ("/api/v1/activities?cursor=zz", StatusCode::BAD_REQUEST, "cursor:"),
        ("/api/v1/activities?sort=random", StatusCode::BAD_REQUEST, "sort:"),
        ("/api/v1/activities?fiscal_year=2024..2020", StatusCode::BAD_REQUEST, "fiscal_year:"),
        ("/api/v1/report?by=planet", StatusCode::BAD_REQUEST, "by:"),
        ("/api/v1/activities/XM-NOT-THERE", StatusCode::NOT_FOUND, "not found"),
        ("/api/v1/strategies/nope", StatusCode::NOT_FOUND, "not found"),
        ("/api/v1/imports/abc", StatusCode::BAD_REQUEST, "id:"),
        ("/api/v1/nothing-here", StatusCode::NOT_FOUND, "not found"),
    ];
    for (uri, status, detail) in cases {
        let r = get(&rt, &app, uri, &[]);
        assert_eq!(r.status, status, "{uri}: {}", r.body);
        let ct = r.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json", "{uri}");
        let v = json(&r);
        assert_eq!(v["status"].as_u64(), Some(u64::from(status.as_u16())), "{uri}");
        assert!(v["detail"].as_str().unwrap_or("").starts_with(detail), "{uri}: {}", v["detail"]);
        for leak in ["SELECT", "sqlite", "panicked", ".rs:"] {
            assert!(!r.body.contains(leak), "{uri} leaks {leak}: {}", r.body);
        }
    }
    // Pages answer bad input with a page, not a stack trace.
    let r = get(&rt, &app, "/activities?country=Narnia", &[]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("country:") && !r.body.contains("SELECT"));
    assert_eq!(get(&rt, &app, "/country/XX", &[]).status, StatusCode::NOT_FOUND);
    assert_eq!(get(&rt, &app, "/loe/LOE42", &[]).status, StatusCode::NOT_FOUND);
    assert_eq!(get(&rt, &app, "/no/such/page", &[]).status, StatusCode::NOT_FOUND);
}

#[test]
fn keyset_pages_visit_every_matching_activity_exactly_once_in_every_order() {
    let (_dir, db) = synthetic_db(90);
    let rt = runtime();
    let app = app(&db);
    for filter in ["", "&country=GT", "&line_of_effort=NOT_MAPPED"] {
        for sort in ["identifier", "title", "start_date", "disbursements", "commitments"] {
            let mut seen: Vec<String> = Vec::new();
            let mut cursor = String::new();
            let mut total = 0;
            for _ in 0..100 {
                let r = get(&rt, &app, &format!("/api/v1/activities?limit=7&sort={sort}{filter}{cursor}"), &[]);
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                let v = json(&r);
                total = v["total"].as_u64().expect("total");
                for it in v["items"].as_array().expect("items") {
                    seen.push(it["iati_identifier"].as_str().expect("id").to_owned());
                }
                match v["next_cursor"].as_str() {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => break,
                }
            }
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{sort}{filter}: a row came twice");
            assert_eq!(seen.len() as u64, total, "{sort}{filter}: pages do not add up to the total");
            assert!(total > 0, "{filter}: the test needs matching rows");
        }
    }
}

#[test]
fn a_cursor_without_a_row_id_still_places_the_next_page() {
    // Cursors from another generation of the data (or written by hand) carry no row id: the
    // keyset query places them instead of the cached id list; the page must be the same.
    let (_dir, db) = synthetic_db(40);
    let rt = runtime();
    let app = app(&db);
    for sort in ["identifier", "disbursements", "title"] {
        let first = json(&get(&rt, &app, &format!("/api/v1/activities?limit=5&sort={sort}"), &[]));
        let c = first["next_cursor"].as_str().expect("cursor");
        let mut cur = senda_web::query::decode_cursor(c).expect("decode");
        let with_id = json(&get(&rt, &app, &format!("/api/v1/activities?limit=5&sort={sort}&cursor={c}"), &[]));
        cur.db_id = None;
        let plain = senda_web::query::encode_cursor(&cur);
        let without = json(&get(&rt, &app, &format!("/api/v1/activities?limit=5&sort={sort}&cursor={plain}"), &[]));
        assert_eq!(with_id["items"], without["items"], "{sort}");
        assert_eq!(with_id["items"].as_array().map(Vec::len), Some(5));
    }
}

#[test]
fn csv_download_holds_every_row_of_the_current_view() {
    let (_dir, db) = synthetic_db(60);
    let rt = runtime();
    let app = app(&db);
    let api = json(&get(&rt, &app, "/api/v1/activities?country=HN&limit=1", &[]));
    let r = get(&rt, &app, "/activities.csv?country=HN", &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::CONTENT_DISPOSITION).is_some());
    let mut rd = csv::Reader::from_reader(r.body.as_bytes());
    assert_eq!(rd.headers().expect("header").iter().collect::<Vec<_>>(), senda_web::api::CSV_COLUMNS.to_vec());
    let rows: Vec<csv::StringRecord> = rd.records().collect::<Result<_, _>>().expect("csv");
    assert_eq!(rows.len() as u64, api["total"].as_u64().expect("total"));
    assert!(rows.iter().all(|r| r[3].split(';').any(|c| c == "HN")), "every row is in Honduras");
}

#[test]
fn strategy_switch_rereads_pages_and_reports_agree_with_each_other() {
    let (_dir, db) = synthetic_db(60);
    let rt = runtime();
    let app = app(&db);
    let rc = get(&rt, &app, "/?strategy=rc-2021", &[]);
    assert_eq!(rc.status, StatusCode::OK);
    assert!(rc.body.contains("RC1"), "root-causes lines of effort shown");
    let cookie = rc.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(cookie.starts_with("senda_strategy=rc-2021"), "{cookie}");
    let next = get(&rt, &app, "/activities", &[("cookie", "senda_strategy=rc-2021")]);
    assert!(next.body.contains("RC1"), "the next page follows the switch");
    assert_eq!(get(&rt, &app, "/?strategy=nope", &[]).status, StatusCode::NOT_FOUND);
    // Every grouping of the same filters has the same grand total.
    let totals: Vec<String> = ["line_of_effort", "country", "fiscal_year", "line_of_effort,country"]
        .iter()
        .map(|by| {
            json(&get(&rt, &app, &format!("/api/v1/report?by={by}"), &[]))["total"]["usd"]["disbursements"].to_string()
        })
        .collect();
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "{totals:?}");
    // The API report equals the CLI's for the same question.
    let store = SqliteStore::open_existing(&db).expect("open");
    let cli = senda_store::build_report(
        &store,
        STRATEGY,
        vec![senda_core::report::Dimension::Country],
        false,
        Default::default(),
    )
    .expect("report");
    let api = json(&get(&rt, &app, "/api/v1/report?by=country", &[]));
    assert_eq!(api["total"]["usd"]["disbursements"].as_str(), Some(cli.total.usd.disbursements.to_string().as_str()));
    // The server reports from facts held in memory; the CLI streams them from SQLite. Every
    // row must be the same, for groupings and filters of every kind.
    use senda_core::report::Dimension as D;
    let cases: Vec<(&str, Vec<D>, senda_core::report::Filters)> = vec![
        ("line_of_effort,fiscal_year", vec![D::LineOfEffort, D::FiscalYear], Default::default()),
        (
            "sector,implementing_org&country=GT",
            vec![D::Sector, D::ImplementingOrg],
            [(D::Country, vec!["GT".to_owned()])].into_iter().collect(),
        ),
        (
            "reporting_org&line_of_effort=LOE5&fiscal_year=2021..2024",
            vec![D::ReportingOrg],
            [
                (D::LineOfEffort, vec!["LOE5".to_owned()]),
                (D::FiscalYear, (2021..=2024).map(|y| y.to_string()).collect()),
            ]
            .into_iter()
            .collect(),
        ),
    ];
    for (q, dims, filters) in cases {
        let cli = senda_store::build_report(&store, STRATEGY, dims, false, filters).expect("report");
        let api = json(&get(&rt, &app, &format!("/api/v1/report?by={q}"), &[]));
        let rows = api["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), cli.rows.len(), "{q}");
        assert!(!rows.is_empty(), "{q}: the comparison needs rows");
        for (a, c) in rows.iter().zip(&cli.rows) {
            let key: Vec<&str> = a["key"].as_array().expect("key").iter().filter_map(|k| k.as_str()).collect();
            assert_eq!(key, c.key.iter().map(String::as_str).collect::<Vec<_>>(), "{q}");
            assert_eq!(a["activities"].as_u64(), Some(c.activities), "{q} {key:?}");
            assert_eq!(
                a["usd"]["disbursements"].as_str(),
                Some(c.usd.disbursements.to_string().as_str()),
                "{q} {key:?}"
            );
            assert_eq!(a["usd"]["commitments"].as_str(), Some(c.usd.commitments.to_string().as_str()), "{q} {key:?}");
        }
    }
}

#[test]
fn request_limits_and_unknown_routes() {
    let (_dir, db) = synthetic_db(5);
    let rt = runtime();
    let app = app(&db);
    let big = vec![b'x'; senda_web::MAX_BODY + 1];
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/activities")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .expect("req");
    let status = rt.block_on(async { app.clone().oneshot(req).await.expect("response").status() });
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let spec = json(&get(&rt, &app, "/api/v1/openapi.json", &[]));
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
}

#[test]
fn findings_of_the_bad_input_trial_stay_fixed() {
    let (dir, mut store) = db();
    let inner = format!(
        "<title><narrative>=HYPERLINK(\"http://evil\",\"x\") border_camp 100%</narrative></title>\n{}\n{}",
        transaction("3", "2023-01-15", "1000"),
        transaction("2", "2022-11-15", "5000")
    );
    // No recipient country: the money is REGIONAL.
    let f = write(dir.path(), "odd.xml", activity_xml("XM-TEST-ODD", &inner));
    senda::import::import(&mut store, &[f], false, false).expect("import");
    drop(store);
    let rt = runtime();
    let app = app(&dir.path().join("senda.db"));
    // REGIONAL (money to no country) filters activity lists as it filters reports.
    let v = json(&get(&rt, &app, "/api/v1/activities?country=REGIONAL", &[]));
    assert_eq!(v["total"].as_u64(), Some(1), "{v}");
    // Words are literal: % and _ are not wildcards.
    assert_eq!(json(&get(&rt, &app, "/api/v1/activities?q=_camp", &[]))["total"].as_u64(), Some(1));
    assert_eq!(json(&get(&rt, &app, "/api/v1/activities?q=x_y", &[]))["total"].as_u64(), Some(0));
    assert_eq!(json(&get(&rt, &app, "/api/v1/activities?q=%25%25", &[]))["total"].as_u64(), Some(0));
    // CSV cells that a spreadsheet would run are neutralised.
    let csv = get(&rt, &app, "/activities.csv", &[]).body;
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    // The API's activity: ISO dates, transactions, no server folders.
    let d = json(&get(&rt, &app, "/api/v1/activities/XM-TEST-ODD", &[]));
    assert_eq!(d["transactions"].as_array().map(Vec::len), Some(2), "{d}");
    assert_eq!(d["transactions"][0]["date"].as_str(), Some("2023-01-15"));
    assert_eq!(d["source_file"].as_str(), Some("odd.xml"));
    // axum's own rejections come out as problem+json (API) or a page (pages).
    for (uri, status) in [
        ("/api/v1/activities?limit=1&limit=2", StatusCode::BAD_REQUEST),
        ("/api/v1/report?by=country&calendar_year=yes", StatusCode::BAD_REQUEST),
    ] {
        let r = get(&rt, &app, uri, &[]);
        assert_eq!(r.status, status, "{uri}");
        assert_eq!(r.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    }
    let post = rt.block_on(async {
        let req = Request::builder().method("DELETE").uri("/api/v1/activities").body(Body::empty()).expect("req");
        app.clone().oneshot(req).await.expect("response")
    });
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        post.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert!(post.headers().get(header::ALLOW).is_some());
    let r = get(&rt, &app, "/activity/%C3%28", &[]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("text/html"));
    // A bad year on the country page is a bad request, not "no such country".
    assert_eq!(get(&rt, &app, "/country/GT?fy_from=abc", &[]).status, StatusCode::BAD_REQUEST);
    // The strategy switch on a line-of-effort page goes to the overview (LoE ids differ).
    let loe = get(&rt, &app, "/loe/LOE5", &[]).body;
    assert!(loe.contains("<form class=\"switch\" method=\"get\" action=\"/\">"), "switch form");
    // A run's page and API answer list its diagnostics (kept in their own table).
    let (dir2, mut store2) = db();
    let bad = activity_xml("XM-TEST-BADDATE", "<activity-date type=\"2\" iso-date=\"2023-13-45\"/>");
    let f2 = write(dir2.path(), "bad-date.xml", bad);
    senda::import::import(&mut store2, &[f2], false, false).expect("import");
    drop(store2);
    let app2 = senda_web::router(Arc::new(
        senda_web::AppState::new(dir2.path().join("senda.db").display().to_string()).expect("state"),
    ));
    let run = json(&get(&rt, &app2, "/api/v1/imports/1", &[]));
    let diags = run["report"]["diagnostics"].as_array().expect("diagnostics");
    assert!(!diags.is_empty(), "{run}");
    assert!(diags.iter().any(|d| d["message"].as_str().unwrap_or("").contains("2023-13-45")), "{diags:?}");
    let page = get(&rt, &app2, "/imports/1", &[]).body;
    assert!(page.contains("2023-13-45"), "the run page shows the diagnostic");
    // Long cursors are not echoed back whole.
    let long = "ab".repeat(3000);
    let r = get(&rt, &app, &format!("/api/v1/activities?cursor={long}"), &[]);
    assert!(r.body.len() < 600, "{}", r.body.len());
}

#[test]
fn a_server_stores_the_fact_segments_it_had_to_build_and_its_figures_equal_the_facts() {
    let (_dir, path) = synthetic_db(40);
    // A file removed without the refresh a command runs after it: its segment is stale.
    let mut store = SqliteStore::open(&path).expect("open");
    let file = store.imported_files().expect("files").into_iter().next().expect("one file");
    let before = senda_store::build_report(
        &store,
        STRATEGY,
        vec![senda_core::report::Dimension::LineOfEffort],
        false,
        Default::default(),
    )
    .expect("report");
    assert!(before.total.activities > 0);
    store.remove_file(&file).expect("remove");
    assert!(store.fact_segment_states().expect("states").iter().any(|s| s.stale), "a stale segment");
    drop(store);
    let rt = runtime();
    let app = app(&path);
    let r = get(&rt, &app, "/api/v1/report?by=line_of_effort", &[]);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json(&r)["total"]["activities"], 0, "the server's report equals the facts: nothing left");
    // The server stores the segment it built, in the background, within a few seconds.
    let store = SqliteStore::open(&path).expect("open");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.fact_segment_states().expect("states").iter().any(|s| s.stale) {
        assert!(std::time::Instant::now() < deadline, "the stale segment was not stored within 10 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Issue 21 item 4: the dashboard's and the API's organisation filters read what people type
/// as the CLI does (identifier, name in any case or accents, acronym); an unknown organisation
/// is a 400 naming the parameter with suggestions, on pages in the reader's language.
#[test]
fn organisation_filters_take_identifiers_names_and_acronyms_like_the_cli() {
    let (_dir, db) = synthetic_db(60);
    let rt = runtime();
    let app = app(&db);
    let total = |q: &str| {
        let r = get(&rt, &app, &format!("/api/v1/activities?limit=1&{q}"), &[]);
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        json(&r)["total"].as_u64().expect("total")
    };
    let usaid = total("reporting_org=US-GOV-1");
    assert!(usaid > 0 && usaid < total(""), "{usaid}");
    assert_eq!(total("reporting_org=USAID"), usaid);
    assert_eq!(total("reporting_org=u.s.a.i.d."), usaid);
    assert_eq!(total("reporting_org=u.s.%20agency%20for%20international%20DEVELOPMENT%20(synthetic)"), usaid);
    // Reports: the same money by identifier, acronym and name.
    let report = |q: &str| {
        let r = get(&rt, &app, &format!("/api/v1/report?by=country&{q}"), &[]);
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        json(&r)["total"].clone()
    };
    let by_ref = report("reporting_org=US-GOV-1");
    assert_ne!(by_ref, report(""), "the filter filters");
    assert_eq!(report("reporting_org=usaid"), by_ref);
    assert_eq!(report("reporting_org=U.S.%20Agency%20for%20International%20Development%20(synthetic)"), by_ref);
    // Implementers: a name without its accents and in another case; an acronym.
    let fundacion = total("implementing_org=FUNDACION%20comunitaria%20(synthetic)");
    assert!(fundacion > 0);
    assert_eq!(total("implementing_org=Fundaci%C3%B3n%20Comunitaria%20(synthetic)"), fundacion);
    let imp = report("implementing_org=fundacion%20COMUNITARIA%20(synthetic)");
    assert_eq!(imp, report("implementing_org=Fundaci%C3%B3n%20Comunitaria%20(synthetic)"));
    assert_ne!(imp, report(""));
    // A known acronym without data here matches nothing, without error; pages say why.
    assert_eq!(total("reporting_org=MCC"), 0);
    for (lang, want) in [
        ("en", "Reporting organisation: MCC = US-GOV-18 has no activities in this database, so nothing matches."),
        (
            "es",
            "Organización informante: MCC = US-GOV-18 no tiene actividades en esta base de datos, así que nada coincide.",
        ),
    ] {
        for path in ["/activities", "/", "/country/GT", "/loe/LOE2"] {
            let r = get(&rt, &app, &format!("{path}?reporting_org=MCC"), &[("accept-language", lang)]);
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert!(r.body.contains(want), "{path} {lang}");
        }
    }
    // Unknown: a 400 problem+json naming the parameter, with suggestions.
    let r = get(&rt, &app, "/api/v1/report?by=country&reporting_org=Departmnt%20of%20State%20(synthetic)", &[]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    let detail = json(&r)["detail"].as_str().unwrap_or("").to_owned();
    assert!(detail.starts_with("reporting_org: unknown organisation \"Departmnt of State (synthetic)\""), "{detail}");
    assert!(detail.contains("did you mean Department of State (synthetic) (US-GOV-11, STATE)"), "{detail}");
    let r = get(&rt, &app, "/api/v1/activities?implementing_org=Local%20Partner%20Netwrk%20(synthetic)", &[]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let detail = json(&r)["detail"].as_str().unwrap_or("").to_owned();
    assert!(detail.starts_with("implementing_org: unknown organisation"), "{detail}");
    assert!(detail.contains("Local Partner Network (synthetic)"), "{detail}");
    // Pages: the filtered list works by acronym, and an unknown organisation is said in the
    // reader's language.
    let page = get(&rt, &app, "/activities?reporting_org=USAID", &[]);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("U.S. Agency for International Development (synthetic)"));
    assert!(!page.body.contains("Department of State (synthetic)"));
    for (lang, want) in [
        ("en", ["Reporting organisation: no organisation of the data is called", "Did you mean: Department of State"]),
        (
            "es",
            [
                "Organización informante: ninguna organización de los datos se llama",
                "¿Quiso decir: Department of State",
            ],
        ),
    ] {
        for path in ["/activities", "/", "/country/GT"] {
            let r = get(
                &rt,
                &app,
                &format!("{path}?reporting_org=Departmnt%20of%20State%20(synthetic)"),
                &[("accept-language", lang)],
            );
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path} {lang}");
            for w in want {
                assert!(r.body.contains(w), "{path} {lang}: {w}\n{}", r.body);
            }
        }
        let r = get(&rt, &app, "/activities?implementing_org=zzzzzz", &[("accept-language", lang)]);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains(if lang == "es" { "p. ej. USAID" } else { "e.g. USAID" }), "{}", r.body);
    }
}

/// Issue 21 item 5: the activity page names codes (activity scope, flow, finance and aid types,
/// organisation types, sectors, GeoNames ids) in the reader's language with the code beside
/// them, shows the countries of transactions when the activity names none, and numbers the
/// activity in its file as `senda explain` and the API do.
#[test]
fn the_activity_page_names_codes_and_numbers_activities_as_the_cli() {
    let (dir, mut store) = db();
    let second = r#"<iati-activity last-updated-datetime="2024-01-01T00:00:00Z" default-currency="USD" xml:lang="en">
  <iati-identifier>XM-T-NAMES</iati-identifier>
  <reporting-org ref="XM-T" type="10"><narrative>Test Agency</narrative></reporting-org>
  <title><narrative>Road repair after the storm</narrative></title>
  <participating-org ref="XM-P" role="4" type="22"><narrative>Local Partner</narrative></participating-org>
  <activity-status code="2"/>
  <activity-scope code="5"/>
  <location><name><narrative>Guatemala City</narrative></name><administrative vocabulary="G1" level="1" code="3598132"/></location>
  <sector vocabulary="1" code="21020" percentage="60"/>
  <sector vocabulary="1" code="11250" percentage="40"/>
  <default-flow-type code="10"/>
  <default-finance-type code="110"/>
  <default-aid-type code="C01"/>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2023-01-10"/><value>1000</value><recipient-country code="GT"/></transaction>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2023-02-10"/><value>500</value><recipient-country code="HN"/></transaction>
 </iati-activity>"#;
    let first = activity("XM-T-FIRST", "<recipient-country code=\"SV\"/>");
    let file = write(dir.path(), "named.xml", doc("2.03", &format!("{first}\n{second}")));
    let r = import(&mut store, &[file]);
    assert_eq!(count(&store), 2, "{}", dump(&r));
    senda::commands::ensure_mappings(&mut store).expect("mappings");
    drop(store);
    let db = dir.path().join("senda.db");
    let rt = runtime();
    let app = app(&db);
    let en = get(&rt, &app, "/activity/XM-T-NAMES", &[("accept-language", "en")]);
    assert_eq!(en.status, StatusCode::OK, "{}", en.body);
    for want in [
        "Sub-national: Multi-first-level administrative areas <code>(5)</code>",
        "ODA <code>(10)</code>",
        "Standard grant <code>(110)</code>",
        "Project-type interventions <code>(C01)</code>",
        "Government <code>(10)</code>",
        "National NGO <code>(22)</code>",
        "Road transport <code>(21020)</code>",
        "School feeding <code>(11250)</code>",
        "href=\"https://www.geonames.org/3598132\"",
        "GeoNames 3598132",
        "The activity names no country; its transactions name these:",
        "File named.xml, activity #2",
    ] {
        assert!(en.body.contains(want), "EN page lacks {want:?}");
    }
    assert!(!en.body.contains("G1/1"), "no raw gazetteer code");
    let tx = &en.body[en.body.find("class=\"tx-countries\"").expect("transaction countries")..];
    let tx = &tx[..tx.find("</ul>").expect("list end")];
    assert!(tx.contains("Guatemala (GT)") && tx.contains("Honduras (HN)"), "{tx}");
    let es = get(&rt, &app, "/activity/XM-T-NAMES", &[("accept-language", "es")]);
    for want in [
        "Subnacional: varias divisiones de primer nivel <code>(5)</code>",
        "Donación estándar <code>(110)</code>",
        "Intervenciones de tipo proyecto <code>(C01)</code>",
        "Gobierno <code>(10)</code>",
        // The codelists have no Spanish sector names: English, marked as such.
        "<span lang=\"en\">Road transport</span> <code>(21020)</code>",
        "La actividad no nombra ningún país; sus transacciones nombran estos:",
        "Archivo named.xml, actividad #2",
    ] {
        assert!(es.body.contains(want), "ES page lacks {want:?}");
    }
    // The same number in the API and in `senda explain`.
    let api = get(&rt, &app, "/api/v1/activities/XM-T-NAMES", &[]);
    assert_eq!(json(&api)["source_position"].as_u64(), Some(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(&db)
        .args(["explain", "XM-T-NAMES"])
        .env_remove("SENDA_DB")
        .output()
        .expect("run senda");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("named.xml (activity #2)"), "{text}");
}

/// The `*_in_view` columns of a CSV summed (exact decimals).
fn in_view_sums(csv_text: &str) -> [rust_decimal::Decimal; 3] {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let head: Vec<String> = rd.headers().expect("header").iter().map(str::to_owned).collect();
    let cols: Vec<usize> = ["commitments_usd_in_view", "disbursements_usd_in_view", "expenditures_usd_in_view"]
        .map(|c| head.iter().position(|h| h == c).unwrap_or_else(|| panic!("no column {c}")))
        .to_vec();
    let mut sums = [rust_decimal::Decimal::ZERO; 3];
    for rec in rd.records() {
        let rec = rec.expect("row");
        for (s, c) in sums.iter_mut().zip(&cols) {
            *s += rec[*c].parse::<rust_decimal::Decimal>().expect("exact decimal");
        }
    }
    sums
}

/// Issue 21 item 8: the activities CSV says which share of each activity's money falls in the
/// view; summed over the list, the `*_in_view` columns are the report's totals for the same
/// filters (CLI and dashboard alike), while the whole-activity columns are more.
#[test]
fn in_view_columns_add_up_to_the_report_of_the_same_filters() {
    let (_dir, db) = synthetic_db(150);
    let senda = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_senda"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("SENDA_DB")
            .output()
            .expect("run senda");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let report_total = |filters: &[&str]| -> [rust_decimal::Decimal; 3] {
        let mut args = vec!["report", "--format", "json"];
        args.extend_from_slice(filters);
        let (ok, out, err) = senda(&args);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        ["commitments", "disbursements", "expenditures"]
            .map(|k| v["total"]["usd"][k].as_str().expect("exact amount").parse().expect("decimal"))
    };
    let views: [&[&str]; 5] = [
        &[],
        &["--line-of-effort", "LOE2"],
        &["--country", "GT"],
        &["--line-of-effort", "LOE6", "--country", "HN", "--fiscal-year", "2021..2024"],
        &["--reporting-org", "USAID", "--fiscal-year", "FY2022"],
    ];
    let mut split_seen = false;
    for filters in views {
        let mut args = vec!["activities", "--format", "csv"];
        args.extend_from_slice(filters);
        let (ok, csv_out, err) = senda(&args);
        assert!(ok, "{filters:?}: {err}");
        let want = report_total(filters);
        assert_eq!(in_view_sums(&csv_out), want, "{filters:?}");
        assert!(want[1] > rust_decimal::Decimal::ZERO, "{filters:?}: the view has money");
        // Whole activities hold more than their share in a narrower view.
        let mut rd = csv::Reader::from_reader(csv_out.as_bytes());
        for rec in rd.records() {
            let rec = rec.expect("row");
            let (whole, part): (rust_decimal::Decimal, rust_decimal::Decimal) =
                (rec[10].parse().expect("dec"), rec[14].parse().expect("dec"));
            split_seen |= part != whole;
        }
    }
    assert!(split_seen, "some activity has money outside some view");
    // The dashboard's CSV of the same view agrees with its own report.
    let rt = runtime();
    let app = app(&db);
    let r = get(&rt, &app, "/activities.csv?line_of_effort=LOE6&country=HN&fiscal_year=2021..2024", &[]);
    assert_eq!(r.status, StatusCode::OK);
    let web = in_view_sums(&r.body);
    assert_eq!(web, report_total(&["--line-of-effort", "LOE6", "--country", "HN", "--fiscal-year", "2021..2024"]));
    let api = json(&get(&rt, &app, "/api/v1/report?line_of_effort=LOE6&country=HN&fiscal_year=2021..2024", &[]));
    let d = |k: &str| api["total"]["usd"][k].as_str().expect("exact").parse::<rust_decimal::Decimal>().expect("dec");
    assert_eq!(web, [d("commitments"), d("disbursements"), d("expenditures")]);
    // `--fiscal-year` on lists as on reports: years in full.
    let (ok, _, err) = senda(&["activities", "--fiscal-year", "23"]);
    assert!(!ok && err.contains("write years in full"), "{err}");
    let (ok, _, err) = senda(&["activities", "--fiscal-year", "2020,2023"]);
    assert!(!ok && err.contains("consecutive"), "{err}");
}

/// An acronym standing for several spellings of one implementer keeps them all, in lists as in
/// reports (issue 21 item 4).
#[test]
fn an_implementer_acronym_lists_every_spelling() {
    let (dir, mut store) = db();
    let tx = |imp: &str| {
        format!(
            "<transaction><transaction-type code=\"3\"/><transaction-date iso-date=\"2023-01-10\"/><value>100</value><receiver-org><narrative>{imp}</narrative></receiver-org></transaction>"
        )
    };
    let acts = [
        activity(
            "XM-T-IOM-1",
            &format!("<recipient-country code=\"GT\"/>{}", tx("International Organization for Migration")),
        ),
        activity(
            "XM-T-IOM-2",
            &format!("<recipient-country code=\"HN\"/>{}", tx("International Organisation for Migration")),
        ),
        activity("XM-T-OTHER", &format!("<recipient-country code=\"SV\"/>{}", tx("Local Partner"))),
    ];
    let file = write(dir.path(), "iom.xml", doc("2.03", &acts.concat()));
    let r = import(&mut store, &[file]);
    assert_eq!(count(&store), 3, "{}", dump(&r));
    senda::commands::ensure_mappings(&mut store).expect("mappings");
    drop(store);
    let rt = runtime();
    let app = app(&dir.path().join("senda.db"));
    let list = json(&get(&rt, &app, "/api/v1/activities?implementing_org=IOM", &[]));
    let mut ids: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|i| i["iati_identifier"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["XM-T-IOM-1", "XM-T-IOM-2"]);
    let report = json(&get(&rt, &app, "/api/v1/report?by=implementing_org&implementing_org=iom", &[]));
    assert_eq!(report["rows"].as_array().map(Vec::len), Some(2), "{report}");
    assert_eq!(report["total"]["usd"]["disbursements"].as_str(), Some("200"), "{report}");
}

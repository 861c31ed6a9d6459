//! The reporting page (issue 18, item 5) as a partner editor (in Spanish) and a coordinator use
//! it: each bad input of the issue shown next to its field in the reader's language with
//! nothing saved; a form posted twice writes once; markup escaped; a return with a comment,
//! the fix, the approval, and the public indicator progress changing only then; a locked period.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use senda_core::accounts::{Caller, Email, NewOrganisation, ReadScope, Role, secret_digest};
use senda_core::intervention::{Context, Workflow, parse_value};
use senda_store::accounts::{AccountStore, Actor};
use senda_store::interventions::InterventionStore;
use senda_store::reporting::{ReportFilter, ReportingStore};
use tower::ServiceExt;

struct Site {
    _dir: tempfile::TempDir,
    store: senda_store::SqliteStore,
    app: axum::Router,
    rt: tokio::runtime::Runtime,
    intervention: i64,
}

fn session(store: &senda_store::SqliteStore, email: &str, n: u32) -> (String, String) {
    let (p, _) = store.person_for_login(&Email::parse(email).expect("e")).expect("read").expect("found");
    let caller =
        Caller { person_id: p.id, email: p.email, organisation_id: p.organisation_id, role: p.role, token_id: None };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (sid, csrf) = (format!("rp-session-{n}"), format!("rp-csrf-{n}"));
    store.create_session(&caller, &secret_digest(&sid), &csrf, now).expect("session");
    (format!("senda_session={sid}"), csrf)
}

/// Organisation "Radio Progreso" with a published campaign in Honduras (LOE7), its editor, a
/// coordinator.
fn site() -> Site {
    let (dir, store) = db();
    let cli = Actor::cli();
    let o = NewOrganisation::parse("Radio Progreso", None, None, None, Some("HN"), &[]).expect("organisation");
    let org = store.create_organisation(&cli, &o, 1).expect("create");
    for (name, role, o) in [("editor", Role::PartnerEditor, Some(org)), ("coord", Role::Coordinator, None)] {
        let email = Email::parse(&format!("{name}@example.org")).expect("email");
        store.create_person(&cli, &email, o, role, "$argon2id$unused", 1).expect("person");
    }
    let st = senda_core::Strategy::builtin("cmms-2021").expect("strategy");
    let ctx = Context { strategies: vec![&st], admin1: senda_stats::countries::canonical_admin1 };
    let iv = parse_value(
        &serde_json::json!({
            "organisation": org,
            "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "riesgos de la migración irregular"}],
            "instrument": "public_messaging",
            "title": {"en": "Know the risks", "es": "Conoce los riesgos"},
            "countries": ["HN"],
            "start": "2024-01-01",
            "status": "active",
            "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["jóvenes"]}
        }),
        &ctx,
    )
    .expect("intervention");
    let id = store.create_intervention(&cli, &iv, 1).expect("create").id;
    for (from, to) in [
        (Workflow::Draft, Workflow::Submitted),
        (Workflow::Submitted, Workflow::Approved),
        (Workflow::Approved, Workflow::Published),
    ] {
        store.move_intervention(&cli, id, from, to, 1).expect("move");
    }
    let app = app(&dir.path().join("senda.db"));
    Site { _dir: dir, store, app, rt: runtime(), intervention: id }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn post(s: &Site, uri: &str, cookie: &str, pairs: &[(&str, &str)]) -> Resp {
    let body = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    s.rt.block_on(async {
        let r = s.app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

/// The message shown next to the field `id` (empty when none).
fn next_to(page: &str, id: &str) -> String {
    let key = format!("id=\"{id}-error\"");
    let Some(start) = page.find(&key) else { return String::new() };
    let end = page[start..].find("</span>").map_or(page.len(), |e| e + start);
    page[start..end].to_owned()
}

fn reports(s: &Site) -> Vec<senda_store::reporting::ReportRecord> {
    s.store.reports(&ReportFilter::default(), ReadScope::Everything).expect("reports")
}

#[test]
fn a_partner_reports_in_spanish_a_coordinator_returns_then_approves_and_progress_changes() {
    let s = site();
    let (editor, ecsrf) = session(&s.store, "editor@example.org", 1);
    let (coord, ccsrf) = session(&s.store, "coord@example.org", 2);
    let iv = s.intervention.to_string();

    // The public is asked to sign in; the partner sees its campaign overdue, in Spanish.
    let anon = get(&s.rt, &s.app, "/reporting", &[]);
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    let page = get(&s.rt, &s.app, "/reporting?lang=es", &[("cookie", &editor)]);
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Informar un valor logrado") && page.body.contains("atrasado"), "{}", page.body);
    assert!(page.body.contains("T1 2024"), "periods in Spanish: {}", page.body);
    // The indicators offered are those of the intervention's lines of effort (LOE7 here).
    assert!(page.body.contains("<option value=\"LOE7-1\""), "{}", page.body);
    assert!(!page.body.contains("<option value=\"LOE1-1\""), "another line's indicator: {}", page.body);

    let form = |period: &str, dept: &str, value: &str, token: &str, step: &str| -> Vec<(String, String)> {
        [
            ("csrf", ecsrf.as_str()),
            ("form_token", token),
            ("intervention", iv.as_str()),
            ("indicator", "LOE7-1"),
            ("period", period),
            ("department", dept),
            ("value", value),
            ("denominator", ""),
            ("note", "<script>alert(1)</script> radio"),
            ("step", step),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
    };
    let send = |cookie: &str, uri: &str, f: &[(String, String)]| {
        let p: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        post(&s, uri, cookie, &p)
    };
    // Bad input: each next to its field, in Spanish, nothing saved.
    for (period, dept, value, field, want) in [
        ("2024-Q1", "HN-CR", "N/A", "rp-value", "no es un número"),
        ("2024-Q1", "HN-CR", "1,5", "rp-value", "no es un número"),
        ("2024-Q1", "HN-CR", "<5", "rp-value", "no es un número"),
        ("2024-Q1", "HN-CR", "-3", "rp-value", "es negativo"),
        ("2024-Q1", "GT-16", "5", "rp-department", "no está en ninguno de los países"),
        ("2099-Q1", "HN-CR", "5", "rp-period", "no es un período de informe"),
        ("2024-03", "HN-CR", "5", "rp-period", "no es un período de informe"),
    ] {
        let r = send(&editor, "/reporting/reports?lang=es", &form(period, dept, value, "bad", "submit"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{period} {dept} {value}");
        let msg = next_to(&r.body, field);
        assert!(msg.contains(want), "{period} {dept} {value}: {field}: {msg:?}");
        assert!(r.body.contains("No se guardó nada"));
    }
    assert!(reports(&s).is_empty(), "nothing saved");

    // Posted twice: one report; the note's markup is text, escaped.
    for _ in 0..2 {
        let r = send(&editor, "/reporting/reports?lang=es", &form("2024-Q1", "hn-cr", "1500", "once", "submit"));
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let all = reports(&s);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].actual.note.as_deref(), Some("<script>alert(1)</script> radio"));
    let page = get(&s.rt, &s.app, "/reporting?lang=es", &[("cookie", &editor)]);
    assert!(!page.body.contains("<script>alert"), "escaped");
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; radio"));
    assert!(page.body.contains("enviado"));

    // The coordinator returns it: a comment is required, next to its field.
    let id = all[0].id;
    let review = format!("/reporting/reports/{id}/review");
    let version = all[0].version.to_string();
    let r = post(&s, &review, &coord, &[("csrf", &ccsrf), ("step", "return"), ("version", &version), ("comment", " ")]);
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("is required"), "{}", r.body);
    let r = post(
        &s,
        &review,
        &coord,
        &[("csrf", &ccsrf), ("step", "return"), ("version", &version), ("comment", "Solo <b>Cortés</b>, por favor")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&s.rt, &s.app, "/reporting?lang=es", &[("cookie", &editor)]);
    assert!(page.body.contains("Solo &lt;b&gt;Cortés&lt;/b&gt;, por favor") && page.body.contains("devuelto"));
    assert!(page.body.contains(&format!("/reporting?fix={id}&amp;lang=es")), "a link to fix it");
    let fix = get(&s.rt, &s.app, &format!("/reporting?fix={id}&lang=es"), &[("cookie", &editor)]);
    assert!(fix.body.contains("value=\"1500\""), "the form is filled with the report");

    // The partner fixes and submits again; the public progress changes only on approval.
    let r = send(&editor, "/reporting/reports?lang=es", &form("2024-Q1", "HN-CR", "1750", "again", "submit"));
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let public = || get(&s.rt, &s.app, "/loe/LOE7", &[]).body;
    assert!(!public().contains("1,750"));
    let version = reports(&s)[0].version.to_string();
    let r = post(&s, &review, &coord, &[("csrf", &ccsrf), ("step", "approve"), ("version", &version)]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(public().contains("1,750"), "approved and published: in the public progress");
    // A stale form: the report changed meanwhile, nothing written.
    let r = post(&s, &review, &coord, &[("csrf", &ccsrf), ("step", "return"), ("version", "1"), ("comment", "x")]);
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Locked: the partner's next change is refused next to the period.
    let r = post(&s, "/reporting/locks", &coord, &[("csrf", &ccsrf), ("period", "2024-Q1"), ("action", "lock")]);
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = send(&editor, "/reporting/reports", &form("2024-Q1", "HN-FM", "5", "locked", "submit"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(next_to(&r.body, "rp-period").contains("is locked"), "{}", r.body);
    assert_eq!(reports(&s).len(), 1);
    let r = post(&s, "/reporting/locks", &editor, &[("csrf", &ecsrf), ("period", "2024-Q1"), ("action", "reopen")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a partner may not reopen");
}

#[test]
fn the_reporting_page_in_spanish_shows_no_english_only_word() {
    let s = site();
    let (editor, _) = session(&s.store, "editor@example.org", 1);
    let (coord, _) = session(&s.store, "coord@example.org", 2);
    let forbidden = crate::spanish::english_only_words(&Default::default());
    for cookie in [&editor, &coord] {
        let r = get(&s.rt, &s.app, "/reporting?lang=es", &[("cookie", cookie)]);
        assert_eq!(r.status, StatusCode::OK);
        let text = crate::spanish::visible_text(&r.body);
        let english: Vec<String> = crate::spanish::prose_words(&text).intersection(&forbidden).cloned().collect();
        let at = english.first().and_then(|w| text.to_lowercase().find(&format!(" {w} "))).unwrap_or(0);
        let near: String = text.chars().skip(text[..at].chars().count().saturating_sub(80)).take(160).collect();
        assert!(english.is_empty(), "English on the Spanish page: {english:?} near {near:?}");
    }
}

fn api(s: &Site, method: &str, uri: &str, auth: Option<(&str, &str)>, body: &str) -> Resp {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some((cookie, csrf)) = auth {
        req = req.header("cookie", cookie).header("x-csrf-token", csrf);
    }
    let req = req.body(Body::from(body.to_owned())).expect("request");
    s.rt.block_on(async {
        let r = s.app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

#[test]
fn the_reports_api_checks_submits_returns_and_approves_through_the_policy() {
    let s = site();
    let (editor, ecsrf) = session(&s.store, "editor@example.org", 1);
    let (coord, ccsrf) = session(&s.store, "coord@example.org", 2);
    let ed = Some((editor.as_str(), ecsrf.as_str()));
    let co = Some((coord.as_str(), ccsrf.as_str()));
    let body = |period: &str, actual: &str| {
        format!(
            "{{\"intervention\": {}, \"indicator\": \"LOE7-1\", \"reporting_period\": \"{period}\", \"department\": \"HN-CR\", \"actual\": \"{actual}\"}}",
            s.intervention
        )
    };
    assert_eq!(api(&s, "POST", "/api/v1/reports", None, &body("2024-Q1", "5")).status, StatusCode::UNAUTHORIZED);
    let r = api(&s, "POST", "/api/v1/reports?lang=es", ed, &body("2024-03", "1,5"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let fields: Vec<&str> =
        v["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["reporting_period", "actual"]);
    assert!(r.body.contains("no es un número"), "{}", r.body);
    assert!(reports(&s).is_empty());

    let r = api(&s, "POST", "/api/v1/reports", ed, &body("2024-Q1", "1500"));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["state"], "submitted");
    let id = v["id"].as_i64().expect("id");
    let review = format!("/api/v1/reports/{id}/review");
    assert_eq!(api(&s, "POST", &review, ed, "{\"step\": \"approve\"}").status, StatusCode::FORBIDDEN);
    assert_eq!(api(&s, "POST", &review, co, "{\"step\": \"return\"}").status, StatusCode::BAD_REQUEST);
    let r = api(&s, "POST", &review, co, "{\"step\": \"return\", \"comment\": \"por departamento\"}");
    assert_eq!((r.status, r.body.contains("\"returned\"")), (StatusCode::OK, true), "{}", r.body);
    assert_eq!(api(&s, "POST", &review, co, "{\"step\": \"approve\"}").status, StatusCode::CONFLICT);
    assert_eq!(api(&s, "GET", "/api/v1/reports", None, "").body, "[]", "nothing public yet");
    assert_eq!(api(&s, "POST", "/api/v1/reports", ed, &body("2024-Q1", "1750")).status, StatusCode::OK);
    let r = api(&s, "POST", &review, co, "{\"step\": \"approve\", \"version\": 3}");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let public: serde_json::Value =
        serde_json::from_str(&api(&s, "GET", "/api/v1/reports?reporting_period=2024-Q1", None, "").body).expect("json");
    assert_eq!(public.as_array().map(Vec::len), Some(1));
    assert_eq!(public[0]["actual"]["value"], "1750");
}

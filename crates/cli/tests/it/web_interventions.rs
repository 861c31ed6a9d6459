//! Interventions through the JSON API (issue 18, item 1), with API tokens: who may enter,
//! read, submit, approve and publish what (the access policy with the record's owner and
//! state), problems named by field in English and Spanish with nothing saved, conflicts.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use senda_core::accounts::{Caller, Email, NewOrganisation, Role, secret_digest};
use senda_store::accounts::{AccountStore, Actor};
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) fn send(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> Resp {
    send_h(rt, app, method, uri, token, &[], body)
}

fn send_h(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::from(body.to_owned())).expect("request");
    rt.block_on(async {
        let r = app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

pub(crate) fn json_of(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("JSON body ({e}): {}", r.body))
}

/// Organisations A and B; a partner editor of each, a coordinator and a viewer, each with a
/// token named after them (`senda_<name>...`).
pub(crate) fn setup() -> (tempfile::TempDir, axum::Router, tokio::runtime::Runtime, i64, i64) {
    let (dir, store) = db();
    let cli = Actor::cli();
    let org = |n: &str| {
        let o = NewOrganisation::parse(n, None, None, None, Some("HN"), &[]).expect("organisation");
        store.create_organisation(&cli, &o, 1).expect("create")
    };
    let (a, b) = (org("A"), org("B"));
    for (name, role, o) in [
        ("editora", Role::PartnerEditor, Some(a)),
        ("editorb", Role::PartnerEditor, Some(b)),
        ("coord", Role::Coordinator, None),
        ("viewer", Role::Viewer, None),
    ] {
        let email = Email::parse(&format!("{name}@example.org")).expect("email");
        let id = store.create_person(&cli, &email, o, role, "$argon2id$unused", 1).expect("person");
        let c = Caller { person_id: id, email: email.to_string(), organisation_id: o, role, token_id: None };
        let token = token_of(name);
        store.create_token(&c, name, role, &secret_digest(&token), 4_000_000_000, 1).expect("token");
    }
    drop(store);
    let app = app(&dir.path().join("senda.db"));
    (dir, app, runtime(), a, b)
}

pub(crate) fn token_of(name: &str) -> String {
    format!("senda_{name}_0123456789abcdefghijklmnopqrstuvwxyz")
}

pub(crate) fn campaign(org: i64) -> Value {
    json!({
        "organisation": org,
        "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "riesgos de la migración irregular"}],
        "instrument": "public_messaging",
        "title": {"es": "Infórmate antes de partir <script>alert(1)</script>"},
        "countries": ["HN"],
        "departments": ["HN-CR"],
        "start": "2024-01-01",
        "status": "active",
        "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["jóvenes"],
            "reach": [{"period": "2024-03", "country": "HN", "department": "HN-CR", "people_reached": 120000}]}
    })
}

fn ids(r: &Resp) -> Vec<i64> {
    json_of(r).as_array().expect("a list").iter().map(|x| x["id"].as_i64().expect("id")).collect()
}

#[test]
fn a_partner_enters_a_campaign_and_a_coordinator_publishes_it() {
    let (_dir, app, rt, a, _b) = setup();
    let (ed_a, ed_b, coord, viewer) = (token_of("editora"), token_of("editorb"), token_of("coord"), token_of("viewer"));
    let body = campaign(a).to_string();

    // Who may enter it.
    assert_eq!(send(&rt, &app, "POST", "/api/v1/interventions", None, &body).status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&rt, &app, "POST", "/api/v1/interventions", Some(&viewer), &body).status, StatusCode::FORBIDDEN);
    assert_eq!(send(&rt, &app, "POST", "/api/v1/interventions", Some(&ed_b), &body).status, StatusCode::FORBIDDEN);
    let r = send(&rt, &app, "POST", "/api/v1/interventions", Some(&ed_a), &body);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = json_of(&r);
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/interventions/{id}").as_str())
    );
    assert_eq!(created["record"]["workflow"], "draft");
    assert_eq!(
        created["record"]["intervention"]["title"]["es"], "Infórmate antes de partir <script>alert(1)</script>",
        "markup is kept as text (JSON carries it as data)"
    );
    let path = format!("/api/v1/interventions/{id}");
    let flow = format!("/api/v1/interventions/{id}/workflow");

    // A draft is seen by its organisation, viewers and coordinators only.
    assert_eq!(get(&rt, &app, &path, &[]).status, StatusCode::NOT_FOUND, "the public does not see a draft");
    assert_eq!(send(&rt, &app, "GET", &path, Some(&ed_b), "").status, StatusCode::NOT_FOUND);
    assert_eq!(send(&rt, &app, "GET", &path, Some(&ed_a), "").status, StatusCode::OK);
    assert_eq!(send(&rt, &app, "GET", &path, Some(&viewer), "").status, StatusCode::OK);
    assert!(ids(&get(&rt, &app, "/api/v1/interventions", &[])).is_empty());
    assert_eq!(ids(&send(&rt, &app, "GET", "/api/v1/interventions", Some(&ed_a), "")), [id]);
    assert!(ids(&send(&rt, &app, "GET", "/api/v1/interventions", Some(&ed_b), "")).is_empty());

    // Review.
    let to = |w: &str| json!({"workflow": w}).to_string();
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&ed_b), &to("submitted")).status, StatusCode::NOT_FOUND);
    let r = send(&rt, &app, "POST", &flow, Some(&ed_a), &to("published"));
    assert_eq!(r.status, StatusCode::CONFLICT, "a step skipped: {}", r.body);
    assert_eq!(json_of(&r)["errors"][0]["field"], "workflow");
    let r = send(&rt, &app, "POST", &flow, Some(&ed_a), &to("submitted"));
    assert_eq!((r.status, json_of(&r)["workflow"].as_str()), (StatusCode::OK, Some("submitted")), "{}", r.body);
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&ed_a), &to("approved")).status, StatusCode::FORBIDDEN);
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&viewer), &to("approved")).status, StatusCode::FORBIDDEN);
    assert_eq!(send(&rt, &app, "POST", &flow, None, &to("approved")).status, StatusCode::UNAUTHORIZED);
    let r = send(&rt, &app, "POST", &flow, Some(&coord), &to("approved"));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let version = json_of(&r)["version"].as_i64().expect("version");
    let stale = json!({"workflow": "published", "version": version - 1}).to_string();
    let r = send(&rt, &app, "POST", &flow, Some(&coord), &stale);
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(json_of(&r)["version"], version);
    let r =
        send(&rt, &app, "POST", &flow, Some(&coord), &json!({"workflow": "published", "version": version}).to_string());
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Published: public.
    assert_eq!(get(&rt, &app, &path, &[]).status, StatusCode::OK);
    assert_eq!(ids(&get(&rt, &app, "/api/v1/interventions?instrument=public_messaging&country=HN", &[])), [id]);
    assert!(ids(&get(&rt, &app, "/api/v1/interventions?instrument=diplomacy", &[])).is_empty());
    assert_eq!(ids(&send(&rt, &app, "GET", "/api/v1/interventions", Some(&ed_b), "")), [id]);
}

#[test]
fn bad_input_is_named_by_field_in_english_or_spanish_and_nothing_is_saved() {
    let (_dir, app, rt, a, _) = setup();
    let ed = token_of("editora");
    let mut v = campaign(a);
    v["end"] = "2023-01-01".into();
    v["departments"] = json!(["SV-SS"]);
    v["public_messaging"]["reach"][0]["people_reached"] = json!(-5);
    v["money"] = json!([{"kind": "budget", "amount": "1,5", "currency": "EUR", "date": "2024-01-01"},
                        {"kind": "budget", "amount": "10", "currency": "ABC", "date": "2024-01-01"}]);
    let r = send(&rt, &app, "POST", "/api/v1/interventions", Some(&ed), &v.to_string());
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.headers.get("content-type").and_then(|h| h.to_str().ok()), Some("application/problem+json"));
    let fields: Vec<String> = json_of(&r)["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        fields,
        ["departments[0]", "end", "money[0].amount", "money[1].currency", "public_messaging.reach[0].people_reached"]
    );
    let es = send_h(
        &rt,
        &app,
        "POST",
        "/api/v1/interventions",
        Some(&ed),
        &[("accept-language", "es-HN,es;q=0.9")],
        &v.to_string(),
    );
    let es = json_of(&es);
    let end = es["errors"].as_array().expect("errors").iter().find(|e| e["field"] == "end").expect("end");
    assert_eq!(end["message"], "la fecha de fin es anterior a la de inicio");
    let en = json_of(&r);
    let end = en["errors"].as_array().expect("errors").iter().find(|e| e["field"] == "end").expect("end");
    assert_eq!(end["message"], "the end is before the start");

    let r = send(&rt, &app, "POST", "/api/v1/interventions", Some(&ed), "{not json");
    assert_eq!((r.status, json_of(&r)["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("(record)")));
    let r =
        send(&rt, &app, "POST", "/api/v1/interventions?lang=es", Some(&token_of("coord")), &campaign(999).to_string());
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(json_of(&r)["errors"][0]["field"], "organisation");
    assert_eq!(json_of(&r)["errors"][0]["message"], "no hay ninguna organización con id 999");
    assert!(
        ids(&send(&rt, &app, "GET", "/api/v1/interventions", Some(&token_of("coord")), "")).is_empty(),
        "nothing saved"
    );

    for (q, param) in [
        ("instrument=army", "instrument"),
        ("workflow=gone", "workflow"),
        ("limit=0", "limit"),
        ("country=XX", "country"),
    ] {
        let r = get(&rt, &app, &format!("/api/v1/interventions?{q}"), &[]);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.body.contains(param), "{q}: {}", r.body);
    }
    assert_eq!(get(&rt, &app, "/api/v1/interventions/abc", &[]).status, StatusCode::NOT_FOUND);
}

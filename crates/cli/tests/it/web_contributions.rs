//! Partner contributions through the JSON API and on the pages (issue 18, item 2): who may
//! record and publish what (the policy for the record itself), bad input named by field in
//! English and Spanish with nothing saved, the public seeing published ones only, markup
//! escaped on the line-of-effort and country pages.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use senda_core::accounts::{Caller, Email, NewOrganisation, Role, secret_digest};
use senda_store::accounts::{AccountStore, Actor};
use serde_json::{Value, json};
use tower::ServiceExt;

fn send(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
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

fn json_of(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("JSON body ({e}): {}", r.body))
}

fn token_of(name: &str) -> String {
    format!("senda_{name}_0123456789abcdefghijklmnopqrstuvwxyz")
}

/// Organisations A and B; a partner editor of each, a coordinator and a viewer with tokens.
fn setup() -> (tempfile::TempDir, axum::Router, tokio::runtime::Runtime, i64, i64) {
    let (dir, store) = db();
    let cli = Actor::cli();
    let org = |n: &str| {
        let o = NewOrganisation::parse(n, None, None, None, Some("HN"), &[]).expect("organisation");
        store.create_organisation(&cli, &o, 1).expect("create")
    };
    let (a, b) = (org("Banco Regional"), org("B"));
    for (name, role, o) in [
        ("editora", Role::PartnerEditor, Some(a)),
        ("editorb", Role::PartnerEditor, Some(b)),
        ("coord", Role::Coordinator, None),
        ("viewer", Role::Viewer, None),
    ] {
        let email = Email::parse(&format!("{name}@example.org")).expect("email");
        let id = store.create_person(&cli, &email, o, role, "$argon2id$unused", 1).expect("person");
        let c = Caller { person_id: id, email: email.to_string(), organisation_id: o, role, token_id: None };
        store.create_token(&c, name, role, &secret_digest(&token_of(name)), 4_000_000_000, 1).expect("token");
    }
    drop(store);
    let app = app(&dir.path().join("senda.db"));
    (dir, app, runtime(), a, b)
}

fn loan(org: i64) -> Value {
    json!({
        "organisation": org, "line_of_effort": "LOE5", "kind": "resources_mobilised", "form": "money",
        "date": "2024-05-02", "countries": ["HN"], "source": "https://example.org/loan",
        "description": {"en": "Loan <script>alert(1)</script> for reintegration", "es": "Préstamo <b>para</b> reintegración"},
        "money": {"amount": "25000000.50", "currency": "USD", "date": "2024-05-02"}
    })
}

fn ids(r: &Resp) -> Vec<i64> {
    json_of(r).as_array().expect("a list").iter().map(|x| x["id"].as_i64().expect("id")).collect()
}

#[test]
fn a_partner_records_a_contribution_a_coordinator_publishes_it_and_the_public_sees_it() {
    let (_dir, app, rt, a, _b) = setup();
    let (ed_a, ed_b, coord, viewer) = (token_of("editora"), token_of("editorb"), token_of("coord"), token_of("viewer"));
    let body = loan(a).to_string();
    let url = "/api/v1/contributions";
    assert_eq!(send(&rt, &app, "POST", url, None, &body).status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&rt, &app, "POST", url, Some(&viewer), &body).status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&rt, &app, "POST", url, Some(&ed_b), &body).status,
        StatusCode::FORBIDDEN,
        "another organisation's"
    );
    let r = send(&rt, &app, "POST", url, Some(&ed_a), &body);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = json_of(&r)["id"].as_i64().expect("id");
    assert_eq!(json_of(&r)["record"]["contribution"]["money"]["amount"], "25000000.50");
    assert_eq!(json_of(&r)["record"]["published"], false);

    // Unpublished: its organisation, viewers and coordinators see it; the public and B do not.
    assert!(ids(&get(&rt, &app, url, &[])).is_empty());
    assert!(ids(&send(&rt, &app, "GET", url, Some(&ed_b), "")).is_empty());
    assert_eq!(ids(&send(&rt, &app, "GET", url, Some(&ed_a), "")), [id]);
    assert_eq!(ids(&send(&rt, &app, "GET", url, Some(&viewer), "")), [id]);
    let page = get(&rt, &app, "/loe/LOE5", &[]);
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Partner contributions"), "the public page shows no unpublished contribution");

    // Only a coordinator publishes.
    let publish = format!("{url}/{id}/publish");
    assert_eq!(send(&rt, &app, "POST", &publish, Some(&ed_a), r#"{"published": true}"#).status, StatusCode::FORBIDDEN);
    assert_eq!(send(&rt, &app, "POST", &publish, None, r#"{"published": true}"#).status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&rt, &app, "POST", &publish, Some(&coord), r#"{"published": "yes"}"#).status,
        StatusCode::BAD_REQUEST
    );
    let r = send(&rt, &app, "POST", &publish, Some(&coord), r#"{"published": true}"#);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["published"], true);
    assert_eq!(
        send(&rt, &app, "POST", &format!("{url}/999/publish"), Some(&coord), r#"{"published": true}"#).status,
        StatusCode::NOT_FOUND
    );

    // Now public: in the API, filtered, and on the line-of-effort and country pages, escaped.
    assert_eq!(ids(&get(&rt, &app, url, &[])), [id]);
    assert_eq!(ids(&get(&rt, &app, &format!("{url}?line_of_effort=loe5&country=HN"), &[])), [id]);
    assert!(ids(&get(&rt, &app, &format!("{url}?line_of_effort=LOE2"), &[])).is_empty());
    assert!(ids(&get(&rt, &app, &format!("{url}?country=GT"), &[])).is_empty());
    assert_eq!(get(&rt, &app, &format!("{url}?line_of_effort=LOE9"), &[]).status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&rt, &app, &format!("{url}?country=Honduras"), &[]).status, StatusCode::BAD_REQUEST);
    for page in ["/loe/LOE5?lang=en", "/country/HN?lang=en"] {
        let p = get(&rt, &app, page, &[]);
        assert_eq!(p.status, StatusCode::OK, "{page}");
        assert!(p.body.contains("Partner contributions"), "{page}");
        assert!(p.body.contains("Banco Regional"), "{page}");
        assert!(p.body.contains("Loan &lt;script&gt;alert(1)&lt;/script&gt; for reintegration"), "{page}: escaped");
        assert!(!p.body.contains("<script>alert(1)"), "{page}");
        assert!(p.body.contains("Resources mobilised"), "{page}");
    }
    let es = get(&rt, &app, "/country/HN?lang=es", &[]);
    assert!(es.body.contains("Contribuciones de socios") && es.body.contains("Recursos movilizados"), "Spanish page");
    assert!(es.body.contains("Préstamo &lt;b&gt;para&lt;/b&gt; reintegración"), "the Spanish description, escaped");
    assert!(!get(&rt, &app, "/country/GT?lang=en", &[]).body.contains("Partner contributions"), "not Guatemala's");
}

#[test]
fn bad_contributions_are_refused_by_field_in_both_languages_and_nothing_is_saved() {
    let (_dir, app, rt, a, _b) = setup();
    let coord = token_of("coord");
    let url = "/api/v1/contributions";
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            {
                let mut v = loan(a);
                v["line_of_effort"] = json!("LOE42");
                v
            },
            "line_of_effort",
            "is not allowed",
        ),
        (
            {
                let mut v = loan(a);
                v["money"] = json!({"amount": "10", "date": "2024-01-01"});
                v
            },
            "money.currency",
            "is required",
        ),
        (
            {
                let mut v = loan(a);
                v["money"]["currency"] = json!("DOLLARS");
                v
            },
            "money.currency",
            "ISO 4217",
        ),
        (
            {
                let mut v = loan(a);
                v["money"]["currency"] = json!("ABC");
                v
            },
            "money.currency",
            "ISO 4217",
        ),
        (
            {
                let mut v = loan(a);
                v["money"]["amount"] = json!("N/A");
                v
            },
            "money.amount",
            "is not an amount",
        ),
        (
            {
                let mut v = loan(a);
                v["money"]["amount"] = json!("1,5");
                v
            },
            "money.amount",
            "is not an amount",
        ),
        (
            {
                let mut v = loan(a);
                v["money"]["amount"] = json!("-100");
                v
            },
            "money.amount",
            "is negative",
        ),
        (
            {
                let mut v = loan(a);
                v["date"] = json!("2024-02-31");
                v
            },
            "date",
            "ISO 8601",
        ),
        (
            {
                let mut v = loan(a);
                v["intervention"] = json!(999);
                v
            },
            "intervention",
            "no intervention has id 999",
        ),
        (
            {
                let mut v = loan(9999);
                v["line_of_effort"] = json!("LOE5");
                v
            },
            "organisation",
            "no organisation has id 9999",
        ),
    ];
    for (body, field, message) in cases {
        let r = send(&rt, &app, "POST", url, Some(&coord), &body.to_string());
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
        let errors = json_of(&r)["errors"].as_array().expect("errors").clone();
        assert!(
            errors.iter().any(|e| e["field"] == field && e["message"].as_str().unwrap_or_default().contains(message)),
            "{field}: {message}: {errors:?}"
        );
    }
    let mut v = loan(a);
    v["money"]["amount"] = json!("1,5");
    let r = send(&rt, &app, "POST", &format!("{url}?lang=es"), Some(&coord), &v.to_string());
    assert!(r.body.contains("no es un importe"), "{}", r.body);
    assert!(ids(&send(&rt, &app, "GET", url, Some(&coord), "")).is_empty(), "nothing saved");
}

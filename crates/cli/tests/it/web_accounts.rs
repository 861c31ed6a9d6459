//! Signing in and out of the web server, and access decided in one place (issue 17): cookie
//! attributes, CSRF on forms and on cookie-authenticated API writes, no session fixation,
//! the login throttle, disabled accounts and API tokens.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use senda_core::accounts::{Email, Password, Role, hash_password, secret_digest};
use senda_store::Store;
use senda_store::accounts::AccountStore;
use senda_store::accounts::Actor;
use tower::ServiceExt;

const PW: &str = "correct horse battery";

fn send(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
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

fn cookies(r: &Resp) -> Vec<String> {
    r.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap_or_default().to_owned()).collect()
}

fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    cookies(r)
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or_default().to_owned()))
}

fn hidden_csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field in the form") + "name=\"csrf\" value=\"".len();
    body[at..].split('"').next().unwrap_or_default().to_owned()
}

/// A database with a coordinator and a viewer; the app over it.
fn setup() -> (tempfile::TempDir, axum::Router, tokio::runtime::Runtime) {
    let (dir, store) = db();
    let hash = hash_password(&Password::parse(PW).expect("valid"), &[1; 16]).expect("hash");
    for (e, r) in [("coord@example.org", Role::Coordinator), ("viewer@example.org", Role::Viewer)] {
        store.create_person(&Actor::cli(), &Email::parse(e).expect("email"), None, r, &hash, 1).expect("person");
    }
    drop(store);
    let app = app(&dir.path().join("senda.db"));
    (dir, app, runtime())
}

/// Signs in; returns the session cookie's value.
fn login(rt: &tokio::runtime::Runtime, app: &axum::Router, email: &str, extra_cookie: Option<&str>) -> String {
    let form = get(rt, app, "/login", &[]);
    let csrf = cookie_value(&form, "senda_login_csrf").expect("login csrf cookie");
    let mut cookie = format!("senda_login_csrf={csrf}");
    if let Some(c) = extra_cookie {
        cookie = format!("{cookie}; {c}");
    }
    let body = format!(
        "email={}&password={}&csrf={}",
        email.replace('@', "%40"),
        PW.replace(' ', "+"),
        hidden_csrf(&form.body)
    );
    let r = send(
        rt,
        app,
        "POST",
        "/login",
        &[("cookie", &cookie), ("content-type", "application/x-www-form-urlencoded")],
        &body,
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    cookie_value(&r, "senda_session").expect("a session cookie")
}

#[test]
fn signing_in_and_out_with_safe_cookies_and_no_fixation() {
    let (_dir, app, rt) = setup();
    let form = get(&rt, &app, "/login?lang=es", &[]);
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"email\"") && form.body.contains("name=\"password\""), "{}", form.body);
    assert!(form.body.contains("Iniciar sesión"), "Spanish with ?lang=es");
    for c in cookies(&form) {
        assert!(c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Lax"), "{c}");
    }
    // No CSRF token: refused before the password is looked at.
    let r = send(
        &rt,
        &app,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        "email=coord%40example.org&password=x&csrf=",
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A session id planted before login is never the one after.
    let planted = "senda_session=attacker-chosen-value";
    let session = login(&rt, &app, "coord@example.org", Some(planted));
    assert_ne!(session, "attacker-chosen-value");
    let me = get(&rt, &app, "/account", &[("cookie", &format!("senda_session={session}"))]);
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("coord@example.org") && me.body.contains("coordinator"), "{}", me.body);
    let planted_page = get(&rt, &app, "/account", &[("cookie", planted)]);
    assert_eq!(planted_page.status, StatusCode::SEE_OTHER, "the planted id opens nothing");

    // Logout needs the session's CSRF token.
    let cookie = format!("senda_session={session}");
    let form = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(send(&rt, &app, "POST", "/logout", &form, "csrf=wrong").status, StatusCode::FORBIDDEN);
    let r = send(&rt, &app, "POST", "/logout", &form, &format!("csrf={}", hidden_csrf(&me.body)));
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = get(&rt, &app, "/account", &[("cookie", &cookie)]);
    assert_eq!(after.status, StatusCode::SEE_OTHER, "ended on the server");
    assert_eq!(after.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()), Some("/login"));
}

#[test]
fn the_eleventh_wrong_password_in_a_minute_is_refused_unchecked() {
    let (_dir, app, rt) = setup();
    let form = get(&rt, &app, "/login", &[]);
    let csrf = cookie_value(&form, "senda_login_csrf").expect("cookie");
    let cookie = format!("senda_login_csrf={csrf}");
    let h = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    for i in 0..10 {
        let r = send(
            &rt,
            &app,
            "POST",
            "/login",
            &h,
            &format!("email=viewer%40example.org&password=wrong+{i}&csrf={csrf}"),
        );
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(r.body.contains("Wrong e-mail or password."), "the same words whether the address exists or not");
    }
    let right = format!("email=viewer%40example.org&password={}&csrf={csrf}", PW.replace(' ', "+"));
    let r = send(&rt, &app, "POST", "/login", &h, &right);
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
}

/// Disabled by another process (the command line, here a second connection): the server sees
/// the audit trail move within `auth_cache::MARK_TTL` and remembers nothing from before it.
#[test]
fn a_disabled_accounts_sessions_and_tokens_stop_on_the_next_request() {
    let (dir, app, rt) = setup();
    let session = login(&rt, &app, "coord@example.org", None);
    let cookie = format!("senda_session={session}");
    let store = senda_store::SqliteStore::open(&dir.path().join("senda.db")).expect("open");
    let (p, _) = store.person_for_login(&Email::parse("coord@example.org").expect("e")).expect("read").expect("found");
    let caller = senda_core::accounts::Caller {
        person_id: p.id,
        email: p.email,
        organisation_id: None,
        role: p.role,
        token_id: None,
    };
    store
        .create_token(&caller, "script", Role::Coordinator, &secret_digest("senda_script-token"), i64::MAX / 2, 1)
        .expect("token");
    let auth = [("authorization", "Bearer senda_script-token")];
    assert_eq!(get(&rt, &app, "/api/v1/strategies", &auth).status, StatusCode::OK);
    assert_eq!(get(&rt, &app, "/account", &[("cookie", &cookie)]).status, StatusCode::OK);
    store.set_person_disabled(&Actor::cli(), &Email::parse("coord@example.org").expect("e"), true, 2).expect("disable");
    std::thread::sleep(senda_web::auth_cache::MARK_TTL + std::time::Duration::from_millis(50));
    assert_eq!(get(&rt, &app, "/account", &[("cookie", &cookie)]).status, StatusCode::SEE_OTHER, "session gone");
    let r = get(&rt, &app, "/api/v1/strategies", &auth);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "token of a disabled account: {}", r.body);
    assert_eq!(
        get(&rt, &app, "/api/v1/strategies", &[("authorization", "Bearer senda_never-issued")]).status,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn writes_need_a_role_that_may_write_and_cookie_writes_need_the_csrf_header() {
    let (dir, app, rt) = setup();
    let store = senda_store::SqliteStore::open(&dir.path().join("senda.db")).expect("open");
    let (p, _) = store.person_for_login(&Email::parse("viewer@example.org").expect("e")).expect("read").expect("found");
    let caller = senda_core::accounts::Caller {
        person_id: p.id,
        email: p.email,
        organisation_id: None,
        role: p.role,
        token_id: None,
    };
    store
        .create_token(&caller, "read-only", Role::Viewer, &secret_digest("senda_viewer-token"), i64::MAX / 2, 1)
        .expect("token");
    let body = r#"{"strategy":"cmms-2021","values":[]}"#;
    let r = send(
        &rt,
        &app,
        "POST",
        "/api/v1/results",
        &[("authorization", "Bearer senda_viewer-token"), ("content-type", "application/json")],
        body,
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a viewer writes nothing: {}", r.body);
    let r = send(&rt, &app, "POST", "/api/v1/results", &[("content-type", "application/json")], body);
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::UNAUTHORIZED, "anonymous: {}", r.status);

    let session = login(&rt, &app, "coord@example.org", None);
    let cookie = format!("senda_session={session}");
    let r =
        send(&rt, &app, "POST", "/api/v1/results", &[("cookie", &cookie), ("content-type", "application/json")], body);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a cookie write without X-CSRF-Token: {}", r.body);
    assert!(r.body.contains("csrf"), "{}", r.body);
    // Anonymous readers keep reading published data.
    assert_eq!(get(&rt, &app, "/api/v1/strategies", &[]).status, StatusCode::OK);
    assert_eq!(get(&rt, &app, "/account", &[]).status, StatusCode::SEE_OTHER);
}

/// The value of the `senda_` secret shown on a page.
fn shown_secret(body: &str) -> Option<String> {
    let at = body.find("senda_")?;
    let s: String = body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (s.len() == "senda_".len() + senda_core::accounts::SECRET_CHARS).then_some(s)
}

#[test]
fn a_signed_in_person_makes_lists_and_revokes_their_own_api_tokens_on_the_account_page() {
    let (dir, app, rt) = setup();
    let session = login(&rt, &app, "coord@example.org", None);
    let cookie = format!("senda_session={session}");
    let page = get(&rt, &app, "/account", &[("cookie", &cookie)]);
    assert!(page.body.contains("My API tokens") && page.body.contains("No tokens yet."), "{}", page.body);
    let csrf = hidden_csrf(&page.body);
    let form = |body: &str| {
        send(
            &rt,
            &app,
            "POST",
            "/account/tokens",
            &[("cookie", &cookie), ("content-type", "application/x-www-form-urlencoded")],
            body,
        )
    };
    // Without the form's CSRF field (and no header): refused before the handler.
    let r = form("name=sync&role=coordinator&days=30");
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("csrf"), "{}", r.body);
    let r = form("name=sync&role=coordinator&days=30&csrf=wrong");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Each bad field is a 400 naming it, on the account page.
    for (body, says) in [
        ("name=+&role=coordinator&days=30", "name: is empty"),
        ("name=sync&role=administrator&days=30", "role: a token may act as coordinator or less"),
        ("name=sync&role=boss&days=30", "role: unknown role"),
        ("name=sync&role=viewer&days=0", "days: "),
        ("name=sync&role=viewer&days=367", "days: "),
        ("name=sync&role=viewer&days=many", "days: "),
    ] {
        let r = form(&format!("{body}&csrf={csrf}"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    assert!(get(&rt, &app, "/account", &[("cookie", &cookie)]).body.contains("No tokens yet."), "nothing made");

    let r = form(&format!("name=sync&role=coordinator&days=30&csrf={csrf}"));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    let secret = shown_secret(&r.body).expect("the secret is shown once");
    let bearer = format!("Bearer {secret}");
    let results = r#"{"strategy":"cmms-2021","values":[]}"#;
    let api_write = |auth: &str| {
        send(
            &rt,
            &app,
            "POST",
            "/api/v1/results",
            &[("authorization", auth), ("content-type", "application/json")],
            results,
        )
    };
    assert_eq!(api_write(&bearer).status, StatusCode::OK, "a coordinator's token writes results");
    let listed = get(&rt, &app, "/account", &[("cookie", &cookie)]);
    assert!(listed.body.contains("sync") && listed.body.contains("active"), "{}", listed.body);
    assert!(shown_secret(&listed.body).is_none(), "the secret is never shown again");

    // A token may not make tokens (a leaked one would renew itself).
    let r = send(
        &rt,
        &app,
        "POST",
        "/account/tokens",
        &[("authorization", &bearer), ("content-type", "application/x-www-form-urlencoded")],
        "name=again&days=30",
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // A viewer's token acts as a viewer; another person cannot revoke it.
    let r = form(&format!("name=read&role=viewer&days=1&csrf={csrf}"));
    let viewer_token = format!("Bearer {}", shown_secret(&r.body).expect("secret"));
    assert_eq!(api_write(&viewer_token).status, StatusCode::FORBIDDEN, "acts as a viewer");
    let store = senda_store::SqliteStore::open(&dir.path().join("senda.db")).expect("open");
    let (coord, _) =
        store.person_for_login(&Email::parse("coord@example.org").expect("e")).expect("read").expect("found");
    let tokens = store.tokens(coord.id).expect("tokens");
    let sync = tokens.iter().find(|t| t.name == "sync").expect("listed").id;
    let other = login(&rt, &app, "viewer@example.org", None);
    let other_cookie = format!("senda_session={other}");
    let other_csrf = hidden_csrf(&get(&rt, &app, "/account", &[("cookie", &other_cookie)]).body);
    let revoke = |cookie: &str, id: &str, csrf: &str| {
        send(
            &rt,
            &app,
            "POST",
            &format!("/account/tokens/{id}/revoke"),
            &[("cookie", cookie), ("content-type", "application/x-www-form-urlencoded")],
            &format!("csrf={csrf}"),
        )
    };
    assert_eq!(revoke(&other_cookie, &sync.to_string(), &other_csrf).status, StatusCode::NOT_FOUND, "not theirs");
    assert_eq!(revoke(&cookie, "abc", &csrf).status, StatusCode::NOT_FOUND);
    assert_eq!(revoke(&cookie, &sync.to_string(), "wrong").status, StatusCode::FORBIDDEN);
    assert_eq!(api_write(&bearer).status, StatusCode::OK, "still working");
    assert_eq!(revoke(&cookie, &sync.to_string(), &csrf).status, StatusCode::SEE_OTHER);
    assert_eq!(api_write(&bearer).status, StatusCode::UNAUTHORIZED, "revoked: stops on the next request");
    assert_eq!(revoke(&cookie, &sync.to_string(), &csrf).status, StatusCode::NOT_FOUND, "already revoked");
    assert!(get(&rt, &app, "/account", &[("cookie", &cookie)]).body.contains("revoked"));

    let events = store
        .audit_events(&senda_store::accounts::AuditFilter {
            record: Some(format!("api_token:{sync}")),
            limit: 10,
            ..Default::default()
        })
        .expect("audit");
    let seen: Vec<(&str, &str)> = events.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert_eq!(seen, [("token.revoke", "coord@example.org"), ("token.create", "coord@example.org")]);
    // Each accepted results upload is one audit event naming the token and its person.
    let uploads = store
        .audit_events(&senda_store::accounts::AuditFilter {
            record: Some("values:results:cmms-2021".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("audit");
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    for e in &uploads {
        assert_eq!(e.action, "results.upload");
        assert_eq!(e.actor, format!("token:{sync} (coord@example.org)"));
        assert_eq!(e.token_id, Some(sync));
    }
}

/// A database with synthetic activities, a partner organisation and one person per role; the
/// app over it.
fn matrix_setup() -> (tempfile::TempDir, axum::Router, tokio::runtime::Runtime, String, String) {
    let (dir, mut store) = db();
    let file = dir.path().join("synthetic.xml");
    senda::generate::write_file(&file, 20, None, 7).expect("generate");
    senda::import::import(&mut store, &[file], false, false).expect("import");
    senda::commands::ensure_mappings(&mut store).expect("mappings");
    let first = store
        .list_activities(&senda_store::ActivityFilter {
            strategy: "cmms-2021".into(),
            limit: Some(1),
            ..Default::default()
        })
        .expect("list")
        .remove(0);
    let org = senda_core::accounts::NewOrganisation::parse("Partner", None, None, None, None, &[]).expect("org");
    let org = store.create_organisation(&Actor::cli(), &org, 1).expect("organisation");
    for (e, r, o) in [
        ("viewer@example.org", Role::Viewer, None),
        ("partner@example.org", Role::PartnerEditor, Some(org)),
        ("coord@example.org", Role::Coordinator, None),
        ("admin@example.org", Role::Administrator, None),
    ] {
        store
            .create_person(&Actor::cli(), &Email::parse(e).expect("email"), o, r, "$argon2id$unused", 1)
            .expect("person");
    }
    drop(store);
    let app = app(&dir.path().join("senda.db"));
    (dir, app, runtime(), first.iati_identifier, first.reporting_org)
}

/// Every route of the server (`auth::ROUTE_ACCESS`, which a unit test proves holds every
/// route of the router) for each principal: anonymous, viewer, partner editor, coordinator,
/// administrator. The status each gets.
const MATRIX: &[(&str, &str, [u16; 5])] = &[
    ("GET", "/", [200; 5]),
    ("GET", "/loe/{id}", [200; 5]),
    ("GET", "/country/{code}", [200; 5]),
    ("GET", "/activities", [200; 5]),
    ("GET", "/activities.csv", [200; 5]),
    ("GET", "/review", [200; 5]),
    ("GET", "/coverage", [200; 5]),
    ("GET", "/activity/{*id}", [200; 5]),
    ("GET", "/organisation", [200; 5]),
    ("GET", "/imports", [200; 5]),
    ("GET", "/imports/{id}", [200; 5]),
    ("GET", "/report", [200; 5]),
    ("GET", "/static/senda.css", [200; 5]),
    ("GET", "/favicon.ico", [200; 5]),
    ("GET", "/static/favicon.svg", [200; 5]),
    ("GET", "/login", [200; 5]),
    // No login CSRF cookie in the matrix: refused before any password is looked at.
    ("POST", "/login", [403; 5]),
    ("POST", "/logout", [401, 303, 303, 303, 303]),
    ("GET", "/account", [303, 200, 200, 200, 200]),
    ("POST", "/account/tokens", [401, 200, 200, 200, 200]),
    // Token 999999 is nobody's.
    ("POST", "/account/tokens/{id}/revoke", [401, 404, 404, 404, 404]),
    // Administration: accounts are the administrator's; the audit trail is read by whoever
    // reads everything (viewer, coordinator, administrator), not by a partner editor.
    ("GET", "/admin/organisations", [303, 403, 403, 403, 200]),
    // The matrix's form names an organisation "matrix": made.
    ("POST", "/admin/organisations", [401, 403, 403, 403, 303]),
    // No identifier in the matrix's form: 400 naming it.
    ("POST", "/admin/organisations/adopt", [401, 403, 403, 403, 400]),
    ("GET", "/admin/people", [303, 403, 403, 403, 200]),
    // No e-mail in the matrix's form: 400 naming it.
    ("POST", "/admin/people", [401, 403, 403, 403, 400]),
    // Person 999999 does not exist.
    ("POST", "/admin/people/{id}/disable", [401, 403, 403, 403, 404]),
    ("POST", "/admin/people/{id}/enable", [401, 403, 403, 403, 404]),
    ("POST", "/admin/people/{id}/role", [401, 403, 403, 403, 404]),
    ("GET", "/admin/audit", [303, 200, 403, 200, 200]),
    ("GET", "/admin/audit.csv", [303, 200, 403, 200, 200]),
    ("GET", "/api/v1/openapi.json", [200; 5]),
    ("GET", "/api/v1/strategies", [200; 5]),
    ("GET", "/api/v1/strategies/{id}", [200; 5]),
    ("GET", "/api/v1/activities", [200; 5]),
    ("GET", "/api/v1/activities/{*id}", [200; 5]),
    ("GET", "/api/v1/report", [200; 5]),
    ("GET", "/api/v1/organisations", [200; 5]),
    ("GET", "/api/v1/imports", [200; 5]),
    ("GET", "/api/v1/imports/{id}", [200; 5]),
    ("GET", "/api/v1/indicators", [200; 5]),
    ("GET", "/api/v1/statistics", [200; 5]),
    // No statistics imported: the series is unknown to everyone alike.
    ("GET", "/api/v1/statistics/{series}", [404; 5]),
    // Anonymous: writes disabled (no SENDA_API_TOKEN); viewers and partners may not write
    // imported data; coordinators and administrators may.
    ("POST", "/api/v1/results", [403, 403, 403, 200, 200]),
    // Interventions (issue 18): lists filtered by scope; record 1 does not exist; a write
    // needs someone who may edit some record (the matrix's form body is then not JSON: 400).
    ("GET", "/api/v1/interventions", [200; 5]),
    ("POST", "/api/v1/interventions", [401, 403, 400, 400, 400]),
    ("GET", "/api/v1/interventions/{id}", [404; 5]),
    ("POST", "/api/v1/interventions/{id}/workflow", [401, 403, 400, 400, 400]),
    ("PUT", "/api/v1/interventions/{id}", [401, 403, 428, 428, 428]),
    ("GET", "/interventions", [200; 5]),
    ("GET", "/interventions/new", [303, 403, 200, 200, 200]),
    ("POST", "/interventions/new", [303, 403, 400, 400, 400]),
    ("GET", "/interventions/{id}", [404; 5]),
    ("GET", "/interventions/{id}/edit", [404; 5]),
    ("POST", "/interventions/{id}/edit", [303, 404, 404, 404, 404]),
    ("POST", "/interventions/{id}/workflow", [303, 404, 404, 404, 404]),
    // Partner contributions (issue 18): the same way; contribution 1 does not exist, and the
    // matrix's form body is not JSON, so anyone signed in gets 400 before the record is read.
    ("GET", "/api/v1/contributions", [200; 5]),
    ("POST", "/api/v1/contributions", [401, 403, 400, 400, 400]),
    ("POST", "/api/v1/contributions/{id}/publish", [401, 400, 400, 400, 400]),
    // The reporting cycle (issue 18, item 5): the page asks the public to sign in; a report
    // form needs an intervention to report on (none here: 400 for those who may enter any,
    // 403 for a viewer); report 1 does not exist; locking is a coordinator's (no period: 400).
    ("GET", "/api/v1/reports", [200; 5]),
    ("POST", "/api/v1/reports", [401, 403, 400, 400, 400]),
    ("POST", "/api/v1/reports/{id}/review", [401, 400, 400, 400, 400]),
    ("GET", "/reporting", [303, 200, 200, 200, 200]),
    ("POST", "/reporting/reports", [303, 403, 400, 400, 400]),
    ("POST", "/reporting/reports/{id}/review", [303, 404, 404, 404, 404]),
    ("POST", "/reporting/locks", [303, 403, 403, 400, 400]),
];

#[test]
fn every_route_answers_every_role_as_the_policy_says() {
    let (dir, app, rt, activity, reporting_org) = matrix_setup();
    let store = senda_store::SqliteStore::open(&dir.path().join("senda.db")).expect("open");
    let people = ["viewer@example.org", "partner@example.org", "coord@example.org", "admin@example.org"];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Every declared route is in the matrix, and every matrix row is a declared route.
    for (m, r, _, _) in senda_web::auth::ROUTE_ACCESS {
        assert!(MATRIX.iter().any(|(mm, mr, _)| mm == m && mr == r), "{m} {r} has no row in the matrix");
    }
    assert_eq!(MATRIX.len(), senda_web::auth::ROUTE_ACCESS.len());
    let mut n = 0;
    for (method, route, expected) in MATRIX {
        let uri = match *route {
            "/loe/{id}" => "/loe/LOE5".to_owned(),
            "/country/{code}" => "/country/GT".to_owned(),
            "/activity/{*id}" => format!("/activity/{activity}"),
            "/organisation" => format!("/organisation?name={}", senda_web::query::enc(&reporting_org)),
            "/imports/{id}" | "/api/v1/imports/{id}" => route.replace("{id}", "1"),
            "/account/tokens/{id}/revoke" => "/account/tokens/999999/revoke".to_owned(),
            "/admin/people/{id}/disable" | "/admin/people/{id}/enable" | "/admin/people/{id}/role" => {
                route.replace("{id}", "999999")
            }
            "/api/v1/strategies/{id}" => "/api/v1/strategies/cmms-2021".to_owned(),
            "/api/v1/activities/{*id}" => format!("/api/v1/activities/{activity}"),
            "/api/v1/statistics/{series}" => "/api/v1/statistics/NO-SUCH-SERIES".to_owned(),
            "/api/v1/interventions/{id}" => "/api/v1/interventions/1".to_owned(),
            "/api/v1/interventions/{id}/workflow" => "/api/v1/interventions/1/workflow".to_owned(),
            "/api/v1/contributions/{id}/publish" => "/api/v1/contributions/1/publish".to_owned(),
            "/interventions/new" => "/interventions/new?instrument=diplomacy".to_owned(),
            "/interventions/{id}" | "/interventions/{id}/edit" | "/interventions/{id}/workflow" => {
                route.replace("{id}", "1")
            }
            "/reporting/reports/{id}/review" => "/reporting/reports/1/review".to_owned(),
            "/api/v1/reports/{id}/review" => "/api/v1/reports/1/review".to_owned(),
            other => {
                assert!(!other.contains('{'), "{other}: give the matrix a concrete path");
                other.to_owned()
            }
        };
        for (who, want) in expected.iter().enumerate() {
            let mut headers: Vec<(String, String)> = Vec::new();
            let mut csrf = String::new();
            if who > 0 {
                // A fresh session for each request (sign-out ends one).
                n += 1;
                let (p, _) =
                    store.person_for_login(&Email::parse(people[who - 1]).expect("e")).expect("read").expect("found");
                let caller = senda_core::accounts::Caller {
                    person_id: p.id,
                    email: p.email,
                    organisation_id: p.organisation_id,
                    role: p.role,
                    token_id: None,
                };
                let sid = format!("matrix-session-{n}");
                csrf = format!("matrix-csrf-{n}");
                store.create_session(&caller, &secret_digest(&sid), &csrf, now).expect("session");
                headers.push(("cookie".into(), format!("senda_session={sid}")));
                headers.push(("x-csrf-token".into(), csrf.clone()));
            }
            let body = match *route {
                "/api/v1/results" => {
                    headers.push(("content-type".into(), "application/json".into()));
                    r#"{"strategy":"cmms-2021","values":[]}"#.to_owned()
                }
                "/login" => {
                    headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
                    "email=coord%40example.org&password=x&csrf=x".to_owned()
                }
                _ if *method == "POST" => {
                    headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
                    format!("name=matrix&days=1&csrf={csrf}")
                }
                _ => String::new(),
            };
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = send(&rt, &app, method, &uri, &h, &body);
            let role = ["anonymous", "viewer", "partner editor", "coordinator", "administrator"][who];
            assert_eq!(r.status.as_u16(), *want, "{method} {uri} as {role}: {}", &r.body[..r.body.len().min(300)]);
        }
    }
}

#[test]
fn a_form_write_with_a_session_needs_the_sessions_csrf_in_the_header_or_the_form() {
    let (_dir, app, rt) = setup();
    let session = login(&rt, &app, "viewer@example.org", None);
    let cookie = format!("senda_session={session}");
    let csrf = hidden_csrf(&get(&rt, &app, "/account", &[("cookie", &cookie)]).body);
    let post = |headers: &[(&str, &str)], body: &str| {
        let mut h = vec![("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        send(&rt, &app, "POST", "/account/tokens", &h, body).status
    };
    assert_eq!(post(&[], "name=a&days=1"), StatusCode::FORBIDDEN);
    assert_eq!(post(&[("x-csrf-token", "nope")], &format!("name=a&days=1&csrf={csrf}")), StatusCode::FORBIDDEN);
    assert_eq!(post(&[("x-csrf-token", &csrf)], "name=a&days=1"), StatusCode::OK);
    assert_eq!(post(&[], &format!("name=b&days=1&csrf={csrf}")), StatusCode::OK);
}

#[test]
fn an_upload_with_the_legacy_token_is_audited_as_senda_api_token() {
    let (dir, store) = db();
    let token = "a-legacy-token-of-24-chars";
    let state = senda_web::AppState::new(dir.path().join("senda.db").display().to_string())
        .expect("state")
        .with_write_token(Some(token.to_owned()));
    let app = senda_web::router(std::sync::Arc::new(state));
    let rt = runtime();
    let r = send(
        &rt,
        &app,
        "POST",
        "/api/v1/results",
        &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")],
        r#"{"strategy":"cmms-2021","values":[]}"#,
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let events = store
        .audit_events(&senda_store::accounts::AuditFilter {
            record: Some("values:results:cmms-2021".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("audit");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].action.as_str(), events[0].actor.as_str()), ("results.upload", "SENDA_API_TOKEN"));
    assert_eq!(events[0].person_id, None);
}

/// Disabled through this server (the administrator's form): the very next request of the
/// disabled person is refused, although their session was remembered a moment before.
#[test]
fn a_person_disabled_through_the_server_is_refused_on_the_next_request() {
    let (dir, app, rt) = setup();
    let store = senda_store::SqliteStore::open(&dir.path().join("senda.db")).expect("open");
    let hash = hash_password(&Password::parse(PW).expect("valid"), &[2; 16]).expect("hash");
    store
        .create_person(
            &Actor::cli(),
            &Email::parse("admin@example.org").expect("e"),
            None,
            Role::Administrator,
            &hash,
            1,
        )
        .expect("admin");
    let (viewer, _) =
        store.person_for_login(&Email::parse("viewer@example.org").expect("e")).expect("read").expect("found");
    let v = format!("senda_session={}", login(&rt, &app, "viewer@example.org", None));
    let a = format!("senda_session={}", login(&rt, &app, "admin@example.org", None));
    for _ in 0..3 {
        assert_eq!(get(&rt, &app, "/account", &[("cookie", &v)]).status, StatusCode::OK, "remembered");
    }
    let csrf = hidden_csrf(&get(&rt, &app, "/account", &[("cookie", &a)]).body);
    let r = send(
        &rt,
        &app,
        "POST",
        &format!("/admin/people/{}/disable", viewer.id),
        &[("cookie", &a), ("x-csrf-token", &csrf), ("content-type", "application/x-www-form-urlencoded")],
        "",
    );
    assert!(r.status.is_redirection() || r.status.is_success(), "{} {}", r.status, r.body);
    assert_eq!(get(&rt, &app, "/account", &[("cookie", &v)]).status, StatusCode::SEE_OTHER, "refused at once");
}

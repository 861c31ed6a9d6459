//! Signing in and out of the web server, and access decided in one place (issue 17): cookie
//! attributes, CSRF on forms and on cookie-authenticated API writes, no session fixation,
//! the login throttle, disabled accounts and API tokens.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use senda_core::accounts::{Email, Password, Role, hash_password, secret_digest};
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

//! Who is asking, and may they (issue 17). One middleware ([`identify`]) runs before every
//! handler: it finds the caller from the session cookie or an `Authorization: Bearer` API
//! token, asks the policy (`senda_core::accounts::decide`) whether the caller may use the
//! route as [`ROUTE_ACCESS`] declares it, and hands the handler an [`Identity`]. Handlers never
//! check roles themselves.
//!
//! Sessions live in the database (`web_session`, by the SHA-256 of the cookie's value), so
//! several servers share them and disabling a person or changing their role ends them at once.
//! Cookies are `Secure; HttpOnly; SameSite=Lax`. `Secure` cookies are kept by browsers over
//! plain HTTP only for `localhost` and `127.0.0.1` (both count as secure contexts in current
//! Chromium and Firefox): on loopback Senda works without TLS; anywhere else put TLS in front
//! (README, "Running Senda for a team").
//!
//! Login (`POST /login`): a CSRF token bound to a cookie set with the form (double submit),
//! at most [`MAX_FAILURES`] failures per minute per account and per client address (the next
//! attempt is refused before any password is checked, 429), every failure logged; Argon2id
//! runs on the blocking pool, at most [`PARALLEL_HASHES`] at once, so logins never stall the
//! async workers. A new session id is made at every login (a session id set before login is
//! never the one after). Logout (`POST /logout`) needs the session's CSRF token.

use crate::AppState;
use crate::error::{ApiError, WebError};
use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{DOCTYPE, Markup, html};
use senda_core::accounts::{
    Action, Caller, Decision, Email, Principal, Resource, TOKEN_PREFIX, decide, encode_secret, secret_digest,
    verify_password,
};
use senda_store::accounts::SessionLimits;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The session cookie.
pub const SESSION_COOKIE: &str = "senda_session";
/// The login form's CSRF cookie (double submit, before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "senda_login_csrf";
/// A session unused this long ends (seconds): 30 minutes.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// A session ends this long after login, used or not (seconds): 12 hours.
pub const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// Failed logins per minute per account and per address before the next is refused unchecked.
pub const MAX_FAILURES: usize = 10;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Argon2id verifications running at once (each takes 19 MiB and one core for ~30 ms).
pub const PARALLEL_HASHES: usize = 2;

/// The session limits in force.
pub const LIMITS: SessionLimits = SessionLimits { idle: IDLE_SECONDS, absolute: ABSOLUTE_SECONDS };

/// The client's address (set per connection by the server; absent in-process).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The caller as every handler sees it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Who.
    pub principal: Principal,
    /// The session's CSRF token (forms of a signed-in person carry it).
    pub csrf: Option<String>,
    /// The digest of the session id, when signed in by cookie.
    pub session: Option<String>,
}

impl Identity {
    fn anonymous() -> Self {
        Identity { principal: Principal::Anonymous, csrf: None, session: None }
    }
}

/// In-memory login throttle and hashing limit (one per server).
pub struct Auth {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    hashing: Semaphore,
}

impl Default for Auth {
    fn default() -> Self {
        Auth { failures: Mutex::new(HashMap::new()), hashing: Semaphore::new(PARALLEL_HASHES) }
    }
}

impl Auth {
    fn recent(&self, key: &str, now: Instant) -> usize {
        let Ok(mut f) = self.failures.lock() else { return MAX_FAILURES };
        let q = f.entry(key.to_owned()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW) {
            q.pop_front();
        }
        q.len()
    }

    fn fail(&self, key: &str, now: Instant) {
        if let Ok(mut f) = self.failures.lock() {
            f.entry(key.to_owned()).or_default().push_back(now);
            if f.len() > 100_000 {
                f.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= FAILURE_WINDOW));
            }
        }
    }
}

/// How a route is used, as the policy sees it: `(action, resource)`. Every route of the
/// server has an entry (a test walks the route table); the first matching prefix wins.
pub const ROUTE_ACCESS: &[(&str, Action, Resource)] = &[
    ("/login", Action::Read, PUBLIC),
    ("/logout", Action::Write, Resource::OwnAccount),
    ("/account", Action::Read, Resource::OwnAccount),
    // Indicator values written through the API: a coordinator's (or the legacy
    // SENDA_API_TOKEN, checked by the handler).
    ("/api/v1/results", Action::Write, PUBLIC),
    // Everything else is a read of published data (imported IATI data is public).
    ("/", Action::Read, PUBLIC),
];

const PUBLIC: Resource = Resource::Record { owner: None, published: true };

/// The `(action, resource)` a request asks for: the route table's entry; a GET or HEAD of a
/// write route is a read (the router then answers 405), and any other method on a read route
/// stays a read (no handler there writes; the router answers 405).
pub fn access_of(method: &Method, path: &str) -> (Action, Resource) {
    let (_, action, resource) = ROUTE_ACCESS
        .iter()
        .find(|(p, _, _)| path == *p || (path.starts_with(p) && (p.ends_with('/') || path[p.len()..].starts_with('/'))))
        .copied()
        .unwrap_or(("/", Action::Read, PUBLIC));
    let action = if matches!(*method, Method::GET | Method::HEAD) { Action::Read } else { action };
    (action, resource)
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn random_secret() -> Result<String, WebError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("no randomness: {e}")))?;
    Ok(encode_secret(&b))
}

/// The one place access is decided: finds the caller (session cookie or a `senda_` bearer
/// token), applies [`decide`] to the route's [`access_of`], and passes an [`Identity`] on.
/// A session cookie that is unknown, expired or whose person is disabled is anonymous (and
/// cleared); a `senda_` bearer token that is not valid is a 401.
pub async fn identify(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let mut clear_cookie = false;
    let identity = if let Some(token) = bearer(headers).filter(|t| t.starts_with(TOKEN_PREFIX)) {
        let digest = secret_digest(token);
        match state.pool.run(move |s| s.token_caller(&digest, now())).await {
            Ok(Some(c)) => Identity { principal: Principal::Person(c), csrf: None, session: None },
            Ok(None) => {
                return denied(
                    StatusCode::UNAUTHORIZED,
                    "the API token is unknown, expired or revoked, or its account is disabled",
                );
            }
            Err(e) => return ApiError(e).into_response(),
        }
    } else if let Some(value) = cookie(headers, SESSION_COOKIE) {
        let digest = secret_digest(value);
        let d = digest.clone();
        match state.pool.run(move |s| s.session(&d, LIMITS, now())).await {
            Ok(Some(info)) => {
                Identity { principal: Principal::Person(info.caller), csrf: Some(info.csrf), session: Some(digest) }
            }
            Ok(None) => {
                clear_cookie = true;
                Identity::anonymous()
            }
            Err(e) => return ApiError(e).into_response(),
        }
    } else {
        Identity::anonymous()
    };
    // CSRF: a state change made with the session cookie carries the session's token, in the
    // `X-CSRF-Token` header (API) or, for the two forms, in their `csrf` field (checked by
    // `login` and `logout`). Bearer tokens are not sent by browsers on their own: no check.
    let path = req.uri().path();
    if let Some(expected) = &identity.csrf
        && !matches!(*req.method(), Method::GET | Method::HEAD)
        && path != "/login"
        && path != "/logout"
    {
        let given = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !same(expected, given) {
            return denied(StatusCode::FORBIDDEN, "csrf: X-CSRF-Token header missing or wrong for this session");
        }
    }
    let (action, resource) = access_of(req.method(), req.uri().path());
    let legacy_results = req.uri().path() == "/api/v1/results" && matches!(identity.principal, Principal::Anonymous);
    match decide(&identity.principal, action, resource) {
        Decision::Allow => {}
        _ if legacy_results => {} // the handler checks SENDA_API_TOKEN
        Decision::SignIn if req.method() == Method::GET && !req.uri().path().starts_with("/api/") => {
            return Redirect::to("/login").into_response();
        }
        Decision::SignIn => return denied(StatusCode::UNAUTHORIZED, "sign in first (POST /login, or an API token)"),
        Decision::Deny => return denied(StatusCode::FORBIDDEN, "your role does not allow this"),
    }
    req.extensions_mut().insert(identity);
    let mut resp = next.run(req).await;
    if clear_cookie {
        resp.headers_mut().append(header::SET_COOKIE, clear(SESSION_COOKIE, "/"));
    }
    resp
}

fn denied(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn clear(name: &str, path: &str) -> HeaderValue {
    set_cookie(name, "", path, 0)
}

/// The account routes (`/login`, `/logout`, `/account`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account))
}

/// English or Spanish, from `?lang=` or `Accept-Language`.
fn spanish(headers: &HeaderMap, query: Option<&str>) -> bool {
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("lang=") {
                return v.starts_with("es");
            }
        }
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("es"))
}

/// The texts of the account pages, the same keys in both languages.
fn t(es: bool, key: &str) -> &'static str {
    match (key, es) {
        ("login", false) => "Sign in",
        ("login", true) => "Iniciar sesión",
        ("email", false) => "E-mail",
        ("email", true) => "Correo electrónico",
        ("password", false) => "Password",
        ("password", true) => "Contraseña",
        ("failed", false) => "Wrong e-mail or password.",
        ("failed", true) => "Correo o contraseña incorrectos.",
        ("throttled", false) => "Too many failed attempts: wait a minute and try again.",
        ("throttled", true) => "Demasiados intentos fallidos: espere un minuto y vuelva a intentarlo.",
        ("account", false) => "My account",
        ("account", true) => "Mi cuenta",
        ("role", false) => "Role",
        ("role", true) => "Rol",
        ("organisation", false) => "Organisation",
        ("organisation", true) => "Organización",
        ("logout", false) => "Sign out",
        ("logout", true) => "Cerrar sesión",
        _ => "",
    }
}

fn page(es: bool, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if es { "es" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Senda" }
                link rel="stylesheet" href="/static/senda.css";
            }
            body { main { h1 { (title) } (body) } }
        }
    }
}

fn login_page(es: bool, csrf: &str, error: Option<&str>) -> Markup {
    page(
        es,
        t(es, "login"),
        html! {
            @if let Some(e) = error { p role="alert" class="error" { (e) } }
            form method="post" action=(if es { "/login?lang=es" } else { "/login" }) {
                input type="hidden" name="csrf" value=(csrf);
                p { label for="email" { (t(es, "email")) } br; input id="email" name="email" type="email" autocomplete="username" required; }
                p { label for="password" { (t(es, "password")) } br; input id="password" name="password" type="password" autocomplete="current-password" required; }
                p { button type="submit" { (t(es, "login")) } }
            }
        },
    )
}

async fn login_form(headers: HeaderMap, uri: axum::http::Uri) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let csrf = random_secret()?;
    let mut resp = Html(login_page(es, &csrf, None).into_string()).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, &csrf, "/login", 3600));
    Ok(resp)
}

/// The login form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Password.
    #[serde(default)]
    pub password: String,
    /// The CSRF token of the form.
    #[serde(default)]
    pub csrf: String,
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn login(
    State(state): State<Arc<AppState>>,
    Extension(auth): Extension<Arc<Auth>>,
    Extension(identity): Extension<Identity>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(expected, &f.csrf) {
        return Ok(denied(
            StatusCode::FORBIDDEN,
            "csrf: the form's token is missing or does not match; load /login again",
        ));
    }
    let retry = |status: StatusCode, message: &str| -> Result<Response, ApiError> {
        let csrf = random_secret()?;
        let mut resp = (status, Html(login_page(es, &csrf, Some(message)).into_string())).into_response();
        resp.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, &csrf, "/login", 3600));
        Ok(resp)
    };
    let address = peer.map(|Extension(Peer(a))| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let email_key = format!("email:{}", f.email.trim().to_lowercase());
    let address_key = format!("address:{address}");
    let t0 = Instant::now();
    if auth.recent(&email_key, t0) >= MAX_FAILURES || auth.recent(&address_key, t0) >= MAX_FAILURES {
        tracing::warn!(email = %f.email.trim(), %address, "login refused: too many failures in the last minute");
        return retry(StatusCode::TOO_MANY_REQUESTS, t(es, "throttled"));
    }
    let email = Email::parse(&f.email).ok();
    let found = match email.clone() {
        Some(e) => state.pool.run(move |s| s.person_for_login(&e)).await?,
        None => None,
    };
    let _permit = auth.hashing.acquire().await.map_err(|_| WebError::Internal("hashing closed".into()))?;
    let password = f.password;
    let hash = found.as_ref().map(|(_, h)| h.clone());
    // A hash is checked even for an unknown e-mail, so the time taken does not tell which
    // addresses have accounts.
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| WebError::Internal(format!("worker: {e}")))?;
    drop(_permit);
    let person = match found {
        Some((p, _)) if ok && !p.disabled => p,
        other => {
            auth.fail(&email_key, t0);
            auth.fail(&address_key, t0);
            let why = match other {
                Some((p, _)) if p.disabled => "account disabled",
                Some(_) => "wrong password",
                None => "unknown e-mail",
            };
            tracing::warn!(email = %f.email.trim(), %address, reason = why, "login failed");
            return retry(StatusCode::UNAUTHORIZED, t(es, "failed"));
        }
    };
    let caller = Caller {
        person_id: person.id,
        email: person.email.clone(),
        organisation_id: person.organisation_id,
        role: person.role,
        token_id: None,
    };
    let session = random_secret()?;
    let csrf = random_secret()?;
    let digest = secret_digest(&session);
    let old = identity.session.clone();
    state
        .pool
        .run(move |s| {
            if let Some(old) = old {
                s.end_session(&old, now())?;
            }
            s.create_session(&caller, &digest, &csrf, now())
        })
        .await?;
    tracing::info!(email = %person.email, %address, "signed in");
    let mut resp = Redirect::to(if es { "/account?lang=es" } else { "/account" }).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &session, "/", ABSOLUTE_SECONDS));
    h.append(header::SET_COOKIE, clear(LOGIN_CSRF_COOKIE, "/login"));
    Ok(resp)
}

/// A hash checked when the e-mail is unknown (made once, with the same parameters as real ones).
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        senda_core::accounts::Password::parse("no account has this password")
            .ok()
            .and_then(|p| senda_core::accounts::hash_password(&p, &[0; senda_core::accounts::SALT_BYTES]).ok())
            .unwrap_or_default()
    })
}

/// The logout form's field.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

async fn logout(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let (Some(digest), Some(expected)) = (identity.session, identity.csrf) else {
        return Ok(denied(StatusCode::FORBIDDEN, "csrf: sign out with the form of a signed-in page"));
    };
    if !same(&expected, &f.csrf) {
        return Ok(denied(StatusCode::FORBIDDEN, "csrf: the form's token is missing or does not match"));
    }
    state.pool.run(move |s| s.end_session(&digest, now())).await?;
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear(SESSION_COOKIE, "/"));
    Ok(resp)
}

async fn account(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let Principal::Person(c) = identity.principal else {
        return Ok(Redirect::to("/login").into_response());
    };
    let org = match c.organisation_id {
        Some(id) => state.pool.run(move |s| s.organisation(id)).await?.map(|o| o.name),
        None => None,
    };
    let body = html! {
        dl {
            dt { (t(es, "email")) } dd { (c.email) }
            dt { (t(es, "role")) } dd { (c.role.as_str()) }
            dt { (t(es, "organisation")) } dd { (org.unwrap_or_else(|| "-".into())) }
        }
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(identity.csrf.unwrap_or_default());
            button type="submit" { (t(es, "logout")) }
        }
    };
    Ok(Html(page(es, t(es, "account"), body).into_string()).into_response())
}

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
use crate::auth_cache::Known;
use crate::error::{ApiError, WebError};
use axum::extract::{Form, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{DOCTYPE, Markup, html};
use senda_core::accounts::{
    Action, Caller, Decision, Email, NewToken, Principal, ReadScope, Resource, Role, TOKEN_PREFIX, decide,
    encode_secret, secret_digest, verify_password,
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
    pub(crate) hashing: Semaphore,
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

/// How each route is used, as the policy sees it: `(method, route, action, resource)`, the
/// route written as the router has it (`/activity/{*id}`). The middleware looks the matched
/// route up here; a route without an entry is refused to everyone (fail closed), and a test
/// walks every route of the router and asserts it has one. `HEAD` is looked up as `GET`.
pub const ROUTE_ACCESS: &[(&str, &str, Action, Resource)] = &[
    // Pages of published data (imported IATI data is public).
    ("GET", "/", Action::Read, PUBLIC),
    ("GET", "/loe/{id}", Action::Read, PUBLIC),
    ("GET", "/country/{code}", Action::Read, PUBLIC),
    ("GET", "/activities", Action::Read, PUBLIC),
    ("GET", "/activities.csv", Action::Read, PUBLIC),
    ("GET", "/activity/{*id}", Action::Read, PUBLIC),
    // The review queue of the rules' mappings (issue 19): read from the same public data.
    ("GET", "/review", Action::Read, PUBLIC),
    ("GET", "/organisation", Action::Read, PUBLIC),
    ("GET", "/imports", Action::Read, PUBLIC),
    ("GET", "/coverage", Action::Read, PUBLIC),
    ("GET", "/imports/{id}", Action::Read, PUBLIC),
    ("GET", "/report", Action::Read, PUBLIC),
    ("GET", "/static/senda.css", Action::Read, PUBLIC),
    ("GET", "/favicon.ico", Action::Read, PUBLIC),
    ("GET", "/static/favicon.svg", Action::Read, PUBLIC),
    // Signing in: anyone may try (the form's CSRF and the throttle are checked by `login`).
    ("GET", "/login", Action::Read, PUBLIC),
    ("POST", "/login", Action::Read, PUBLIC),
    // One's own account: any signed-in person.
    ("POST", "/logout", Action::Write, Resource::OwnAccount),
    ("GET", "/account", Action::Read, Resource::OwnAccount),
    ("POST", "/account/tokens", Action::Write, Resource::OwnAccount),
    ("POST", "/account/tokens/{id}/revoke", Action::Write, Resource::OwnAccount),
    // Administration (crate::admin): organisations and people for administrators; the audit
    // trail for whoever the policy lets read it.
    ("GET", "/admin/organisations", Action::Read, Resource::Accounts),
    ("POST", "/admin/organisations", Action::Write, Resource::Accounts),
    ("POST", "/admin/organisations/adopt", Action::Write, Resource::Accounts),
    ("GET", "/admin/people", Action::Read, Resource::Accounts),
    ("POST", "/admin/people", Action::Write, Resource::Accounts),
    ("POST", "/admin/people/{id}/disable", Action::Write, Resource::Accounts),
    ("POST", "/admin/people/{id}/enable", Action::Write, Resource::Accounts),
    ("POST", "/admin/people/{id}/role", Action::Write, Resource::Accounts),
    ("GET", "/admin/audit", Action::Read, Resource::Audit),
    ("GET", "/admin/audit.csv", Action::Read, Resource::Audit),
    // The JSON API: reads of published data.
    ("GET", "/api/v1/openapi.json", Action::Read, PUBLIC),
    ("GET", "/api/v1/strategies", Action::Read, PUBLIC),
    ("GET", "/api/v1/strategies/{id}", Action::Read, PUBLIC),
    ("GET", "/api/v1/activities", Action::Read, PUBLIC),
    ("GET", "/api/v1/activities/{*id}", Action::Read, PUBLIC),
    ("GET", "/api/v1/report", Action::Read, PUBLIC),
    ("GET", "/api/v1/organisations", Action::Read, PUBLIC),
    ("GET", "/api/v1/imports", Action::Read, PUBLIC),
    ("GET", "/api/v1/imports/{id}", Action::Read, PUBLIC),
    ("GET", "/api/v1/indicators", Action::Read, PUBLIC),
    ("GET", "/api/v1/statistics", Action::Read, PUBLIC),
    ("GET", "/api/v1/statistics/{series}", Action::Read, PUBLIC),
    // Indicator values written through the API: a coordinator's (or the legacy
    // SENDA_API_TOKEN, checked by the handler, for a caller who is not signed in).
    ("POST", "/api/v1/results", Action::Write, PUBLIC),
    // Interventions entered in Senda (issue 18): reads are filtered by the caller's ReadScope
    // in the store; a write is decided per record by the handler with the record's owner and
    // state (`Intervention::may_create`, `intervention::may_move`, both `decide`).
    ("GET", "/api/v1/interventions", Action::Read, PUBLIC),
    ("POST", "/api/v1/interventions", Action::Read, PUBLIC),
    ("GET", "/api/v1/interventions/{id}", Action::Read, PUBLIC),
    ("POST", "/api/v1/interventions/{id}/workflow", Action::Read, PUBLIC),
    ("PUT", "/api/v1/interventions/{id}", Action::Read, PUBLIC),
    // Partner contributions (issue 18, item 2), the same way: reads filtered by the caller's
    // ReadScope in the store; a write decided per record by the handler
    // (`Contribution::may_record`, `contribution::may_publish`, both `decide`).
    ("GET", "/api/v1/contributions", Action::Read, PUBLIC),
    ("POST", "/api/v1/contributions", Action::Read, PUBLIC),
    ("POST", "/api/v1/contributions/{id}/publish", Action::Read, PUBLIC),
    // The reporting cycle's API (issue 18, item 5; crate::reports_api), the same way: reads
    // filtered by the caller's ReadScope in the store; each write decided by the handler
    // (`reporting::may_step`, `decide`).
    ("GET", "/api/v1/reports", Action::Read, PUBLIC),
    ("POST", "/api/v1/reports", Action::Read, PUBLIC),
    ("POST", "/api/v1/reports/{id}/review", Action::Read, PUBLIC),
    // Their pages (crate::intervention_pages), the same way: lists and records filtered by the
    // caller's ReadScope in the store (404 for a record not seen), forms and writes decided per
    // record by the handler (`may_edit_some`, `may_edit`, `may_move`); forms carry the CSRF token.
    ("GET", "/interventions", Action::Read, PUBLIC),
    ("GET", "/interventions/new", Action::Read, PUBLIC),
    ("POST", "/interventions/new", Action::Read, PUBLIC),
    ("GET", "/interventions/{id}", Action::Read, PUBLIC),
    ("GET", "/interventions/{id}/edit", Action::Read, PUBLIC),
    ("POST", "/interventions/{id}/edit", Action::Read, PUBLIC),
    ("POST", "/interventions/{id}/workflow", Action::Read, PUBLIC),
    // The reporting cycle (crate::reporting_pages), the same way: the page asks the reader to
    // sign in and reads through the caller's ReadScope; each write is decided by the handler
    // with the report's owner and state (`reporting::may_step`, `may_lock`, both `decide`).
    ("GET", "/reporting", Action::Read, PUBLIC),
    ("POST", "/reporting/reports", Action::Read, PUBLIC),
    ("POST", "/reporting/reports/{id}/review", Action::Read, PUBLIC),
    ("POST", "/reporting/locks", Action::Read, PUBLIC),
];

const PUBLIC: Resource = Resource::Record { owner: None, published: true };

/// The `(action, resource)` of `method` on `route` (the router's pattern, e.g.
/// `/activity/{*id}`): its [`ROUTE_ACCESS`] entry, or `None` when it has none (then the
/// request is refused: access fails closed).
pub fn access_of(method: &Method, route: &str) -> Option<(Action, Resource)> {
    let m = if *method == Method::HEAD { "GET" } else { method.as_str() };
    ROUTE_ACCESS.iter().find(|(rm, r, _, _)| *rm == m && *r == route).map(|(_, _, a, res)| (*a, *res))
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

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn random_secret() -> Result<String, WebError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("no randomness: {e}")))?;
    Ok(encode_secret(&b))
}

/// The one place access is decided: finds the caller (session cookie or a `senda_` bearer
/// token), applies [`decide`] to the matched route's [`access_of`] (no entry: refused), and
/// passes an [`Identity`] on. It runs for every request that matches a route (a route layer:
/// unknown paths are 404s and wrong methods 405s, answered without it). A session cookie that
/// is unknown, expired or whose person is disabled is anonymous (and cleared); a `senda_`
/// bearer token that is not valid is a 401.
pub async fn identify(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let Some((action, resource)) = route.as_deref().and_then(|r| access_of(req.method(), r)) else {
        // A method the route does not declare: 405 with the declared methods (the router
        // would answer the same when no handler has it; when one has, it stays unreachable).
        let declared: Vec<&str> =
            ROUTE_ACCESS.iter().filter(|(_, r, _, _)| Some(*r) == route.as_deref()).map(|(m, _, _, _)| *m).collect();
        if !declared.is_empty() {
            let mut allow: Vec<&str> = declared.clone();
            if declared.contains(&"GET") {
                allow.push("HEAD");
            }
            let mut resp = StatusCode::METHOD_NOT_ALLOWED.into_response();
            if let Ok(v) = HeaderValue::from_str(&allow.join(",")) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return resp;
        }
        tracing::error!(method = %req.method(), route = ?route, "a route without an access rule in auth::ROUTE_ACCESS: refused");
        return denied(StatusCode::FORBIDDEN, "this route has no access rule; it is refused to everyone");
    };
    let route = route.unwrap_or_default();
    let headers = req.headers();
    let mut clear_cookie = false;
    let identity = if let Some(token) = bearer(headers).filter(|t| t.starts_with(TOKEN_PREFIX)) {
        let digest = secret_digest(token);
        let mark = match audit_mark(&state).await {
            Ok(m) => m,
            Err(e) => return ApiError(e).into_response(),
        };
        let known = match state.auth.get(&digest, mark) {
            Some(Known::Token(c)) => Ok(Some(c)),
            _ => {
                let d = digest.clone();
                state.pool.run(move |s| s.token_caller(&d, now())).await
            }
        };
        match known {
            Ok(Some(c)) => {
                state.auth.put(digest, Known::Token(c.clone()), mark);
                Identity { principal: Principal::Person(c), csrf: None, session: None }
            }
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
        let mark = match audit_mark(&state).await {
            Ok(m) => m,
            Err(e) => return ApiError(e).into_response(),
        };
        let known = match state.auth.get(&digest, mark) {
            Some(Known::Session(info)) => Ok(Some(info)),
            _ => {
                let d = digest.clone();
                state.pool.run(move |s| s.session(&d, LIMITS, now())).await
            }
        };
        match known {
            Ok(Some(info)) => {
                state.auth.put(digest.clone(), Known::Session(info.clone()), mark);
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
    // `X-CSRF-Token` header (API) or in the `csrf` field of a form body (pages), checked here
    // for every route. The login form has no session yet: `login` checks its own
    // double-submit token. Bearer tokens are not sent by browsers on their own: no check.
    let mut req = req;
    if let Some(expected) = &identity.csrf
        && !matches!(*req.method(), Method::GET | Method::HEAD)
        && route != "/login"
    {
        let header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let given = match header {
            Some(h) => Some(h),
            None if is_form(req.headers()) => {
                let (parts, body) = req.into_parts();
                let bytes = match axum::body::to_bytes(body, crate::MAX_BODY).await {
                    Ok(b) => b,
                    Err(_) => return denied(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
                };
                let field = form_field(&bytes, "csrf");
                req = Request::from_parts(parts, axum::body::Body::from(bytes));
                field
            }
            None => None,
        };
        if !given.is_some_and(|g| same(expected, &g)) {
            return denied(
                StatusCode::FORBIDDEN,
                "csrf: the X-CSRF-Token header or the form's csrf field is missing or wrong for this session",
            );
        }
    }
    let legacy_results = route == "/api/v1/results" && matches!(identity.principal, Principal::Anonymous);
    match decide(&identity.principal, action, resource) {
        Decision::Allow => {}
        _ if legacy_results => {} // the handler checks SENDA_API_TOKEN
        Decision::SignIn if req.method() == Method::GET && !route.starts_with("/api/") => {
            return Redirect::to("/login").into_response();
        }
        Decision::SignIn => return denied(StatusCode::UNAUTHORIZED, "sign in first (POST /login, or an API token)"),
        Decision::Deny => return denied(StatusCode::FORBIDDEN, "your role does not allow this"),
    }
    let scope = ReadScope::of(&identity.principal);
    req.extensions_mut().insert(identity);
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let mut resp = crate::state::with_read_scope(scope, next.run(req)).await;
    if writes {
        // Any write through this server may have changed an account (a logout, a disabled
        // person, a new role, a revoked token): nothing remembered outlives it.
        state.auth.clear();
    }
    if clear_cookie {
        resp.headers_mut().append(header::SET_COOKIE, clear(SESSION_COOKIE, "/"));
    }
    resp
}

/// The audit mark the signed-in callers remembered are valid under (`auth_cache`): read from
/// the database at most every `auth_cache::MARK_TTL`.
async fn audit_mark(state: &Arc<AppState>) -> Result<i64, crate::error::WebError> {
    if let Some(m) = state.auth.fresh_mark() {
        return Ok(m);
    }
    let m = state.pool.run(|s| s.audit_mark()).await?;
    state.auth.set_mark(m);
    Ok(m)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// The raw value of `name` in a form body (`a=1&csrf=...`). CSRF tokens are URL-safe text,
/// which browsers send unencoded, so the raw value is the token.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
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

/// The account routes (`/login`, `/logout`, `/account` and its tokens).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// English or Spanish, from `?lang=` or `Accept-Language`.
pub(crate) fn spanish(headers: &HeaderMap, query: Option<&str>) -> bool {
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
        ("tokens", false) => "My API tokens",
        ("tokens", true) => "Mis tokens de API",
        ("no_tokens", false) => "No tokens yet.",
        ("no_tokens", true) => "Todavía no hay tokens.",
        ("name", false) => "Name",
        ("name", true) => "Nombre",
        ("created", false) => "Created",
        ("created", true) => "Creado",
        ("expires", false) => "Expires",
        ("expires", true) => "Vence",
        ("last_used", false) => "Last used",
        ("last_used", true) => "Último uso",
        ("status", false) => "Status",
        ("status", true) => "Estado",
        ("active", false) => "active",
        ("active", true) => "activo",
        ("expired", false) => "expired",
        ("expired", true) => "vencido",
        ("revoked", false) => "revoked",
        ("revoked", true) => "revocado",
        ("revoke", false) => "Revoke",
        ("revoke", true) => "Revocar",
        ("new_token", false) => "New token",
        ("new_token", true) => "Nuevo token",
        ("days", false) => "Days until it expires (1 to 366)",
        ("days", true) => "Días hasta que venza (1 a 366)",
        ("create", false) => "Create token",
        ("create", true) => "Crear token",
        ("token_shown_once", false) => {
            "Your new token is below. Copy it now: it is shown only this once. Send it as `Authorization: Bearer <token>`."
        }
        ("token_shown_once", true) => {
            "Su nuevo token está abajo. Cópielo ahora: solo se muestra esta vez. Envíelo como `Authorization: Bearer <token>`."
        }
        ("token_needs_session", false) => "Tokens are managed from a signed-in session, not with a token.",
        ("token_needs_session", true) => "Los tokens se gestionan desde una sesión iniciada, no con un token.",
        ("administration", false) => "Administration",
        ("administration", true) => "Administración",
        ("organisations", false) => "Organisations",
        ("organisations", true) => "Organizaciones",
        ("people", false) => "People",
        ("people", true) => "Personas",
        ("audit", false) => "Audit trail",
        ("audit", true) => "Registro de auditoría",
        ("no_such_token", false) => "You have no active token with this number.",
        ("no_such_token", true) => "No tiene ningún token activo con este número.",
        _ => "",
    }
}

pub(crate) fn page(es: bool, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if es { "es" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Senda" }
                link rel="stylesheet" href="/static/senda.css";
            }
            body {
                // The site's header, as on the dashboard's pages (these pages have no strategy
                // or filters to carry: the links alone).
                header class="top" {
                    a class="brand" href="/" { strong { "Senda" } }
                    nav aria-label=(if es { "Navegación" } else { "Navigation" }) {
                        a href=(if es { "/?lang=es" } else { "/?lang=en" }) { (if es { "Resumen" } else { "Overview" }) }
                        a href=(if es { "/activities?lang=es" } else { "/activities?lang=en" }) { (if es { "Actividades" } else { "Activities" }) }
                        a href=(if es { "/account?lang=es" } else { "/account" }) { (if es { "Mi cuenta" } else { "My account" }) }
                    }
                }
                main id="main" { h1 { (title) } (body) }
            }
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
    let Principal::Person(c) = &identity.principal else {
        return Ok(Redirect::to("/login").into_response());
    };
    let body = account_body(&state, es, &identity, c, None, None).await?;
    Ok(Html(page(es, t(es, "account"), body).into_string()).into_response())
}

/// "My account": who, the role and organisation, the person's API tokens (revoke buttons, a
/// form for a new one), sign out. `secret` is a token just made (shown once), `error` what was
/// wrong with the last form.
async fn account_body(
    state: &Arc<AppState>,
    es: bool,
    identity: &Identity,
    c: &Caller,
    secret: Option<&str>,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let (org_id, person_id) = (c.organisation_id, c.person_id);
    let (org, tokens) = state
        .pool
        .run(move |s| {
            let org = match org_id {
                Some(id) => s.organisation(id)?.map(|o| o.name),
                None => None,
            };
            Ok((org, s.tokens(person_id)?))
        })
        .await?;
    let csrf = identity.csrf.clone().unwrap_or_default();
    let lang = if es { "?lang=es" } else { "" };
    let at = now();
    let day = |unix: i64| {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    };
    Ok(html! {
        dl {
            dt { (t(es, "email")) } dd { (c.email) }
            dt { (t(es, "role")) } dd { (c.role.as_str()) }
            dt { (t(es, "organisation")) } dd { (org.unwrap_or_else(|| "-".into())) }
        }
        @if let Some(secret) = secret {
            section aria-labelledby="new-secret" {
                p id="new-secret" role="status" { (t(es, "token_shown_once")) }
                p { code class="secret" { (secret) } }
            }
        }
        h2 { (t(es, "tokens")) }
        @if tokens.is_empty() {
            p { (t(es, "no_tokens")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (t(es, "name")) }
                    th scope="col" { (t(es, "role")) }
                    th scope="col" { (t(es, "created")) }
                    th scope="col" { (t(es, "expires")) }
                    th scope="col" { (t(es, "last_used")) }
                    th scope="col" { (t(es, "status")) }
                    th scope="col" {}
                } }
                tbody {
                    @for tk in &tokens {
                        @let active = tk.revoked_at.is_none() && tk.expires_unix > at;
                        tr {
                            td { (tk.id) }
                            td { (tk.name) }
                            td { (tk.role.as_str()) }
                            td { (tk.created_at) }
                            td { (day(tk.expires_unix)) }
                            td { (tk.last_used_at.as_deref().unwrap_or("-")) }
                            td { (t(es, if tk.revoked_at.is_some() { "revoked" } else if active { "active" } else { "expired" })) }
                            td {
                                @if active {
                                    form method="post" action=(format!("/account/tokens/{}/revoke{lang}", tk.id)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { (t(es, "revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { (t(es, "new_token")) }
        @if let Some(e) = error { p role="alert" class="error" { (e) } }
        form method="post" action=(format!("/account/tokens{lang}")) {
            input type="hidden" name="csrf" value=(csrf);
            p { label for="token-name" { (t(es, "name")) } br; input id="token-name" name="name" required maxlength="100"; }
            p {
                label for="token-role" { (t(es, "role")) } br;
                select id="token-role" name="role" {
                    @for r in Role::ALL.into_iter().filter(|r| *r <= c.role) {
                        option value=(r.as_str()) selected[r == c.role] { (r.as_str()) }
                    }
                }
            }
            p { label for="token-days" { (t(es, "days")) } br; input id="token-days" name="days" type="number" min="1" max="366" value="90" required; }
            p { button type="submit" { (t(es, "create")) } }
        }
        @let principal = Principal::Person(c.clone());
        @let accounts = decide(&principal, Action::Read, Resource::Accounts).allowed();
        @let audit = decide(&principal, Action::Read, Resource::Audit).allowed();
        @if accounts || audit {
            nav aria-label=(t(es, "administration")) {
                @if accounts {
                    a href=(format!("/admin/organisations{lang}")) { (t(es, "organisations")) } " · "
                    a href=(format!("/admin/people{lang}")) { (t(es, "people")) }
                    @if audit { " · " }
                }
                @if audit { a href=(format!("/admin/audit{lang}")) { (t(es, "audit")) } }
            }
        }
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (t(es, "logout")) }
        }
    })
}

/// The new-token form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct TokenForm {
    /// What the token is for.
    #[serde(default)]
    pub name: String,
    /// The role it acts with (at most the person's).
    #[serde(default)]
    pub role: String,
    /// Days until it expires.
    #[serde(default)]
    pub days: String,
    /// The session's CSRF token (checked by [`identify`]).
    #[serde(default)]
    pub csrf: String,
}

/// A signed-in person (by session, not by token: a token may not make or end tokens) or the
/// page saying why not.
fn session_caller(identity: &Identity, es: bool) -> Result<Caller, Box<Response>> {
    match &identity.principal {
        Principal::Person(c) if identity.session.is_some() => Ok(c.clone()),
        Principal::Person(_) => Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                Html(
                    page(
                        es,
                        t(es, "account"),
                        html! { p role="alert" class="error" { (t(es, "token_needs_session")) } },
                    )
                    .into_string(),
                ),
            )
                .into_response(),
        )),
        Principal::Anonymous => Err(Box::new(denied(StatusCode::UNAUTHORIZED, "sign in first"))),
    }
}

/// `POST /account/tokens`: makes an API token for the signed-in person (role at most theirs,
/// 1 to 366 days) and shows its secret once; a bad field is a 400 naming it, on the account page.
async fn create_token(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(f): Form<TokenForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let c = match session_caller(&identity, es) {
        Ok(c) => c,
        Err(resp) => return Ok(*resp),
    };
    let role = Some(f.role.as_str()).filter(|r| !r.trim().is_empty());
    let new = match NewToken::parse(&f.name, role, &f.days, c.role) {
        Ok(n) => n,
        Err(e) => {
            let body = account_body(&state, es, &identity, &c, None, Some(&e.to_string())).await?;
            return Ok((StatusCode::BAD_REQUEST, Html(page(es, t(es, "account"), body).into_string())).into_response());
        }
    };
    let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
    let digest = secret_digest(&secret);
    let at = now();
    let expires = at + i64::from(new.days) * 86_400;
    let owner = c.clone();
    state.pool.run(move |s| s.create_token(&owner, &new.name, new.role, &digest, expires, at)).await?;
    let body = account_body(&state, es, &identity, &c, Some(&secret), None).await?;
    let mut resp = Html(page(es, t(es, "account"), body).into_string()).into_response();
    // The secret is in this page only: no cache may keep it.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /account/tokens/{id}/revoke`: revokes one of the signed-in person's own active
/// tokens (anyone else's, or an unknown id, is a 404 that tells nothing of it).
async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let c = match session_caller(&identity, es) {
        Ok(c) => c,
        Err(resp) => return Ok(*resp),
    };
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Html(
                page(es, t(es, "account"), html! { p role="alert" class="error" { (t(es, "no_such_token")) } })
                    .into_string(),
            ),
        )
            .into_response()
    };
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found()) };
    let revoked = state.pool.run(move |s| s.revoke_token(&c, id, now())).await?;
    if !revoked {
        return Ok(not_found());
    }
    Ok(Redirect::to(if es { "/account?lang=es" } else { "/account" }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route registered in the web crate's sources (`.route(` with a path and its
    /// `get(..)` / `post(..)` handlers on the same line), as `(method, route)`; the API's under
    /// `/api/v1`, where `lib.rs` nests them.
    fn routes_in_sources() -> Vec<(String, String)> {
        let files = [
            ("", include_str!("pages.rs")),
            ("", include_str!("auth.rs")),
            ("", include_str!("admin.rs")),
            ("", include_str!("intervention_pages.rs")),
            ("", include_str!("reporting_pages.rs")),
            ("/api/v1", include_str!("api.rs")),
            ("", include_str!("lib.rs")),
        ];
        let mut out = Vec::new();
        for (prefix, text) in files {
            for line in text.lines() {
                let Some(at) = line.find(".route(\"") else { continue };
                let rest = &line[at + ".route(\"".len()..];
                let Some((path, handlers)) = rest.split_once('"') else { continue };
                let mut methods = Vec::new();
                for (needle, method) in
                    [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("patch(", "PATCH"), ("delete(", "DELETE")]
                {
                    let found = handlers.match_indices(needle).any(|(i, _)| {
                        i == 0
                            || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric() && handlers.as_bytes()[i - 1] != b'_'
                    });
                    if found {
                        methods.push(method);
                    }
                }
                assert!(!methods.is_empty(), "a route whose methods this test cannot read: {line}");
                for m in methods {
                    out.push((m.to_owned(), format!("{prefix}{path}")));
                }
            }
        }
        out
    }

    #[test]
    fn every_route_of_the_router_has_an_access_rule() {
        let routes = routes_in_sources();
        assert!(routes.len() >= 30, "the scan found the routes: {routes:?}");
        for (m, r) in &routes {
            let method = Method::from_bytes(m.as_bytes()).expect("a method");
            assert!(access_of(&method, r).is_some(), "{m} {r} has no entry in ROUTE_ACCESS");
        }
        // And every entry is a route (no stale rule).
        for (m, r, _, _) in ROUTE_ACCESS {
            assert!(routes.iter().any(|(rm, rr)| rm == m && rr == r), "{m} {r} is in ROUTE_ACCESS but not routed");
        }
    }

    #[test]
    fn a_route_without_an_entry_is_refused_not_public() {
        assert_eq!(access_of(&Method::GET, "/admin/secret"), None);
        assert_eq!(access_of(&Method::POST, "/activities"), None, "a method not declared is not a read (405)");
        assert_eq!(access_of(&Method::HEAD, "/activities"), Some((Action::Read, PUBLIC)));
        assert_eq!(access_of(&Method::GET, "/account"), Some((Action::Read, Resource::OwnAccount)));
    }

    #[test]
    fn a_form_field_is_read_from_the_body() {
        assert_eq!(form_field(b"name=x&csrf=abc-_1&days=3", "csrf").as_deref(), Some("abc-_1"));
        assert_eq!(form_field(b"name=x", "csrf"), None);
        assert_eq!(form_field(b"xcsrf=1", "csrf"), None);
        assert_eq!(form_field(&[0xff, 0xfe], "csrf"), None);
    }
}

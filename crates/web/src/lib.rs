//! Senda's web dashboard and JSON API over the same database the CLI uses.
//!
//! - Pages (server-rendered HTML, no JavaScript needed): overview, line of effort, country,
//!   activities (filters, sort, keyset pages, CSV), activity (every field, evidence in words),
//!   organisation, imports and data quality. English and Spanish ([`i18n`]).
//! - JSON API under `/api/v1` ([`api`]), described by an OpenAPI 3.1 document generated from
//!   the code at `/api/v1/openapi.json`. Errors are `application/problem+json`.
//! - Safety: everything from imported data is escaped (maud escapes by default), a strict
//!   Content-Security-Policy, request body and time limits, generic error texts; a Host
//!   allow-list and bounded request heads ([`guard`]); a time limit on reading request heads
//!   and on idle connections ([`server`]). The safety headers are the outermost layers, so
//!   every answer Senda makes carries them, the limits' 408, 413, 414 and 431 included.

pub mod admin;
pub mod api;
pub mod auth;
pub mod auth_cache;
pub mod charts;
pub mod contributions;
pub mod coverage;
pub mod error;
pub mod guard;
pub mod i18n;
pub mod indicators;
pub mod intervention_form;
pub mod intervention_pages;
pub mod interventions;
pub mod list;
pub mod negative;
pub mod pages;
pub mod paths;
pub mod printable;
pub mod query;
pub mod reporting_pages;
pub mod reports_api;
pub mod server;
pub mod state;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::WebError;
pub use state::AppState;

/// The Content-Security-Policy of every response: only Senda's own styles, no scripts at all,
/// images only from Senda or inline data, no framing, forms only to Senda.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The Content-Security-Policy of the printable report (`/report`): a self-contained document
/// whose styles are inline; still no script, no external resource of any kind.
pub const PRINT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// Longest time a request may take before a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole application (pages, API, static files) with its safety layers, without the Host
/// allow-list (for in-process use, whose requests carry no `Host`); the server uses [`app`].
pub fn router(state: Arc<AppState>) -> Router {
    app(state, None, REQUEST_TIMEOUT)
}

/// The application with its layers, outermost first: the safety headers (on every answer),
/// the error shape (problem+json under `/api/v1`, a page elsewhere, whoever refused), the
/// request guard (Host allow-list when `hosts` is given, head sizes, control characters), the
/// time limit (`request_timeout`, then 408) and the body limit (413).
pub fn app(state: Arc<AppState>, hosts: Option<Arc<guard::AllowedHosts>>, request_timeout: Duration) -> Router {
    Router::new()
        .merge(pages::routes().layer(axum::middleware::map_response(error::page_errors)))
        .merge(auth::routes().layer(axum::middleware::map_response(error::page_errors)))
        .merge(admin::routes().layer(axum::middleware::map_response(error::page_errors)))
        .merge(intervention_pages::routes().layer(axum::middleware::map_response(error::page_errors)))
        .merge(reporting_pages::routes().layer(axum::middleware::map_response(error::page_errors)))
        .nest("/api/v1", api::routes().layer(axum::middleware::map_response(error::api_errors)))
        .with_state(state.clone())
        // Who is asking and may they: the one place access is decided (issue 17). A route
        // layer: it runs once a route matched, so it knows the route (unknown paths are 404s).
        .route_layer(axum::middleware::from_fn_with_state(state, auth::identify))
        .layer(axum::Extension(Arc::new(auth::Auth::default())))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(axum::middleware::from_fn(move |req, next| guard::check(hosts.clone(), req, next)))
        .layer(axum::middleware::from_fn(error::shape_errors))
        // `if_not_present`: only the printable report sets its own (stricter on sources) policy.
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
}

/// How `senda serve` listens and whom it answers.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Host names (or IP addresses) accepted in `Host` besides the listen address and
    /// `localhost` (`--allowed-host`).
    pub allowed_hosts: Vec<String>,
    /// Time a client has to send a request's head, on a new connection or between requests of a
    /// kept-alive one ([`server::HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
    /// Time a request may take ([`REQUEST_TIMEOUT`]).
    pub request_timeout: Duration,
}

impl ServeOptions {
    /// The defaults for `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        ServeOptions {
            listen,
            allowed_hosts: Vec::new(),
            header_read_timeout: server::HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// Shortest `SENDA_API_TOKEN` accepted (characters).
pub const MIN_TOKEN_CHARS: usize = 16;

/// The write token from `SENDA_API_TOKEN` (`None`: writes disabled). A token that is set but
/// shorter than [`MIN_TOKEN_CHARS`] is an error: the server refuses to start rather than run
/// with writes silently disabled.
pub fn check_write_token(token: Option<&str>) -> Result<Option<String>, WebError> {
    match token {
        None => Ok(None),
        Some(t) if t.chars().count() < MIN_TOKEN_CHARS => Err(WebError::BadRequest(format!(
            "SENDA_API_TOKEN: {} characters, at least {MIN_TOKEN_CHARS} are needed (unset it to disable writes)",
            t.chars().count()
        ))),
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// Serves the database at `db` as `opts` say until Ctrl-C. `on_ready` gets the bound address
/// (useful with port 0).
pub async fn serve(db: String, opts: ServeOptions, on_ready: impl FnOnce(SocketAddr)) -> Result<(), WebError> {
    let hosts =
        Arc::new(guard::AllowedHosts::for_listen(opts.listen, &opts.allowed_hosts).map_err(WebError::BadRequest)?);
    // Opening a store blocks (the PostgreSQL client drives its own small runtime, which may
    // not be started from a thread that drives this one's tasks): on the blocking pool, as
    // every other store call.
    let state = tokio::task::spawn_blocking(move || AppState::new(db))
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))??;
    let token = check_write_token(std::env::var("SENDA_API_TOKEN").ok().as_deref())?;
    let state = Arc::new(state.with_write_token(token));
    if state.write_token.is_some() {
        tracing::info!("SENDA_API_TOKEN is set: POST /api/v1/results accepts requests bearing it");
    }
    let listen = opts.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| WebError::Internal(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| WebError::Internal(e.to_string()))?;
    // Warm the overview's reports in the background, once the address is
    // ours (a server that cannot listen exits with its one error line and nothing else): the
    // first visitor should not wait.
    {
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(e) = pages::warm(&st).await {
                tracing::warn!(error = %e, "warming the report cache failed");
            }
        });
    }
    tracing::info!(hosts = ?hosts.names(), "answering requests for these hosts");
    on_ready(addr);
    let app = app(state, Some(hosts), opts.request_timeout);
    server::run(listener, app, opts.header_read_timeout, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

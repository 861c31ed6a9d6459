//! Senda's web dashboard and JSON API over the same database the CLI uses.
//!
//! - Pages (server-rendered HTML, no JavaScript needed): overview, line of effort, country,
//!   activities (filters, sort, keyset pages, CSV), activity (every field, evidence in words),
//!   organisation, imports and data quality. English and Spanish ([`i18n`]).
//! - JSON API under `/api/v1` ([`api`]), described by an OpenAPI 3.1 document generated from
//!   the code at `/api/v1/openapi.json`. Errors are `application/problem+json`.
//! - Safety: everything from imported data is escaped (maud escapes by default), a strict
//!   Content-Security-Policy, request body and time limits, generic error texts.

pub mod api;
pub mod charts;
pub mod error;
pub mod i18n;
pub mod indicators;
pub mod list;
pub mod pages;
pub mod printable;
pub mod query;
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

/// Largest request body accepted (bytes): the API reads no bodies yet.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest time a request may take before a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole application (pages, API, static files) with its safety layers.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(pages::routes().layer(axum::middleware::map_response(error::page_errors)))
        .nest("/api/v1", api::routes().layer(axum::middleware::map_response(error::api_errors)))
        .with_state(state)
        // `if_not_present`: only the printable report sets its own (stricter on sources) policy.
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
}

/// Serves the database at `db` on `listen` until Ctrl-C. `on_ready` gets the bound address
/// (useful with port 0).
pub async fn serve(db: String, listen: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> Result<(), WebError> {
    // Opening a store blocks (the PostgreSQL client drives its own small runtime, which may
    // not be started from a thread that drives this one's tasks): on the blocking pool, as
    // every other store call.
    let state = tokio::task::spawn_blocking(move || AppState::new(db))
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))??;
    let state = Arc::new(state.with_write_token(std::env::var("SENDA_API_TOKEN").ok()));
    if state.write_token.is_some() {
        tracing::info!("SENDA_API_TOKEN is set: POST /api/v1/results accepts requests bearing it");
    }
    // Warm the overview's reports in the background: the first visitor should not wait.
    {
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(e) = pages::warm(&st).await {
                tracing::warn!(error = %e, "warming the report cache failed");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| WebError::Internal(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| WebError::Internal(e.to_string()))?;
    on_ready(addr);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| WebError::Internal(format!("server: {e}")))
}

//! Errors of the web layer: `application/problem+json` (RFC 9457) for the API, a plain page
//! for the HTML. Neither ever carries SQL, paths of the server or stack traces: internal
//! errors are logged and answered with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use senda_store::StoreError;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A parameter is invalid (400); the text names it and what was expected.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing has this name (404); the text names what was asked.
    #[error("{0}")]
    NotFound(String),
    /// A fault of the server (500); the text is logged, never sent.
    #[error("{0}")]
    Internal(String),
    /// A write without the right credentials (401), or writes disabled (403); the text says which.
    #[error("{1}")]
    Denied(StatusCode, String),
    /// The database is busy or unreachable for now (503 with `Retry-After`); the text is
    /// logged, the client is told to try again.
    #[error("{0}")]
    Unavailable(String),
    /// An organisation filter names no organisation of the data (400): the parameter, what
    /// was typed and the close organisations (pages say it in the reader's language).
    #[error("{param}: {error}")]
    UnknownOrg {
        /// `reporting_org` or `implementing_org`.
        param: &'static str,
        /// The resolver's answer, with its suggestions.
        error: senda_core::orgs::UnknownOrg,
    },
}

/// Seconds a client is asked to wait before trying again after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 2;

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => WebError::NotFound(format!("activity {id:?}")),
            e @ StoreError::Account { .. } => WebError::BadRequest(e.to_string()),
            e if e.is_busy() => WebError::Unavailable(format!("{} ({})", e, e.code())),
            other => WebError::Internal(format!("{other} ({})", other.code())),
        }
    }
}

impl WebError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) | WebError::UnknownOrg { .. } => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Denied(s, _) => *s,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The text a client may see.
    pub fn public_detail(&self) -> String {
        match self {
            WebError::BadRequest(m) | WebError::Denied(_, m) => m.clone(),
            e @ WebError::UnknownOrg { .. } => e.to_string(),
            WebError::NotFound(m) => format!("not found: {m}"),
            WebError::Internal(m) => {
                tracing::error!(error = %m, "request failed");
                "the server could not answer; the error was logged".into()
            }
            WebError::Unavailable(m) => {
                tracing::warn!(error = %m, "database busy or unreachable");
                format!("the database is busy or unreachable for now; try again in {RETRY_AFTER_SECONDS} seconds")
            }
        }
    }
}

/// An RFC 9457 problem document, the API's error body.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` = the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary (the status text).
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What is wrong, naming the parameter or item.
    pub detail: String,
}

/// An API error: answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        problem(status, self.0.public_detail())
    }
}

/// A problem+json response.
pub fn problem(status: StatusCode, detail: String) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail,
    };
    let mut r = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

/// The text of an error response that did not come from Senda's handlers (axum's own
/// rejections: a repeated or malformed parameter, a bad path, a method not allowed), capped.
async fn rejection_text(r: Response) -> (StatusCode, String) {
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 4096).await.unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if text.is_empty() {
        text = match status {
            // axum sets `Allow` after every layer has run, so the text cannot list the methods:
            // it points at that header rather than contradict it.
            StatusCode::METHOD_NOT_ALLOWED => {
                "method not allowed: the Allow header lists the methods this URL answers".to_owned()
            }
            s => s.canonical_reason().unwrap_or("error").to_lowercase(),
        };
    }
    (status, text)
}

fn is(r: &Response, content_type: &str) -> bool {
    r.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(content_type))
}

/// A 503 says when to try again (`Retry-After`), whoever made it.
fn with_retry_after(mut r: Response) -> Response {
    if r.status() == StatusCode::SERVICE_UNAVAILABLE && !r.headers().contains_key(header::RETRY_AFTER) {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    r
}

/// API layer: every error answer is `application/problem+json`, including axum's own rejections.
pub async fn api_errors(r: Response) -> Response {
    let r = with_retry_after(r);
    if r.status().as_u16() < 400 || is(&r, "application/problem+json") {
        return r;
    }
    let allow = r.headers().get(header::ALLOW).cloned();
    let (status, text) = rejection_text(r).await;
    let mut p = problem(status, text);
    if let Some(a) = allow {
        p.headers_mut().insert(header::ALLOW, a);
    }
    p
}

/// Page layer: every error answer is a small HTML page, including axum's own rejections.
pub async fn page_errors(r: Response) -> Response {
    let r = with_retry_after(r);
    if r.status().as_u16() < 400 || is(&r, "text/html") {
        return r;
    }
    let allow = r.headers().get(header::ALLOW).cloned();
    let (status, text) = rejection_text(r).await;
    let mut out = error_page(status, &text);
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// A small HTML page saying what went wrong.
fn error_page(status: StatusCode, text: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) " · Senda" } link rel="stylesheet" href="/static/senda.css"; }
            body { main id="main" { h1 { (title) } p class="problem" { (text) } p { a href="/" { "Senda" } } } }
        }
    };
    (status, page).into_response()
}

/// True for the API's paths (`/api/v1` and below), whose errors are problem+json.
pub fn is_api_path(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// An error answer made before routing (the request guard): problem+json under `/api/v1`, a
/// page elsewhere.
pub fn reject(path: &str, status: StatusCode, detail: String) -> Response {
    if is_api_path(path) { problem(status, detail) } else { error_page(status, &detail) }
}

/// Outer layer: error answers made outside the routes (the time and body limits' 408 and 413,
/// plain text or empty) get the same shape as the routes' own, by path.
pub async fn shape_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = is_api_path(req.uri().path());
    let r = next.run(req).await;
    if api { api_errors(r).await } else { page_errors(r).await }
}

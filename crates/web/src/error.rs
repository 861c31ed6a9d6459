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
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => WebError::NotFound(format!("activity {id:?}")),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl WebError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text a client may see.
    pub fn public_detail(&self) -> String {
        match self {
            WebError::BadRequest(m) => m.clone(),
            WebError::NotFound(m) => format!("not found: {m}"),
            WebError::Internal(m) => {
                tracing::error!(error = %m, "request failed");
                "the server could not answer; the error was logged".into()
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

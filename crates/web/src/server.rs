//! The server's connections: HTTP/1.1 over hyper with a timer, so that a client has
//! [`HEADER_READ_TIMEOUT`] to send each request's head, on a new connection and between the
//! requests of a kept-alive one; after that hyper closes the connection (slowloris, idle
//! connections). `axum::serve` sets no timer, so its connections waited for ever.
//!
//! hyper's own limits are set above the guard's ([`crate::guard`]), so that an oversized
//! request head is refused by Senda (with the safety headers and a problem+json body) rather
//! than by hyper. Only a head beyond hyper's (64 KiB of URI, [`HYPER_MAX_HEADERS`] fields, its
//! 400 KB read buffer) or one that does not parse as HTTP still gets hyper's bare answer,
//! empty and followed by closing the connection.

use crate::WebError;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Time a client has to send a request's head (request line and headers), counted from the
/// moment the server starts waiting for it: on a new connection, or after the previous
/// response of a kept-alive one. Past it the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// hyper's limit on header fields, above [`crate::guard::MAX_HEADERS`] so the guard answers.
pub const HYPER_MAX_HEADERS: usize = 1000;

/// Time given to open connections to finish their requests after the stop signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish (at
/// most [`SHUTDOWN_GRACE`]).
pub async fn run(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WebError> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_read_timeout).max_headers(HYPER_MAX_HEADERS);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The client's address, for the login throttle (crate::auth).
        let with_peer =
            tower::ServiceExt::map_request(app.clone(), move |mut r: hyper::Request<hyper::body::Incoming>| {
                r.extensions_mut().insert(crate::auth::Peer(peer));
                r
            });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(with_peer));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open {} s after the stop signal", SHUTDOWN_GRACE.as_secs());
    }
    Ok(())
}

//! Checks every request passes before any handler sees it, answered by Senda itself (so the
//! answer carries the safety headers and the API's `application/problem+json`):
//!
//! - **Host allow-list** (DNS rebinding): the `Host` header (and the authority of an
//!   absolute-form URI) must name a host the server was told to answer for; an HTTP/1.1 request
//!   without `Host` is refused. Ports are not compared.
//! - **Size of the request head**: a URI over [`MAX_URI`] bytes is a 414, more than
//!   [`MAX_HEADERS`] header fields or over [`MAX_HEADER_BYTES`] of them a 431. hyper's own limits
//!   are set above these (see [`crate::server`]), so that Senda, not hyper, answers.
//! - **Control characters in query parameters** (a NUL ends an SQLite `LIKE` pattern): a 400
//!   naming the parameter, on every endpoint and every parameter.
//!
//! No HTTP type leaks past this module: what it refuses is a [`crate::WebError`]-shaped answer
//! made by [`crate::error::reject`].

use crate::error::reject;
use axum::extract::Request;
use axum::http::{StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Longest request URI (path and query, bytes) Senda reads: 16 KiB.
pub const MAX_URI: usize = 16 * 1024;
/// Most header fields in one request.
pub const MAX_HEADERS: usize = 100;
/// Largest header section (names and values, bytes): 32 KiB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The host names (or IP addresses) the server answers for, compared without the port,
/// case-insensitively, a trailing dot ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// The default for a server listening on `listen` (its IP address, unless it is 0.0.0.0 or
    /// `::`, and `localhost`), plus `extra` (the `--allowed-host` values: host names or IP
    /// addresses, without port or scheme).
    ///
    /// Errors: an `extra` value that is not a bare host name or IP address, named.
    pub fn for_listen(listen: SocketAddr, extra: &[String]) -> Result<Self, String> {
        let mut hosts = vec!["localhost".to_owned()];
        if !listen.ip().is_unspecified() {
            hosts.push(listen.ip().to_string());
        }
        for e in extra {
            let h = normalise(e).ok_or_else(|| {
                format!("--allowed-host: {e:?} is not a host name or IP address (e.g. senda.example.org, 10.0.0.5)")
            })?;
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        Ok(AllowedHosts(hosts))
    }

    /// The names, normalised, in the order given.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// True when `authority` (`host`, `host:port`, `[v6]:port`) names an allowed host.
    pub fn allows(&self, authority: &str) -> bool {
        host_of(authority).and_then(|h| normalise(&h)).is_some_and(|h| self.0.contains(&h))
    }
}

/// The host part of an authority (`example.org:8080` → `example.org`, `[::1]:80` → `::1`).
fn host_of(authority: &str) -> Option<String> {
    if authority.contains('@') {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
        return Some(v6.to_owned());
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => Some(h.to_owned()),
        Some(_) => (authority.parse::<IpAddr>().is_ok()).then(|| authority.to_owned()),
        None => Some(authority.to_owned()),
    }
}

/// A host name in lower case without a trailing dot, or an IP address in its canonical form;
/// `None` for anything else (ports, schemes, paths, empty).
fn normalise(h: &str) -> Option<String> {
    let h = h.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let h = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    let label_ok =
        |l: &str| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (!h.is_empty() && h.len() <= 253 && h.split('.').all(label_ok)).then_some(h)
}

/// The guard as an axum middleware; `hosts` `None` skips the Host check (in-process use, where
/// requests carry no `Host`; [`crate::serve`] always gives one).
pub async fn check(hosts: Option<Arc<AllowedHosts>>, req: Request, next: Next) -> Response {
    match refusal(hosts.as_deref(), &req) {
        Some((status, detail)) => reject(req.uri().path(), status, detail),
        None => next.run(req).await,
    }
}

/// Why `req` is refused, if it is.
fn refusal(hosts: Option<&AllowedHosts>, req: &Request) -> Option<(StatusCode, String)> {
    if let Some(hosts) = hosts {
        let host = req.headers().get_all(header::HOST).iter().collect::<Vec<_>>();
        match host.as_slice() {
            [] if req.version() == Version::HTTP_11 => {
                return Some((StatusCode::BAD_REQUEST, "Host: an HTTP/1.1 request must name its host".into()));
            }
            [] => {}
            [h] => {
                let h = h.to_str().unwrap_or("");
                if !hosts.allows(h) {
                    let shown: String = h.chars().take(100).collect();
                    return Some((
                        StatusCode::BAD_REQUEST,
                        format!(
                            "Host: {shown:?} is not a host this server answers for (start `senda serve` with --allowed-host NAME to add one)"
                        ),
                    ));
                }
            }
            _ => return Some((StatusCode::BAD_REQUEST, "Host: given more than once".into())),
        }
        if let Some(a) = req.uri().authority()
            && !hosts.allows(a.as_str())
        {
            return Some((
                StatusCode::BAD_REQUEST,
                "request target: names a host this server does not answer for".into(),
            ));
        }
    }
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return Some((StatusCode::URI_TOO_LONG, format!("request target: {uri_len} bytes, at most {MAX_URI}")));
    }
    let headers = req.headers();
    if headers.len() > MAX_HEADERS {
        return Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("headers: {} fields, at most {MAX_HEADERS}", headers.len()),
        ));
    }
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if bytes > MAX_HEADER_BYTES {
        return Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("headers: {bytes} bytes, at most {MAX_HEADER_BYTES}"),
        ));
    }
    control_in_query(req.uri().query()?).map(|d| (StatusCode::BAD_REQUEST, d))
}

/// The first query parameter whose name or value holds a control character, as a message
/// naming it. A query that does not decode is left to the handlers (their own 400).
pub fn control_in_query(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)?;
    for (k, v) in pairs {
        if let Some(c) = k.chars().chain(v.chars()).find(|c| c.is_control()) {
            let name: String = k.chars().filter(|c| !c.is_control()).take(40).collect();
            return Some(format!("{name}: control characters are not allowed (found U+{:04X})", u32::from(c)));
        }
    }
    None
}

/// The decoded pairs of a query string (as axum's `Query` decodes them), or `None`.
fn serde_urlencoded_pairs(query: &str) -> Option<Vec<(String, String)>> {
    let uri: axum::http::Uri = format!("/?{query}").parse().ok()?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).ok().map(|q| q.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_without_port_case_or_trailing_dot() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let h = AllowedHosts::for_listen(listen, &["Senda.Example.org.".into()]).expect("hosts");
        for ok in ["localhost", "LOCALHOST:8080", "127.0.0.1:8080", "127.0.0.1", "senda.example.org:443", "localhost."]
        {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in ["evil.example", "127.0.0.2", "", "localhost:80:80", "user@localhost", "localhost.evil", "[::1]"] {
            assert!(!h.allows(bad), "{bad}");
        }
        let v6 = AllowedHosts::for_listen("[::1]:8080".parse().expect("addr"), &[]).expect("hosts");
        assert!(v6.allows("[::1]:8080") && v6.allows("[::1]") && !v6.allows("127.0.0.1"));
        let any = AllowedHosts::for_listen("0.0.0.0:8080".parse().expect("addr"), &[]).expect("hosts");
        assert_eq!(any.names(), ["localhost"]);
        for bad in ["http://x.org", "x.org:80", "a b", "", "x/y"] {
            let e = AllowedHosts::for_listen(listen, &[bad.into()]).expect_err(bad);
            assert!(e.starts_with("--allowed-host:"), "{e}");
        }
    }

    #[test]
    fn control_characters_are_found_in_any_parameter() {
        assert_eq!(control_in_query("q=a&country=GT"), None);
        assert!(control_in_query("country=%00GT").is_some_and(|m| m.starts_with("country: control")));
        assert!(control_in_query("name=%09x").is_some_and(|m| m.starts_with("name: ")));
        assert!(control_in_query("x%01=1").is_some());
        assert!(control_in_query("q=%C2%85").is_some(), "C1 controls too");
        assert_eq!(control_in_query("q=educaci%C3%B3n+%E2%82%AC"), None);
    }
}

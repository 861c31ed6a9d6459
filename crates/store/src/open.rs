//! One way to open a store: from a URL, whatever the backend. `--db` and `SENDA_DB` take the
//! same text: a plain path or `sqlite://PATH` gives SQLite; `postgres://...` or
//! `postgresql://...` gives PostgreSQL.

use crate::{PgStore, SqliteStore, Store, StoreError};
use std::path::PathBuf;

/// The schemes a database URL may have.
pub const SCHEMES: &str = "sqlite://PATH (or a plain path), postgres://USER@HOST:PORT/DATABASE, postgresql://...";

/// Where a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (the URL as given; it may hold a password: never print it).
    Postgres(String),
}

impl Target {
    /// The target for messages: the path, or `host:port/database` (never a password).
    pub fn display(&self) -> String {
        match self {
            Target::Sqlite(p) => p.display().to_string(),
            Target::Postgres(url) => crate::pg::describe_url(url),
        }
    }
}

/// `url` with any password taken out (`postgres://ana:secret@h/db` -> `postgres://ana@h/db`),
/// for what Senda prints.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (auth, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = auth.rsplit_once('@') else { return url.to_owned() };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let mut tail = tail.to_owned();
    // A password may also come as a query parameter.
    if let Some((path, query)) = tail.clone().split_once('?') {
        let kept: Vec<&str> = query.split('&').filter(|kv| !kv.starts_with("password=")).collect();
        tail = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    }
    format!("{scheme}://{user}@{host}{tail}")
}

/// Reads a database URL. A text without `scheme://` is a path.
pub fn parse_target(url: &str) -> Result<Target, StoreError> {
    if let Some((scheme, rest)) = url.split_once("://")
        && !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                if rest.is_empty() {
                    return Err(StoreError::Url(
                        "sqlite:// needs a path: sqlite:///abs/path.db or sqlite://relative.db".into(),
                    ));
                }
                Ok(Target::Sqlite(PathBuf::from(rest)))
            }
            "postgres" | "postgresql" => Ok(Target::Postgres(url.to_owned())),
            other => Err(StoreError::Url(format!("unknown database URL scheme {other:?}; accepted: {SCHEMES}"))),
        };
    }
    if url.is_empty() {
        return Err(StoreError::Url(format!("empty database URL; accepted: {SCHEMES}")));
    }
    Ok(Target::Sqlite(PathBuf::from(url)))
}

/// How to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database if it does not exist and apply pending migrations (commands that
    /// write: `import`, `demo`, `migrate`).
    Create,
    /// The database must exist already and hold Senda's schema (commands that read: a mistyped
    /// `--db` is an error, never a new empty database). Pending migrations are applied.
    Existing,
}

/// Opens the store at `url`.
pub fn open(url: &str, mode: OpenMode) -> Result<Box<dyn Store + Send>, StoreError> {
    Ok(match parse_target(url)? {
        Target::Sqlite(path) => Box::new(match mode {
            OpenMode::Create => SqliteStore::open(&path)?,
            OpenMode::Existing => SqliteStore::open_existing(&path)?,
        }),
        Target::Postgres(url) => Box::new(PgStore::open(&url, mode)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(parse_target("senda.db").ok(), Some(Target::Sqlite("senda.db".into())));
        assert_eq!(parse_target("sqlite:///tmp/x.db").ok(), Some(Target::Sqlite("/tmp/x.db".into())));
        assert_eq!(parse_target("sqlite://x.db").ok(), Some(Target::Sqlite("x.db".into())));
        assert!(matches!(parse_target("postgres://u@h/db"), Ok(Target::Postgres(_))));
        assert!(matches!(parse_target("postgresql://u@h/db"), Ok(Target::Postgres(_))));
    }

    #[test]
    fn printed_urls_carry_no_password() {
        assert_eq!(redact("postgres://ana:s3cret@db:5432/senda"), "postgres://ana@db:5432/senda");
        assert_eq!(
            redact("postgres://ana@db/senda?password=x&sslmode=require"),
            "postgres://ana@db/senda?sslmode=require"
        );
        assert_eq!(redact("senda.db"), "senda.db");
    }

    #[test]
    fn an_unknown_scheme_lists_the_accepted_ones() {
        let e = parse_target("mysql://u@h/db").expect_err("unknown");
        let m = e.to_string();
        assert!(m.contains("\"mysql\"") && m.contains("sqlite://") && m.contains("postgres://"), "{m}");
        assert_eq!(e.code(), "store-url");
    }
}

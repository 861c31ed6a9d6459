//! Connecting to PostgreSQL: the URL, the password (URL, `PGPASSWORD`, `~/.pgpass` as libpq
//! reads them), and the driver's errors turned into [`StoreError`]s that name host, port and
//! database, never the password.

use crate::StoreError;
use postgres::config::Host;
use postgres::error::SqlState;
use std::str::FromStr;

/// `host:port/database` of a URL, for messages (never the password).
pub fn describe_url(url: &str) -> String {
    let url = super::tls::split(url).map(|(u, _)| u).unwrap_or_else(|_| url.to_owned());
    match postgres::Config::from_str(&url) {
        Ok(c) => describe(&c),
        Err(_) => "(an unreadable postgres:// URL)".into(),
    }
}

/// `host:port/database` of a configuration.
pub fn describe(c: &postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", c.get_dbname().unwrap_or(c.get_user().unwrap_or("")))
}

/// Reads a `postgres://` URL into a driver configuration, with the password from the URL,
/// else `PGPASSWORD`, else the password file (`PGPASSFILE`, else `~/.pgpass`) as libpq reads
/// it: the first line whose host, port, database and user match (`*` matches anything).
pub fn config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut c = postgres::Config::from_str(url).map_err(|e| {
        let mut why = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            why.push_str(": ");
            why.push_str(&c.to_string());
            cause = c.source();
        }
        StoreError::Url(format!("cannot read the PostgreSQL URL {}: {why}", crate::redact(url)))
    })?;
    if c.get_user().is_none() {
        let user = std::env::var("PGUSER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "postgres".into());
        c.user(&user);
    }
    if c.get_hosts().is_empty() {
        c.host(&std::env::var("PGHOST").unwrap_or_else(|_| "localhost".into()));
    }
    if c.get_password().is_none() {
        if let Ok(p) = std::env::var("PGPASSWORD") {
            c.password(p);
        } else if let Some(p) = pgpass_password(&c) {
            c.password(p);
        }
    }
    if c.get_connect_timeout().is_none() {
        c.connect_timeout(std::time::Duration::from_secs(10));
    }
    c.application_name("senda");
    Ok(c)
}

fn pgpass_password(c: &postgres::Config) -> Option<String> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    // As psql: a password file others may read is not used.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(&path)
            && m.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "password file has group or world access; permissions should be u=rw (0600) or less: not used"
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432).to_string();
    let user = c.get_user().unwrap_or("");
    let db = c.get_dbname().unwrap_or(user);
    pgpass_lookup(&text, &host, &port, db, user)
}

/// The password of the first `.pgpass` line matching host, port, database and user (`*` a
/// wildcard; `\:` and `\\` escapes; `#` comments).
pub fn pgpass_lookup(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(ch) = chars.next() {
            match ch {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(ch),
            }
        }
        fields.push(cur);
        if fields.len() != 5 {
            continue;
        }
        let ok = |f: &str, v: &str| f == "*" || f == v;
        if ok(&fields[0], host) && ok(&fields[1], port) && ok(&fields[2], db) && ok(&fields[3], user) {
            return fields.pop();
        }
    }
    None
}

/// The driver's error as a [`StoreError`]; `target` names host, port and database.
pub fn error(target: &str, e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let message = db.message().to_owned();
        if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            return StoreError::Auth { target: target.to_owned(), message };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return StoreError::Open { path: target.to_owned(), message };
        }
        if [
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code)
        {
            return StoreError::Busy { message };
        }
        if [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN].contains(code) {
            return StoreError::Unavailable { target: target.to_owned(), message };
        }
        return StoreError::Database { message: format!("{message} ({})", code.code()) };
    }
    // The driver's text and its causes ("error connecting to server: Connection refused").
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    // A certificate refused, or a server without TLS when it is required: not something that
    // passes by trying again.
    if text.contains("TLS") || text.contains("certificate") || text.contains("SSL") {
        return StoreError::Open { path: target.to_owned(), message: text };
    }
    if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        return StoreError::Unavailable { target: target.to_owned(), message: text };
    }
    if text.contains("password missing") {
        return StoreError::Auth {
            target: target.to_owned(),
            message: "the server asks for a password and none was given (looked in the URL, PGPASSWORD and the password file, ~/.pgpass or PGPASSFILE)".into(),
        };
    }
    if text.contains("password") {
        return StoreError::Auth { target: target.to_owned(), message: text };
    }
    if text.contains("connect") || text.contains("timed out") || text.contains("closed") {
        return StoreError::Unavailable { target: target.to_owned(), message: text };
    }
    StoreError::Database { message: text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_as_libpq_matches_them() {
        let text = "# comment\nother:5432:*:*:nope\nlocalhost:5432:senda:ana:s\\:ecret\n*:*:*:*:fallback\n";
        assert_eq!(pgpass_lookup(text, "localhost", "5432", "senda", "ana").as_deref(), Some("s:ecret"));
        assert_eq!(pgpass_lookup(text, "db.example", "6000", "x", "y").as_deref(), Some("fallback"));
        assert_eq!(pgpass_lookup("a:b:c\n", "a", "b", "c", "d"), None);
    }

    #[test]
    fn a_url_is_described_without_its_password() {
        let d = describe_url("postgres://ana:hunter2@db.example:6543/senda");
        assert_eq!(d, "db.example:6543/senda");
        assert!(!d.contains("hunter2"));
    }
}

//! Signed-in callers remembered between requests, so that a signed-in request costs no
//! database round trip of its own (issue 17: signed-in reads within 1.2x of anonymous ones at
//! 50 clients; `docs/benchmarks.md`).
//!
//! What a session cookie or an API token stands for is kept, by the digest of its secret, while
//! the audit trail does not move ([`senda_store::accounts::AccountStore::audit_mark`]): every
//! account change is audited in its own transaction (a disabled person, a new role, a reset
//! password, a revoked token, a logout), whichever process made it, so a change ends every
//! remembered answer. The mark is read at most every [`MARK_TTL`] (one query for all requests):
//! a change made by another process (`senda user disable` on the command line) takes effect
//! within that time; a write through this server clears everything at once (`auth::identify`
//! clears after any request that is not a read). An answer is also never older than
//! [`MAX_AGE`], so time-based ends (idle and absolute session timeouts, token expiry) are met
//! within that, and the session's last use is recorded as before (at most once a minute).
//! Unknown or refused secrets are never remembered.

use senda_core::accounts::Caller;
use senda_store::accounts::SessionInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the audit mark read is trusted: the longest a change made by another process
/// goes unseen.
pub const MARK_TTL: Duration = Duration::from_millis(100);
/// The oldest remembered answer.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Most secrets remembered (beyond: the cache starts again empty).
const MAX_ENTRIES: usize = 10_000;

/// What a secret stands for.
#[derive(Debug, Clone)]
pub enum Known {
    /// An API token's caller.
    Token(Caller),
    /// A session's caller and CSRF token.
    Session(SessionInfo),
}

#[derive(Default)]
struct Inner {
    mark: i64,
    mark_read: Option<Instant>,
    entries: HashMap<String, (Known, Instant, i64)>,
}

/// The cache (one per server).
#[derive(Default)]
pub struct AuthCache {
    inner: Mutex<Inner>,
}

impl AuthCache {
    /// The audit mark, when read less than [`MARK_TTL`] ago.
    pub fn fresh_mark(&self) -> Option<i64> {
        let g = self.inner.lock().ok()?;
        g.mark_read.filter(|t| t.elapsed() < MARK_TTL).map(|_| g.mark)
    }

    /// Records the audit mark just read; answers remembered under another mark are dropped.
    pub fn set_mark(&self, mark: i64) {
        if let Ok(mut g) = self.inner.lock() {
            if g.mark != mark {
                g.entries.clear();
            }
            g.mark = mark;
            g.mark_read = Some(Instant::now());
        }
    }

    /// What `digest` stands for, if remembered under `mark` less than [`MAX_AGE`] ago.
    pub fn get(&self, digest: &str, mark: i64) -> Option<Known> {
        let g = self.inner.lock().ok()?;
        g.entries.get(digest).filter(|(_, at, m)| *m == mark && at.elapsed() < MAX_AGE).map(|(k, _, _)| k.clone())
    }

    /// Remembers what `digest` stands for, as read under `mark` (read before the lookup).
    pub fn put(&self, digest: String, known: Known, mark: i64) {
        if let Ok(mut g) = self.inner.lock() {
            if g.mark != mark {
                return;
            }
            if g.entries.len() >= MAX_ENTRIES {
                g.entries.clear();
            }
            g.entries.insert(digest, (known, Instant::now(), mark));
        }
    }

    /// Forgets everything and the mark (after a write through this server: it may have changed
    /// an account; the next request reads the mark again).
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.entries.clear();
            g.mark_read = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use senda_core::accounts::Role;

    fn caller() -> Caller {
        Caller {
            person_id: 1,
            email: "a@example.org".into(),
            organisation_id: None,
            role: Role::Viewer,
            token_id: Some(1),
        }
    }

    #[test]
    fn an_answer_lasts_while_the_mark_stays_and_a_write_here_clears_it() {
        let c = AuthCache::default();
        assert_eq!(c.fresh_mark(), None, "no mark read yet");
        c.set_mark(7);
        assert_eq!(c.fresh_mark(), Some(7));
        c.put("d".into(), Known::Token(caller()), 7);
        assert!(c.get("d", 7).is_some());
        assert!(c.get("d", 8).is_none(), "another mark: not valid");
        c.set_mark(8);
        assert!(c.get("d", 8).is_none(), "a new mark drops what was remembered");
        c.put("d".into(), Known::Token(caller()), 7);
        assert!(c.get("d", 8).is_none(), "an answer read under an older mark is not kept");
        c.put("d".into(), Known::Token(caller()), 8);
        assert!(c.get("d", 8).is_some());
        c.clear();
        assert!(c.get("d", 8).is_none() && c.fresh_mark().is_none());
    }
}

//! The audit trail (issue 17): one event per write, written by the store in the same
//! transaction as the write it records, so no write path can skip it.
//!
//! - Account and intervention writes: [`super::AccountStore`] and
//!   [`crate::interventions::InterventionStore`] (one event per write, before and after).
//! - An IATI import: one `import.run` event per run, in the transaction of its run record
//!   ([`crate::Store::save_run`]), with the run id and the run's figures (not per activity).
//! - Statistics and indicator values: one event per file or API upload (`stats.import`,
//!   `results.import`, `results.upload`), in the file's own transaction
//!   (`rules::values::import_values`), with what changed.

use super::{AccountSql, Actor, Param, corrupt, int, rfc3339, text};
use crate::StoreError;
use serde::Serialize;

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// `audit_event.id`.
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// Who.
    pub actor: String,
    /// The person.
    pub person_id: Option<i64>,
    /// The token.
    pub token_id: Option<i64>,
    /// The actor's organisation.
    pub organisation_id: Option<i64>,
    /// What (`person.create`, `session.login`, `import.run`, ...).
    pub action: String,
    /// Which record (`person:3`, `import_run:7`).
    pub record: String,
    /// Values before (JSON).
    pub before: Option<String>,
    /// Values after (JSON).
    pub after: Option<String>,
    /// Import run.
    pub run_id: Option<i64>,
}

/// Which audit events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Made by this person.
    pub person_id: Option<i64>,
    /// Made by someone of this organisation.
    pub organisation_id: Option<i64>,
    /// On this record (`person:3`).
    pub record: Option<String>,
    /// At or after (RFC 3339 or a date `2026-01-31`, compared as text).
    pub from: Option<String>,
    /// Before (same forms).
    pub to: Option<String>,
    /// At most this many, newest first.
    pub limit: u64,
}

/// An event to write: who, when (seconds since 1970, UTC), what, which record, before and
/// after (JSON), the import run.
#[derive(Debug, Clone, Copy)]
pub struct AuditRow<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// When.
    pub now: i64,
    /// What.
    pub action: &'a str,
    /// Which record.
    pub record: &'a str,
    /// Before.
    pub before: Option<&'a str>,
    /// After.
    pub after: Option<&'a str>,
    /// The import run.
    pub run_id: Option<i64>,
}

/// The insert every backend runs (`?N` placeholders; `$N` on PostgreSQL), parameters in the
/// order of [`AuditRow::at_text`] and its fields: at, actor, person, token, organisation,
/// action, record, before, after, run.
pub const INSERT_AUDIT: &str = "INSERT INTO audit_event (at, actor, person_id, token_id, organisation_id, action, record, before_value, after_value, run_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";

impl AuditRow<'_> {
    /// The time as stored (RFC 3339, UTC).
    pub fn at_text(&self) -> String {
        rfc3339(self.now)
    }
}

/// Writes `row` through the account primitives (inside the caller's transaction).
pub(crate) fn write<S: AccountSql + ?Sized>(s: &S, row: &AuditRow<'_>) -> Result<(), StoreError> {
    s.acc_exec(
        INSERT_AUDIT,
        &[
            Param::Text(&row.at_text()),
            Param::Text(&row.actor.label),
            row.actor.person_id.into(),
            row.actor.token_id.into(),
            row.actor.organisation_id.into(),
            Param::Text(row.action),
            Param::Text(row.record),
            row.before.into(),
            row.after.into(),
            row.run_id.into(),
        ],
    )?;
    Ok(())
}

/// The figures of an import run's report (`import::ImportReport` as JSON) that its audit
/// event keeps: files and activities created, updated, removed and rejected.
pub fn import_run_summary(report: &serde_json::Value) -> String {
    let mut out = serde_json::Map::new();
    for key in [
        "files",
        "files_imported",
        "files_unchanged",
        "files_rejected",
        "files_removed",
        "created",
        "updated",
        "removed",
        "rejected",
    ] {
        if let Some(v) = report.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    serde_json::Value::Object(out).to_string()
}

pub(crate) fn events<S: AccountSql + ?Sized>(s: &S, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
    let limit = f.limit.clamp(1, 100_000) as i64;
    let rows = s.acc_query(
        "SELECT id, at, actor, person_id, token_id, organisation_id, action, record, before_value, after_value, run_id FROM audit_event \
         WHERE (CAST(?1 AS BIGINT) IS NULL OR person_id = ?1) AND (CAST(?2 AS BIGINT) IS NULL OR organisation_id = ?2) \
         AND (CAST(?3 AS TEXT) IS NULL OR record = ?3) AND (CAST(?4 AS TEXT) IS NULL OR at >= ?4) \
         AND (CAST(?5 AS TEXT) IS NULL OR at < ?5) ORDER BY id DESC LIMIT ?6",
        &[
            f.person_id.into(),
            f.organisation_id.into(),
            f.record.as_deref().into(),
            f.from.as_deref().into(),
            f.to.as_deref().into(),
            Param::Int(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(AuditEvent {
                id: int(&r[0]).ok_or_else(|| corrupt("audit_event.id"))?,
                at: text(&r[1]).unwrap_or_default(),
                actor: text(&r[2]).unwrap_or_default(),
                person_id: int(&r[3]),
                token_id: int(&r[4]),
                organisation_id: int(&r[5]),
                action: text(&r[6]).unwrap_or_default(),
                record: text(&r[7]).unwrap_or_default(),
                before: text(&r[8]),
                after: text(&r[9]),
                run_id: int(&r[10]),
            })
        })
        .collect()
}

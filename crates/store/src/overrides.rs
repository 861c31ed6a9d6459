//! The analyst's overrides of the rules' mapping, on both backends: written once over the
//! [`AccountSql`] primitives, each decision with its history row (`mapping_override_log`), the
//! data generation's step and its audit event (`mapping_override.set` / `.unset`, the override
//! before and after as JSON) in one transaction: no decision without its audit event.

use crate::accounts::audit::{AuditRow, write as audit};
use crate::accounts::{AccountSql, Actor, Param, text, tx};
use crate::{Override, StoreError};

/// The overrides on any backend (a supertrait of `Store`).
pub trait OverrideStore {
    /// Sets (replaces) the analyst's override for an activity, records it in the override
    /// history and the audit trail (as `actor`). Errors: [`StoreError::NotFound`] when no
    /// activity has that identifier.
    fn set_override(&self, actor: &Actor, o: &Override, now: i64) -> Result<(), StoreError>;

    /// Removes the override; returns whether there was one. When there was, records the
    /// removal in the override history with `note` (may be empty) and `at` (RFC 3339, UTC), and
    /// in the audit trail.
    fn remove_override(
        &self,
        actor: &Actor,
        iati_identifier: &str,
        strategy: &str,
        note: &str,
        at: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
}

const BUMP_GENERATION: &str = "UPDATE store_generation SET generation = generation + 1 WHERE id = 1";

/// The override in force for (activity, strategy), if any.
fn in_force<S: AccountSql + ?Sized>(s: &S, ident: &str, strategy: &str) -> Result<Option<Override>, StoreError> {
    let rows = s.acc_query(
        "SELECT lines, note, created_at FROM mapping_override WHERE iati_identifier = ?1 AND strategy = ?2",
        &[Param::Text(ident), Param::Text(strategy)],
    )?;
    Ok(rows.first().map(|r| Override {
        iati_identifier: ident.to_owned(),
        strategy: strategy.to_owned(),
        lines_of_effort: r
            .first()
            .and_then(text)
            .map(|l| l.split(';').filter(|x| !x.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        note: r.get(1).and_then(text).unwrap_or_default(),
        created_at: r.get(2).and_then(text).unwrap_or_default(),
    }))
}

fn json(o: Option<&Override>) -> Option<String> {
    o.and_then(|o| serde_json::to_string(o).ok())
}

impl<S: AccountSql + ?Sized> OverrideStore for S {
    fn set_override(&self, actor: &Actor, o: &Override, now: i64) -> Result<(), StoreError> {
        tx(self, |s| {
            let known =
                s.acc_query("SELECT 1 FROM activity WHERE iati_identifier = ?1", &[Param::Text(&o.iati_identifier)])?;
            if known.is_empty() {
                return Err(StoreError::NotFound(o.iati_identifier.clone()));
            }
            let before = in_force(s, &o.iati_identifier, &o.strategy)?;
            let lines = o.lines_of_effort.join(";");
            s.acc_exec(
                "DELETE FROM mapping_override WHERE iati_identifier = ?1 AND strategy = ?2",
                &[Param::Text(&o.iati_identifier), Param::Text(&o.strategy)],
            )?;
            let row = [
                Param::Text(&o.iati_identifier),
                Param::Text(&o.strategy),
                Param::Text(&lines),
                Param::Text(&o.note),
                Param::Text(&o.created_at),
            ];
            s.acc_exec(
                "INSERT INTO mapping_override (iati_identifier, strategy, lines, note, created_at) VALUES (?1,?2,?3,?4,?5)",
                &row,
            )?;
            s.acc_exec(
                "INSERT INTO mapping_override_log (iati_identifier, strategy, action, lines, note, at) VALUES (?1,?2,'set',?3,?4,?5)",
                &row,
            )?;
            s.acc_exec(BUMP_GENERATION, &[])?;
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: "mapping_override.set",
                    record: &format!("activity:{}", o.iati_identifier),
                    before: json(before.as_ref()).as_deref(),
                    after: json(Some(o)).as_deref(),
                    run_id: None,
                },
            )
        })
    }

    fn remove_override(
        &self,
        actor: &Actor,
        iati_identifier: &str,
        strategy: &str,
        note: &str,
        at: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        tx(self, |s| {
            let Some(before) = in_force(s, iati_identifier, strategy)? else { return Ok(false) };
            s.acc_exec(
                "DELETE FROM mapping_override WHERE iati_identifier = ?1 AND strategy = ?2",
                &[Param::Text(iati_identifier), Param::Text(strategy)],
            )?;
            let lines = before.lines_of_effort.join(";");
            s.acc_exec(
                "INSERT INTO mapping_override_log (iati_identifier, strategy, action, lines, note, at) VALUES (?1,?2,'unset',?3,?4,?5)",
                &[Param::Text(iati_identifier), Param::Text(strategy), Param::Text(&lines), Param::Text(note), Param::Text(at)],
            )?;
            s.acc_exec(BUMP_GENERATION, &[])?;
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: "mapping_override.unset",
                    record: &format!("activity:{iati_identifier}"),
                    before: json(Some(&before)).as_deref(),
                    after: None,
                    run_id: None,
                },
            )?;
            Ok(true)
        })
    }
}

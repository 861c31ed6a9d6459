//! The PostgreSQL schema: migrations (`migrations/postgres/`, one per SQLite migration),
//! recorded in `senda_schema`, applied under an advisory lock so that servers starting
//! together do not race.

use super::{PgStore, now};
use crate::{OpenMode, StoreError};

pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/postgres/0001_init.sql")),
    ("0002_generation_locations", include_str!("../../migrations/postgres/0002_generation_locations.sql")),
    ("0003_indicators_statistics", include_str!("../../migrations/postgres/0003_indicators_statistics.sql")),
    ("0004_activity_copies", include_str!("../../migrations/postgres/0004_activity_copies.sql")),
    ("0005_override_log", include_str!("../../migrations/postgres/0005_override_log.sql")),
    ("0006_title_key", include_str!("../../migrations/postgres/0006_title_key.sql")),
    ("0007_fact_segment", include_str!("../../migrations/postgres/0007_fact_segment.sql")),
    ("0008_accounts", include_str!("../../migrations/postgres/0008_accounts.sql")),
    ("0009_interventions", include_str!("../../migrations/postgres/0009_interventions.sql")),
    ("0010_mapping_confidence", include_str!("../../migrations/postgres/0010_mapping_confidence.sql")),
    ("0011_intervention_form_token", include_str!("../../migrations/postgres/0011_intervention_form_token.sql")),
    ("0012_contributions", include_str!("../../migrations/postgres/0012_contributions.sql")),
    ("0013_requirements", include_str!("../../migrations/postgres/0013_requirements.sql")),
    ("0014_file_generated", include_str!("../../migrations/postgres/0014_file_generated.sql")),
    ("0015_reporting", include_str!("../../migrations/postgres/0015_reporting.sql")),
    ("0016_file_stable_hash", include_str!("../../migrations/postgres/0016_file_stable_hash.sql")),
];

/// Advisory lock key (`pg_advisory_lock`) of migrations.
const MIGRATION_LOCK: i64 = 0x5e4d_a001;

impl PgStore {
    /// The schema version recorded, `None` when the table does not exist.
    pub(super) fn recorded_version(&self) -> Result<Option<i64>, StoreError> {
        let exists: bool = self.query_one("SELECT to_regclass('senda_schema') IS NOT NULL", &[])?.get(0);
        if !exists {
            return Ok(None);
        }
        let row = self.query_opt("SELECT max(version) FROM senda_schema", &[])?;
        Ok(Some(row.and_then(|r| r.get::<_, Option<i64>>(0)).unwrap_or(0)))
    }

    /// Applies pending migrations (under an advisory lock, so servers starting together do not
    /// race); returns the names of those applied.
    pub fn migrate(&mut self, mode: OpenMode) -> Result<Vec<String>, StoreError> {
        let supported = MIGRATIONS.len() as i64;
        if let Some(v) = self.recorded_version()?
            && v > supported
        {
            return Err(StoreError::TooNew { found: v, supported });
        }
        if self.recorded_version()? == Some(supported) {
            return Ok(Vec::new());
        }
        self.batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        let r = self.migrate_locked(mode);
        // Plans prepared before a schema change are not used after it.
        self.statements.borrow_mut().clear();
        let _ = self.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
        r
    }

    fn migrate_locked(&mut self, mode: OpenMode) -> Result<Vec<String>, StoreError> {
        let supported = MIGRATIONS.len() as i64;
        let v = match self.recorded_version()? {
            Some(v) => v,
            None => {
                let tables: i64 = self
                    .query_one(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                        &[],
                    )?
                    .get(0);
                if tables > 0 {
                    return Err(StoreError::NotSenda { path: self.target.clone() });
                }
                if mode == OpenMode::Existing {
                    return Err(StoreError::Open {
                        path: self.target.clone(),
                        message: "no Senda database here yet; create it with `senda migrate --db URL` or `senda import --db URL PATH`".into(),
                    });
                }
                0
            }
        };
        if v > supported {
            return Err(StoreError::TooNew { found: v, supported });
        }
        let mut applied = Vec::new();
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(v as usize) {
            let version = (i + 1) as i64;
            self.write_tx(|s| {
                s.batch("CREATE TABLE IF NOT EXISTS senda_schema (version BIGINT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)")?;
                s.batch(sql)?;
                s.execute(
                    "INSERT INTO senda_schema (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[&version, name, &now()],
                )?;
                Ok(())
            })?;
            applied.push((*name).to_owned());
        }
        Ok(applied)
    }
}

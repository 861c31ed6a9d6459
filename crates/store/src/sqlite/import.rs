//! The SQLite side of an import and of a values batch: the primitive operations of
//! [`ImportTx`] and [`ValuesTx`], one cached statement each. What they write is decided in
//! `crate::rules`.

use super::{BUMP_GENERATION, CHILD_TABLES, SqliteStore, now};
use crate::rules::import::{Existing, ImportTx};
use crate::rules::values::{NewValue, StoredValue, ValueKey, ValuesTx};
use crate::{FileRecord, ImportItem, StoreError, ValueBatch};
use rusqlite::{Connection, OptionalExtension, params};

impl SqliteStore {
    /// Runs `body` for one file inside a savepoint, itself inside the batch's transaction (or
    /// a transaction of its own): `Ok(Some(_))` keeps what it wrote; `Ok(None)` (a rejected
    /// file) or any error rolls back this file and nothing else.
    pub(super) fn in_file_savepoint<T>(
        &mut self,
        body: impl FnOnce(&Self) -> Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let own = !self.in_batch;
        if own {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        // Cached statements: a run of thousands of small files would otherwise parse them
        // again for every file.
        self.conn.prepare_cached("SAVEPOINT senda_file")?.execute([])?;
        let r = body(self);
        let end = match &r {
            Ok(Some(_)) => self.conn.prepare_cached("RELEASE senda_file").and_then(|mut s| s.execute([])).map(drop),
            _ => self.conn.execute_batch("ROLLBACK TO senda_file; RELEASE senda_file"),
        };
        let end = end.and_then(|()| if own { self.conn.execute_batch("COMMIT") } else { Ok(()) });
        if own && end.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        end?;
        r
    }
}

/// [`ImportTx`] over an SQLite connection inside a file's savepoint.
pub(super) struct SqliteTx<'c>(pub &'c Connection);

const INSERT_ACTIVITY: &str = "INSERT INTO activity (iati_identifier, reporting_org_ref, reporting_org_name, title, status, hierarchy, humanitarian, countries, start_date, end_date, last_updated, last_updated_utc, source_path, source_ordinal, fingerprint, n_transactions, commitments_usd, disbursements_usd, expenditures_usd, synthetic, title_es, title_key)
     VALUES (?21,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?22,?23)";
const UPDATE_ACTIVITY: &str = "UPDATE activity SET reporting_org_ref=?2, reporting_org_name=?3, title=?4, status=?5, hierarchy=?6, humanitarian=?7, countries=?8, start_date=?9, end_date=?10, last_updated=?11, last_updated_utc=?12, source_path=?13, source_ordinal=?14, fingerprint=?15, n_transactions=?16, commitments_usd=?17, disbursements_usd=?18, expenditures_usd=?19, synthetic=?20, title_es=?22, title_key=?23 WHERE id=?1";

impl SqliteTx<'_> {
    fn write_row(&self, sql: &str, id: i64, file: &FileRecord, item: &ImportItem) -> Result<(), StoreError> {
        let r = &item.row;
        self.0.prepare_cached(sql)?.execute(params![
            id,
            item.opt(r.reporting_org_ref),
            item.s(r.reporting_org_name),
            item.s(r.title),
            item.opt(r.status),
            item.hierarchy,
            item.humanitarian.map(i64::from),
            item.s(r.countries),
            item.opt(r.start_date),
            item.opt(r.end_date),
            item.opt(r.last_updated),
            item.s(r.last_updated_utc),
            file.path,
            item.ordinal as i64,
            item.fingerprint,
            item.transaction_count as i64,
            item.s(r.commitments_usd),
            item.s(r.disbursements_usd),
            item.s(r.expenditures_usd),
            i64::from(item.synthetic),
            item.iati_identifier(),
            item.s(r.title_es),
            item.s(r.title_key),
        ])?;
        Ok(())
    }
}

impl ImportTx for SqliteTx<'_> {
    fn find(&mut self, ident: &str) -> Result<Option<Existing>, StoreError> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT id, fingerprint, last_updated_utc, source_path, source_ordinal FROM activity WHERE iati_identifier = ?1",
            )?
            .query_row([ident], |r| {
                Ok(Existing {
                    id: r.get(0)?,
                    fingerprint: r.get(1)?,
                    last_updated_utc: r.get(2)?,
                    source_path: r.get(3)?,
                    source_ordinal: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn insert_activity(&mut self, file: &FileRecord, item: &ImportItem) -> Result<i64, StoreError> {
        self.write_row(INSERT_ACTIVITY, 0, file, item)?;
        Ok(self.0.last_insert_rowid())
    }

    fn replace_activity(&mut self, id: i64, file: &FileRecord, item: &ImportItem) -> Result<(), StoreError> {
        self.write_row(UPDATE_ACTIVITY, id, file, item)?;
        for table in CHILD_TABLES {
            if table != "activity_doc" {
                self.0.prepare_cached(&format!("DELETE FROM {table} WHERE activity_id = ?1"))?.execute([id])?;
            }
        }
        Ok(())
    }

    fn insert_children(&mut self, id: i64, item: &ImportItem) -> Result<(), StoreError> {
        let tx = self.0;
        tx.prepare_cached("INSERT OR REPLACE INTO activity_doc (activity_id, doc, transactions) VALUES (?1, ?2, ?3)")?
            .execute(params![id, item.encoded.doc, item.encoded.transactions])?;
        let mut ins_loc = tx.prepare_cached(
            "INSERT INTO activity_location (activity_id, country, vocabulary, code, name) VALUES (?1,?2,?3,?4,?5)",
        )?;
        for [country, vocabulary, code, name] in &item.locations {
            ins_loc.execute(params![id, item.s(*country), item.s(*vocabulary), item.s(*code), item.s(*name)])?;
        }
        if item.indicators > 0 {
            tx.prepare_cached("INSERT INTO activity_result (activity_id, indicators) VALUES (?1, ?2)")?
                .execute(params![id, item.indicators as i64])?;
        }
        let mut ins_fact = tx.prepare_cached(
            "INSERT INTO fact (activity_id, transaction_index, transaction_type, date, currency, country, sector, implementing_org, amount) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
        )?;
        for f in &item.facts {
            ins_fact.execute(params![
                id,
                f.transaction_index,
                item.s(f.transaction_type),
                item.opt(f.date),
                item.s(f.currency),
                item.s(f.country),
                item.s(f.sector),
                item.s(f.implementing_org),
                item.s(f.amount)
            ])?;
        }
        // "Not mapped" is the absence of rows: most activities map to no line of effort.
        // A not-mapped activity with near misses has its evidence row only.
        let mut ins_map = tx.prepare_cached(
            "INSERT OR REPLACE INTO activity_mapping (activity_id, strategy, lines, confidence) VALUES (?1,?2,?3,?4)",
        )?;
        let mut ins_ev = tx.prepare_cached(
            "INSERT OR REPLACE INTO mapping_evidence (activity_id, strategy, evidence, near_misses) VALUES (?1,?2,?3,?4)",
        )?;
        for [strategy, lines, confidence, evidence, near] in &item.mappings {
            if !item.s(*lines).is_empty() {
                ins_map.execute(params![id, item.s(*strategy), item.s(*lines), item.s(*confidence)])?;
            }
            ins_ev.execute(params![id, item.s(*strategy), item.s(*evidence), item.s(*near)])?;
        }
        Ok(())
    }

    fn touch(&mut self, id: i64, path: &str, ordinal: u64, item: &ImportItem) -> Result<(), StoreError> {
        let r = &item.row;
        self.0
            .prepare_cached(
                "UPDATE activity SET source_path=?2, source_ordinal=?3, last_updated=?4, last_updated_utc=?5 WHERE id=?1",
            )?
            .execute(params![id, path, ordinal as i64, item.opt(r.last_updated), item.s(r.last_updated_utc)])?;
        Ok(())
    }

    fn source_of(&mut self, id: i64) -> Result<(String, u64), StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT source_path, source_ordinal FROM activity WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?)
    }

    fn forget_copies(&mut self, path: &str) -> Result<(), StoreError> {
        self.0.prepare_cached("DELETE FROM activity_copy WHERE source_path = ?1")?.execute([path])?;
        Ok(())
    }

    fn record_copies(&mut self, ident: &str, a: &str, b: &str) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT OR IGNORE INTO activity_copy (iati_identifier, source_path) VALUES (?1, ?2), (?1, ?3)",
            )?
            .execute(params![ident, a, b])?;
        Ok(())
    }

    fn other_copies(&mut self, ident: &str, path: &str) -> Result<Vec<String>, StoreError> {
        let mut st = self.0.prepare_cached(
            "SELECT source_path FROM activity_copy WHERE iati_identifier = ?1 AND source_path <> ?2 ORDER BY source_path",
        )?;
        let rows = st.query_map(params![ident, path], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rows_of_file(&mut self, path: &str) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut st =
            self.0.prepare_cached("SELECT id, iati_identifier, fingerprint FROM activity WHERE source_path = ?1")?;
        let rows = st.query_map([path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_activity(&mut self, id: i64) -> Result<(), StoreError> {
        // Child rows are deleted explicitly: foreign keys are off inside an import batch.
        for table in CHILD_TABLES {
            self.0.prepare_cached(&format!("DELETE FROM {table} WHERE activity_id = ?1"))?.execute([id])?;
        }
        self.0.prepare_cached("DELETE FROM activity WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn mark_unread(&mut self, path: &str) -> Result<(), StoreError> {
        self.0.prepare_cached("UPDATE source_file SET content_hash = '' WHERE path = ?1")?.execute([path])?;
        Ok(())
    }

    fn record_file(&mut self, file: &FileRecord, activities: u64, transactions: u64) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO source_file (path, content_hash, size, reader_version, activities, transactions, imported_at) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?
            .execute(params![
                file.path,
                file.content_hash,
                file.size as i64,
                file.reader_version,
                activities as i64,
                transactions as i64,
                now()
            ])?;
        Ok(())
    }

    fn bump_generation(&mut self) -> Result<(), StoreError> {
        self.0.prepare_cached(BUMP_GENERATION)?.execute([])?;
        Ok(())
    }
    fn mark_segments_stale(&mut self, segments: &[u32]) -> Result<(), StoreError> {
        super::mark_segments_stale(self.0, segments)
    }

    fn has_copies(&mut self, path: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM activity_copy WHERE source_path = ?1)")?
            .query_row([path], |r| r.get::<_, bool>(0))?)
    }

    fn stamps_of_file(&mut self, path: &str) -> Result<Vec<(i64, u64, Option<String>)>, StoreError> {
        let mut st =
            self.0.prepare_cached("SELECT id, source_ordinal, last_updated FROM activity WHERE source_path = ?1")?;
        let rows = st.query_map([path], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_last_updated(&mut self, rows: &[crate::rules::restamp::NewStamp]) -> Result<(), StoreError> {
        // Rows in blocks of `BLOCK` per statement (SQLite's `UPDATE ... FROM`): fewer statement
        // runs for a file of thousands of activities.
        const BLOCK: usize = 256;
        let sql = |n: usize| {
            let values = vec!["(?,?,?)"; n].join(",");
            format!(
                "UPDATE activity SET last_updated = n.column2, last_updated_utc = n.column3 FROM (VALUES {values}) AS n WHERE activity.id = n.column1"
            )
        };
        for block in rows.chunks(BLOCK) {
            let mut st = self.0.prepare_cached(&sql(block.len()))?;
            let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(3 * block.len());
            for (id, raw, utc) in block {
                params.push(id);
                params.push(raw);
                params.push(utc);
            }
            st.execute(params.as_slice())?;
        }
        Ok(())
    }
}

/// [`ValuesTx`] over an SQLite transaction.
pub(super) struct SqliteValuesTx<'c>(pub &'c Connection);

impl ValuesTx for SqliteValuesTx<'_> {
    fn find_file(&mut self, dataset: &str, path: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT id, content_hash FROM value_file WHERE dataset = ?1 AND path = ?2",
                params![dataset, path],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn count_file_values(&mut self, file_id: i64) -> Result<u64, StoreError> {
        Ok(self.0.query_row("SELECT count(*) FROM observation WHERE file_id = ?1", [file_id], |r| r.get::<_, i64>(0))?
            as u64)
    }

    fn file_keys(&mut self, file_id: i64) -> Result<Vec<ValueKey>, StoreError> {
        let mut st =
            self.0.prepare("SELECT series, place, period, disaggregation, kind FROM observation WHERE file_id = ?1")?;
        let rows = st.query_map([file_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_file(&mut self, file_id: i64, batch: &ValueBatch, now: &str, report: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE value_file SET format = ?2, content_hash = ?3, imported_at = ?4, report = ?5 WHERE id = ?1",
            params![file_id, batch.format, batch.content_hash, now, report],
        )?;
        Ok(())
    }

    fn insert_file(&mut self, path: &str, batch: &ValueBatch, now: &str, report: &str) -> Result<i64, StoreError> {
        self.0.execute(
            "INSERT INTO value_file (dataset, path, format, content_hash, imported_at, report) VALUES (?1,?2,?3,?4,?5,?6)",
            params![batch.dataset, path, batch.format, batch.content_hash, now, report],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    fn upsert_series(&mut self, se: &senda_core::StatSeries) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT INTO stat_series (code, name, name_es, unit, source) VALUES (?1,?2,?3,?4,?5)
                 ON CONFLICT(code) DO UPDATE SET name=excluded.name, name_es=excluded.name_es, unit=excluded.unit, source=excluded.source",
            )?
            .execute(params![se.code, se.name, se.name_es, se.unit, se.source])?;
        Ok(())
    }

    fn find_value(&mut self, key: &ValueKey) -> Result<Option<StoredValue>, StoreError> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT value, denominator, definition_id, file_id, origin FROM observation
                 WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5",
            )?
            .query_row(params![key.0, key.1, key.2, key.3, key.4], |r| {
                Ok(StoredValue {
                    value: r.get(0)?,
                    denominator: r.get(1)?,
                    definition_id: r.get(2)?,
                    file_id: r.get(3)?,
                    origin: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn upsert_value(&mut self, v: &NewValue<'_>) -> Result<(), StoreError> {
        let k = v.key;
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO observation (series, place, country, period, period_start, disaggregation, kind, value, denominator, definition_id, file_id, origin)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
            )?
            .execute(params![
                k.0,
                k.1,
                v.country,
                k.2,
                v.period_start,
                k.3,
                k.4,
                v.value,
                v.denominator,
                v.definition_id,
                v.file_id,
                v.origin
            ])?;
        Ok(())
    }

    fn touch_value(&mut self, key: &ValueKey, file_id: Option<i64>, origin: &str) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "UPDATE observation SET file_id = ?6, origin = ?7 WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5",
            )?
            .execute(params![key.0, key.1, key.2, key.3, key.4, file_id, origin])?;
        Ok(())
    }

    fn delete_value(&mut self, key: &ValueKey, file_id: i64) -> Result<u64, StoreError> {
        Ok(self
            .0
            .prepare_cached(
                "DELETE FROM observation WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5 AND file_id = ?6",
            )?
            .execute(params![key.0, key.1, key.2, key.3, key.4, file_id])? as u64)
    }

    fn bump_generation(&mut self) -> Result<(), StoreError> {
        self.0.execute(BUMP_GENERATION, [])?;
        Ok(())
    }

    fn record_audit(&mut self, r: &crate::accounts::AuditRow<'_>) -> Result<(), StoreError> {
        self.0.execute(
            crate::accounts::INSERT_AUDIT,
            params![
                r.at_text(),
                r.actor.label,
                r.actor.person_id,
                r.actor.token_id,
                r.actor.organisation_id,
                r.action,
                r.record,
                r.before,
                r.after,
                r.run_id
            ],
        )?;
        Ok(())
    }
}

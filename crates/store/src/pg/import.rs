//! The PostgreSQL side of an import and of a values batch: [`ImportTx`] and [`ValuesTx`].
//!
//! Round trips are what an import into PostgreSQL costs, so the rows an activity owns (facts,
//! locations, results, mappings, evidence) are gathered in `COPY` text buffers and sent once per
//! file ([`PgTx::flush`]), and the activity row and its document are written by one statement.
//! Anything that reads or deletes rows a buffer may hold flushes first, so reads always see the
//! file's earlier writes.

use super::{BUMP_GENERATION, PgStore, now};
use crate::rules::import::{Existing, ImportTx};
use crate::rules::values::{NewValue, StoredValue, ValueKey, ValuesTx};
use crate::{FileRecord, ImportItem, StoreError, ValueBatch};
use std::collections::HashMap;
use std::io::Write;

/// Child tables of an activity, deleted with it.
const CHILD_TABLES: [&str; 6] =
    ["fact", "activity_doc", "activity_mapping", "mapping_evidence", "activity_location", "activity_result"];

/// Appends one row in `COPY ... FROM STDIN` text format (`\N` for NULL; backslash, tab,
/// newline and carriage return escaped).
pub(super) fn copy_row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match f {
            None => buf.push_str("\\N"),
            Some(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
        }
    }
    buf.push('\n');
}

/// Sends `data` through `COPY` (nothing when empty).
pub(super) fn copy_in(s: &PgStore, sql: &str, data: &str) -> Result<(), StoreError> {
    if data.is_empty() {
        return Ok(());
    }
    let mut c = s.c();
    let mut w = c.copy_in(sql).map_err(|e| s.err(e))?;
    w.write_all(data.as_bytes())
        .map_err(|e| StoreError::Unavailable { target: s.target.clone(), message: e.to_string() })?;
    w.finish().map_err(|e| s.err(e))?;
    Ok(())
}

impl PgStore {
    /// Runs `body` for one file inside a savepoint of the batch's transaction (or a
    /// transaction of its own): `Ok(Some(_))` keeps it; `Ok(None)` or an error rolls back
    /// this file alone.
    pub(super) fn in_file_savepoint<T>(
        &mut self,
        body: impl FnOnce(&Self) -> Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let own = !self.in_batch;
        if own {
            self.begin_write()?;
        }
        self.batch("SAVEPOINT senda_file")?;
        let r = body(self);
        let end = match &r {
            Ok(Some(_)) => self.batch("RELEASE SAVEPOINT senda_file"),
            _ => self.batch("ROLLBACK TO SAVEPOINT senda_file; RELEASE SAVEPOINT senda_file"),
        };
        let end = end.and_then(|()| if own { self.batch("COMMIT") } else { Ok(()) });
        if end.is_err() {
            // The connection may be gone or the transaction aborted: nothing of it stays.
            let _ = self.batch("ROLLBACK");
            if !own {
                self.in_batch = false;
            }
        }
        end?;
        r
    }
}

/// [`ImportTx`] over a PostgreSQL connection inside a file's savepoint.
///
/// A new activity costs no round trip of its own: its id is taken from a block of the
/// identity sequence reserved in advance, its row and document join `COPY` buffers, and
/// [`ImportTx::prefetch`] has read the stored rows of the next identifiers in one query. Every
/// read of rows a buffer may hold, and every update or delete, sends the buffers first.
pub(super) struct PgTx<'s> {
    s: &'s PgStore,
    /// Stored rows by identifier, as this file has left them so far (`None`: not stored).
    found: HashMap<String, Option<Existing>>,
    /// Identifier of each row id in `found`.
    by_id: HashMap<i64, String>,
    activities: String,
    docs: String,
    facts: String,
    locations: String,
    results: String,
    mappings: String,
    evidence: String,
}

/// Activity ids reserved from the sequence at a time.
const ID_BLOCK: i64 = 512;

fn hex_into(buf: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.reserve(2 + 2 * bytes.len());
    buf.push_str("\\x");
    for b in bytes {
        buf.push(HEX[usize::from(b >> 4)] as char);
        buf.push(HEX[usize::from(b & 15)] as char);
    }
}

impl<'s> PgTx<'s> {
    pub(super) fn new(s: &'s PgStore) -> Self {
        Self {
            s,
            found: HashMap::new(),
            by_id: HashMap::new(),
            activities: String::new(),
            docs: String::new(),
            facts: String::new(),
            locations: String::new(),
            results: String::new(),
            mappings: String::new(),
            evidence: String::new(),
        }
    }

    /// Sends the buffered rows, parents first.
    pub(super) fn flush(&mut self) -> Result<(), StoreError> {
        let s = self.s;
        let sends: [(&str, &mut String); 7] = [
            (
                "COPY activity (id, iati_identifier, reporting_org_ref, reporting_org_name, title, status, hierarchy, humanitarian, countries, start_date, end_date, last_updated, last_updated_utc, source_path, source_ordinal, fingerprint, n_transactions, commitments_usd, disbursements_usd, expenditures_usd, synthetic, title_es, title_key) FROM STDIN",
                &mut self.activities,
            ),
            ("COPY activity_doc (activity_id, doc, transactions) FROM STDIN", &mut self.docs),
            (
                "COPY fact (activity_id, transaction_index, transaction_type, date, currency, country, sector, implementing_org, amount) FROM STDIN",
                &mut self.facts,
            ),
            ("COPY activity_location (activity_id, country, vocabulary, code, name) FROM STDIN", &mut self.locations),
            ("COPY activity_result (activity_id, indicators) FROM STDIN", &mut self.results),
            ("COPY activity_mapping (activity_id, strategy, lines, confidence) FROM STDIN", &mut self.mappings),
            ("COPY mapping_evidence (activity_id, strategy, evidence, near_misses) FROM STDIN", &mut self.evidence),
        ];
        for (sql, buf) in sends {
            copy_in(s, sql, &std::mem::take(buf))?;
        }
        Ok(())
    }

    fn flush_if_any(&mut self) -> Result<(), StoreError> {
        if !(self.activities.is_empty()
            && self.facts.is_empty()
            && self.docs.is_empty()
            && self.locations.is_empty()
            && self.results.is_empty()
            && self.mappings.is_empty()
            && self.evidence.is_empty())
        {
            self.flush()?;
        }
        Ok(())
    }

    fn next_id(&mut self) -> Result<i64, StoreError> {
        if let Some(id) = self.s.reserved_ids.borrow_mut().pop() {
            return Ok(id);
        }
        let mut ids: Vec<i64> = self
            .s
            .query(
                &format!(
                    "SELECT nextval(pg_get_serial_sequence('activity', 'id')) FROM generate_series(1, {ID_BLOCK})"
                ),
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.reverse();
        let id = ids.pop().ok_or_else(|| StoreError::database("the activity id sequence gave no value"))?;
        *self.s.reserved_ids.borrow_mut() = ids;
        Ok(id)
    }

    /// Keeps `found` as the database now is for the row `id`.
    fn note(&mut self, id: i64, f: impl FnOnce(&mut Existing)) {
        if let Some(ident) = self.by_id.get(&id)
            && let Some(Some(e)) = self.found.get_mut(ident)
        {
            f(e);
        }
    }
}

/// Integers of the activity row: hierarchy, humanitarian, ordinal, transactions, synthetic.
fn ints_of(item: &ImportItem) -> [Option<i64>; 5] {
    [
        item.hierarchy.map(i64::from),
        item.humanitarian.map(i64::from),
        Some(item.ordinal as i64),
        Some(item.transaction_count as i64),
        Some(i64::from(item.synthetic)),
    ]
}

fn existing_of(r: &postgres::Row) -> Existing {
    Existing {
        id: r.get(0),
        fingerprint: r.get(1),
        last_updated_utc: r.get(2),
        source_path: r.get(3),
        source_ordinal: r.get::<_, i64>(4) as u64,
    }
}

impl ImportTx for PgTx<'_> {
    fn prefetch(&mut self, idents: &[&str]) -> Result<(), StoreError> {
        let ask: Vec<&str> = idents.iter().copied().filter(|i| !self.found.contains_key(*i)).collect();
        if ask.is_empty() {
            return Ok(());
        }
        for i in &ask {
            self.found.insert((*i).to_owned(), None);
        }
        for r in self.s.query(
            "SELECT id, fingerprint, last_updated_utc, source_path, source_ordinal, iati_identifier FROM activity WHERE iati_identifier = ANY($1)",
            &[&ask],
        )? {
            let ident: String = r.get(5);
            let e = existing_of(&r);
            self.by_id.insert(e.id, ident.clone());
            self.found.insert(ident, Some(e));
        }
        Ok(())
    }

    fn find(&mut self, ident: &str) -> Result<Option<Existing>, StoreError> {
        if let Some(e) = self.found.get(ident) {
            return Ok(e.clone());
        }
        Ok(self
            .s
            .query_opt(
                "SELECT id, fingerprint, last_updated_utc, source_path, source_ordinal FROM activity WHERE iati_identifier = $1",
                &[&ident],
            )?
            .map(|r| existing_of(&r)))
    }

    fn insert_activity(&mut self, file: &FileRecord, item: &ImportItem) -> Result<i64, StoreError> {
        let id = self.next_id()?;
        let r = &item.row;
        let ints = ints_of(item);
        let num = |v: Option<i64>| v.map(|n| n.to_string());
        let (h, hu, o, n, sy) = (num(ints[0]), num(ints[1]), num(ints[2]), num(ints[3]), num(ints[4]));
        let id_s = id.to_string();
        copy_row(
            &mut self.activities,
            &[
                Some(&id_s),
                Some(item.iati_identifier()),
                item.opt(r.reporting_org_ref),
                Some(item.s(r.reporting_org_name)),
                Some(item.s(r.title)),
                item.opt(r.status),
                h.as_deref(),
                hu.as_deref(),
                Some(item.s(r.countries)),
                item.opt(r.start_date),
                item.opt(r.end_date),
                item.opt(r.last_updated),
                Some(item.s(r.last_updated_utc)),
                Some(&file.path),
                o.as_deref(),
                Some(&item.fingerprint),
                n.as_deref(),
                Some(item.s(r.commitments_usd)),
                Some(item.s(r.disbursements_usd)),
                Some(item.s(r.expenditures_usd)),
                sy.as_deref(),
                Some(item.s(r.title_es)),
                Some(item.s(r.title_key)),
            ],
        );
        // The document: bytea in COPY's text form (hex; its backslash escaped by `copy_row`).
        let (mut doc, mut txs) = (String::new(), String::new());
        hex_into(&mut doc, &item.encoded.doc);
        hex_into(&mut txs, &item.encoded.transactions);
        copy_row(&mut self.docs, &[Some(&id_s), Some(&doc), Some(&txs)]);
        let ident = item.iati_identifier().to_owned();
        self.by_id.insert(id, ident.clone());
        self.found.insert(
            ident,
            Some(Existing {
                id,
                fingerprint: item.fingerprint.clone(),
                last_updated_utc: item.s(r.last_updated_utc).to_owned(),
                source_path: file.path.clone(),
                source_ordinal: item.ordinal,
            }),
        );
        Ok(id)
    }

    fn replace_activity(&mut self, id: i64, file: &FileRecord, item: &ImportItem) -> Result<(), StoreError> {
        self.flush_if_any()?;
        for table in CHILD_TABLES {
            if table != "activity_doc" {
                self.s.execute(&format!("DELETE FROM {table} WHERE activity_id = $1"), &[&id])?;
            }
        }
        let r = &item.row;
        let ints = ints_of(item);
        self.s.execute(
            "UPDATE activity SET reporting_org_ref=$2, reporting_org_name=$3, title=$4, status=$5, hierarchy=$6, humanitarian=$7, countries=$8, start_date=$9, end_date=$10, last_updated=$11, last_updated_utc=$12, source_path=$13, source_ordinal=$14, fingerprint=$15, n_transactions=$16, commitments_usd=$17, disbursements_usd=$18, expenditures_usd=$19, synthetic=$20, title_es=$21, title_key=$22 WHERE id=$1",
            &[
                &id,
                &item.opt(r.reporting_org_ref),
                &item.s(r.reporting_org_name),
                &item.s(r.title),
                &item.opt(r.status),
                &ints[0],
                &ints[1],
                &item.s(r.countries),
                &item.opt(r.start_date),
                &item.opt(r.end_date),
                &item.opt(r.last_updated),
                &item.s(r.last_updated_utc),
                &file.path,
                &ints[2],
                &item.fingerprint,
                &ints[3],
                &item.s(r.commitments_usd),
                &item.s(r.disbursements_usd),
                &item.s(r.expenditures_usd),
                &ints[4],
                &item.s(r.title_es),
                &item.s(r.title_key),
            ],
        )?;
        self.s.execute(
            "INSERT INTO activity_doc (activity_id, doc, transactions) VALUES ($1, $2, $3)
             ON CONFLICT (activity_id) DO UPDATE SET doc = excluded.doc, transactions = excluded.transactions",
            &[&id, &item.encoded.doc, &item.encoded.transactions],
        )?;
        let (fp, lu, path, ordinal) =
            (item.fingerprint.clone(), item.s(r.last_updated_utc).to_owned(), file.path.clone(), item.ordinal);
        self.note(id, |e| {
            e.fingerprint = fp;
            e.last_updated_utc = lu;
            e.source_path = path;
            e.source_ordinal = ordinal;
        });
        Ok(())
    }

    fn insert_children(&mut self, id: i64, item: &ImportItem) -> Result<(), StoreError> {
        let id_s = id.to_string();
        for [country, vocabulary, code, name] in &item.locations {
            copy_row(
                &mut self.locations,
                &[
                    Some(&id_s),
                    Some(item.s(*country)),
                    Some(item.s(*vocabulary)),
                    Some(item.s(*code)),
                    Some(item.s(*name)),
                ],
            );
        }
        if item.indicators > 0 {
            copy_row(&mut self.results, &[Some(&id_s), Some(&item.indicators.to_string())]);
        }
        let mut index = String::new();
        for f in &item.facts {
            index.clear();
            if let Some(i) = f.transaction_index {
                index.push_str(&i.to_string());
            }
            copy_row(
                &mut self.facts,
                &[
                    Some(&id_s),
                    f.transaction_index.map(|_| index.as_str()),
                    Some(item.s(f.transaction_type)),
                    item.opt(f.date),
                    Some(item.s(f.currency)),
                    Some(item.s(f.country)),
                    Some(item.s(f.sector)),
                    Some(item.s(f.implementing_org)),
                    Some(item.s(f.amount)),
                ],
            );
        }
        // A not-mapped activity with near misses has its evidence row only.
        for [strategy, lines, confidence, evidence, near] in &item.mappings {
            if !item.s(*lines).is_empty() {
                copy_row(
                    &mut self.mappings,
                    &[Some(&id_s), Some(item.s(*strategy)), Some(item.s(*lines)), Some(item.s(*confidence))],
                );
            }
            copy_row(
                &mut self.evidence,
                &[Some(&id_s), Some(item.s(*strategy)), Some(item.s(*evidence)), Some(item.s(*near))],
            );
        }
        // Keep the buffers a few megabytes at most.
        if self.facts.len() > 8 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    fn touch(&mut self, id: i64, path: &str, ordinal: u64, item: &ImportItem) -> Result<(), StoreError> {
        self.flush_if_any()?;
        let p = path.to_owned();
        let r = &item.row;
        let (lu, utc) = (item.opt(r.last_updated), item.s(r.last_updated_utc));
        let u = utc.to_owned();
        self.note(id, |e| {
            e.source_path = p;
            e.source_ordinal = ordinal;
            e.last_updated_utc = u;
        });
        self.s.execute(
            "UPDATE activity SET source_path = $2, source_ordinal = $3, last_updated = $4, last_updated_utc = $5 WHERE id = $1",
            &[&id, &path, &(ordinal as i64), &lu, &utc],
        )?;
        Ok(())
    }

    fn source_of(&mut self, id: i64) -> Result<(String, u64), StoreError> {
        self.flush_if_any()?;
        let r = self.s.query_one("SELECT source_path, source_ordinal FROM activity WHERE id = $1", &[&id])?;
        Ok((r.get(0), r.get::<_, i64>(1) as u64))
    }

    fn forget_copies(&mut self, path: &str) -> Result<(), StoreError> {
        self.s.execute("DELETE FROM activity_copy WHERE source_path = $1", &[&path])?;
        Ok(())
    }

    fn record_copies(&mut self, ident: &str, a: &str, b: &str) -> Result<(), StoreError> {
        self.s.execute(
            "INSERT INTO activity_copy (iati_identifier, source_path) VALUES ($1, $2), ($1, $3) ON CONFLICT DO NOTHING",
            &[&ident, &a, &b],
        )?;
        Ok(())
    }

    fn other_copies(&mut self, ident: &str, path: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .s
            .query(
                "SELECT source_path FROM activity_copy WHERE iati_identifier = $1 AND source_path <> $2 ORDER BY source_path",
                &[&ident, &path],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn rows_of_file(&mut self, path: &str) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.flush_if_any()?;
        Ok(self
            .s
            .query("SELECT id, iati_identifier, fingerprint FROM activity WHERE source_path = $1", &[&path])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn delete_activity(&mut self, id: i64) -> Result<(), StoreError> {
        self.flush_if_any()?;
        for table in CHILD_TABLES {
            self.s.execute(&format!("DELETE FROM {table} WHERE activity_id = $1"), &[&id])?;
        }
        self.s.execute("DELETE FROM activity WHERE id = $1", &[&id])?;
        if let Some(ident) = self.by_id.remove(&id) {
            self.found.insert(ident, None);
        }
        Ok(())
    }

    fn mark_unread(&mut self, path: &str) -> Result<(), StoreError> {
        self.s.execute("UPDATE source_file SET content_hash = '' WHERE path = $1", &[&path])?;
        Ok(())
    }

    fn record_file(&mut self, file: &FileRecord, activities: u64, transactions: u64) -> Result<(), StoreError> {
        self.s.execute(
            "INSERT INTO source_file (path, content_hash, size, reader_version, activities, transactions, imported_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
             ON CONFLICT (path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size, reader_version = excluded.reader_version, activities = excluded.activities, transactions = excluded.transactions, imported_at = excluded.imported_at",
            &[
                &file.path,
                &file.content_hash,
                &(file.size as i64),
                &i64::from(file.reader_version),
                &(activities as i64),
                &(transactions as i64),
                &now(),
            ],
        )?;
        Ok(())
    }

    fn bump_generation(&mut self) -> Result<(), StoreError> {
        self.s.execute(BUMP_GENERATION, &[])?;
        Ok(())
    }
    fn mark_segments_stale(&mut self, segments: &[u32]) -> Result<(), StoreError> {
        super::mark_segments_stale(self.s, segments)
    }

    fn has_copies(&mut self, path: &str) -> Result<bool, StoreError> {
        self.flush_if_any()?;
        Ok(self.s.query_opt("SELECT 1 FROM activity_copy WHERE source_path = $1 LIMIT 1", &[&path])?.is_some())
    }

    fn stamps_of_file(&mut self, path: &str) -> Result<Vec<(i64, u64, Option<String>)>, StoreError> {
        self.flush_if_any()?;
        Ok(self
            .s
            .query("SELECT id, source_ordinal, last_updated FROM activity WHERE source_path = $1", &[&path])?
            .into_iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u64, r.get(2)))
            .collect())
    }

    fn set_last_updated(&mut self, rows: &[crate::rules::restamp::NewStamp]) -> Result<(), StoreError> {
        self.flush_if_any()?;
        // One statement for the file, whatever its size: a round trip per row would cost more
        // than the full read this shortcut saves.
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let raw: Vec<Option<&str>> = rows.iter().map(|r| r.1.as_deref()).collect();
        let utc: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
        self.s.execute(
            "UPDATE activity a SET last_updated = n.raw, last_updated_utc = n.utc
             FROM unnest($1::bigint[], $2::text[], $3::text[]) AS n(id, raw, utc) WHERE a.id = n.id",
            &[&ids, &raw, &utc],
        )?;
        for (id, _, u) in rows {
            let u = u.clone();
            self.note(*id, |e| e.last_updated_utc = u);
        }
        Ok(())
    }
}

/// [`ValuesTx`] over a PostgreSQL transaction.
pub(super) struct PgValuesTx<'s>(pub &'s PgStore);

impl ValuesTx for PgValuesTx<'_> {
    fn find_file(&mut self, dataset: &str, path: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .0
            .query_opt("SELECT id, content_hash FROM value_file WHERE dataset = $1 AND path = $2", &[&dataset, &path])?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn count_file_values(&mut self, file_id: i64) -> Result<u64, StoreError> {
        Ok(self.0.query_one("SELECT count(*) FROM observation WHERE file_id = $1", &[&file_id])?.get::<_, i64>(0)
            as u64)
    }

    fn file_keys(&mut self, file_id: i64) -> Result<Vec<ValueKey>, StoreError> {
        Ok(self
            .0
            .query(
                "SELECT series, place, period, disaggregation, kind FROM observation WHERE file_id = $1",
                &[&file_id],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    fn update_file(&mut self, file_id: i64, batch: &ValueBatch, now: &str, report: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE value_file SET format = $2, content_hash = $3, imported_at = $4, report = $5 WHERE id = $1",
            &[&file_id, &batch.format, &batch.content_hash, &now, &report],
        )?;
        Ok(())
    }

    fn insert_file(&mut self, path: &str, batch: &ValueBatch, now: &str, report: &str) -> Result<i64, StoreError> {
        Ok(self
            .0
            .query_one(
                "INSERT INTO value_file (dataset, path, format, content_hash, imported_at, report) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
                &[&batch.dataset, &path, &batch.format, &batch.content_hash, &now, &report],
            )?
            .get(0))
    }

    fn upsert_series(&mut self, se: &senda_core::StatSeries) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO stat_series (code, name, name_es, unit, source) VALUES ($1,$2,$3,$4,$5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_es = excluded.name_es, unit = excluded.unit, source = excluded.source",
            &[&se.code, &se.name, &se.name_es, &se.unit, &se.source],
        )?;
        Ok(())
    }

    fn find_value(&mut self, key: &ValueKey) -> Result<Option<StoredValue>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT value, denominator, definition_id, file_id, origin FROM observation
                 WHERE series = $1 AND place = $2 AND period = $3 AND disaggregation = $4 AND kind = $5",
                &[&key.0, &key.1, &key.2, &key.3, &key.4],
            )?
            .map(|r| StoredValue {
                value: r.get(0),
                denominator: r.get(1),
                definition_id: r.get(2),
                file_id: r.get(3),
                origin: r.get(4),
            }))
    }

    fn upsert_value(&mut self, v: &NewValue<'_>) -> Result<(), StoreError> {
        let k = v.key;
        self.0.execute(
            "INSERT INTO observation (series, place, country, period, period_start, disaggregation, kind, value, denominator, definition_id, file_id, origin)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
             ON CONFLICT (series, place, period, disaggregation, kind) DO UPDATE SET country = excluded.country, period_start = excluded.period_start, value = excluded.value, denominator = excluded.denominator, definition_id = excluded.definition_id, file_id = excluded.file_id, origin = excluded.origin",
            &[
                &k.0,
                &k.1,
                &v.country,
                &k.2,
                &v.period_start,
                &k.3,
                &k.4,
                &v.value,
                &v.denominator,
                &v.definition_id,
                &v.file_id,
                &v.origin,
            ],
        )?;
        Ok(())
    }

    fn touch_value(&mut self, key: &ValueKey, file_id: Option<i64>, origin: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE observation SET file_id = $6, origin = $7 WHERE series = $1 AND place = $2 AND period = $3 AND disaggregation = $4 AND kind = $5",
            &[&key.0, &key.1, &key.2, &key.3, &key.4, &file_id, &origin],
        )?;
        Ok(())
    }

    fn delete_value(&mut self, key: &ValueKey, file_id: i64) -> Result<u64, StoreError> {
        self.0.execute(
            "DELETE FROM observation WHERE series = $1 AND place = $2 AND period = $3 AND disaggregation = $4 AND kind = $5 AND file_id = $6",
            &[&key.0, &key.1, &key.2, &key.3, &key.4, &file_id],
        )
    }

    fn bump_generation(&mut self) -> Result<(), StoreError> {
        self.0.execute(BUMP_GENERATION, &[])?;
        Ok(())
    }

    fn record_audit(&mut self, r: &crate::accounts::AuditRow<'_>) -> Result<(), StoreError> {
        super::record_audit(self.0, r)
    }
}

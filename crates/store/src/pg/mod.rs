//! The PostgreSQL backend: the same schema as SQLite (`migrations/postgres/NNNN_*.sql`, one per
//! SQLite migration, recorded in `senda_schema`), the same rules (`crate::rules`), its own
//! primitives. Text keys are `COLLATE "C"` (bytes, as SQLite compares); amounts and times are
//! stored as the same exact text as on SQLite. Bulk rows of an import (facts, locations,
//! mappings, evidence) go through `COPY`.

mod accounts;
mod conn;
mod copy;
mod import;
mod schema;
mod segments;
mod tls;

pub use conn::describe_url;

use crate::query::{self, Dialect};
use crate::rules::ledger::RunMemory;
use crate::*;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row};
pub(super) use segments::mark_segments_stale;
use segments::{FACTS_BETWEEN, SegmentsTx};
use senda_core::Severity;
use std::cell::RefCell;

/// Advisory lock key (`pg_advisory_xact_lock`) of every write (the migrations' is in `schema.rs`).
const WRITE_LOCK: i64 = 0x5e4d_a002;

const BUMP_GENERATION: &str = "UPDATE store_generation SET generation = generation + 1 WHERE id = 1";

/// A PostgreSQL store: one connection (a server keeps several in its pool).
pub struct PgStore {
    client: RefCell<Client>,
    target: String,
    in_batch: bool,
    run: RunMemory,
    /// Migrations this open applied.
    applied: Vec<String>,
    /// Prepared statements by SQL text (see [`PgStore::prepared`]).
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// Activity ids reserved from the identity sequence and not used yet, next last (an
    /// import takes them in blocks: see `import::PgTx`). Unused ones are simply gaps.
    pub(super) reserved_ids: RefCell<Vec<i64>>,
}

/// Prepared statements a connection keeps at most (past it, the cache starts over).
const STATEMENT_CACHE: usize = 256;

type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

fn text_params(args: &[String]) -> Params<'_> {
    args.iter().map(|s| s as &(dyn ToSql + Sync)).collect()
}

fn lines_split(s: &str) -> Vec<String> {
    s.split(';').filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

impl PgStore {
    /// Connects and migrates. `OpenMode::Existing` refuses a database without Senda's schema.
    pub fn open(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let (url, tls) = tls::split(url)?;
        let config = conn::config(&url)?;
        let target = conn::describe(&config);
        let client = match tls::connector(&tls, &target)? {
            None => config.connect(NoTls),
            Some(connector) => config.connect(connector),
        }
        .map_err(|e| conn::error(&target, e))?;
        let mut s = Self {
            client: RefCell::new(client),
            target,
            in_batch: false,
            run: RunMemory::default(),
            applied: Vec::new(),
            statements: RefCell::new(HashMap::new()),
            reserved_ids: RefCell::new(Vec::new()),
        };
        s.applied = s.migrate(mode)?;
        // Plans are made for the table as it is at each call: an import grows its tables inside
        // one transaction, before any ANALYZE, and a plan cached while they were small (a
        // sequential scan) made each look-up of the next identifiers slower than the last.
        s.batch("SET plan_cache_mode = force_custom_plan")?;
        Ok(s)
    }

    fn err(&self, e: postgres::Error) -> StoreError {
        conn::error(&self.target, e)
    }

    fn c(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// The prepared statement for `sql`, prepared once per connection: a statement given as
    /// text would be parsed by the server again at every call, one more round trip each.
    fn prepared(&self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = self.c().prepare(sql).map_err(|e| self.err(e))?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let st = self.prepared(sql)?;
        self.c().query(&st, params).map_err(|e| self.err(e))
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, StoreError> {
        let st = self.prepared(sql)?;
        self.c().query_opt(&st, params).map_err(|e| self.err(e))
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let st = self.prepared(sql)?;
        self.c().query_one(&st, params).map_err(|e| self.err(e))
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let st = self.prepared(sql)?;
        self.c().execute(&st, params).map_err(|e| self.err(e))
    }

    /// The reporting organisation of activities `lo..hi`.
    fn orgs_of(&self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        for r in self.query(
            "SELECT id, reporting_org_name FROM activity WHERE id >= $1 AND id < $2",
            &[&i64::from(lo), &i64::from(hi)],
        )? {
            f(r.get::<_, i64>(0) as u32, r.get(1));
        }
        Ok(())
    }

    /// Streams the facts `sql` selects (activity, type, date, currency, country, sector,
    /// implementing organisation, amount) to `f`.
    fn facts_of(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: &mut dyn FnMut(FactRef<'_>),
    ) -> Result<(), StoreError> {
        let st = self.prepared(sql)?;
        let mut c = self.c();
        let mut rows = c.query_raw(&st, params.iter().copied()).map_err(|e| self.err(e))?;
        while let Some(r) =
            postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(|e| conn::error(&self.target, e))?
        {
            let date: Option<&str> = r.get(2);
            let amount_s: &str = r.get(7);
            let amount: rust_decimal::Decimal = amount_s.parse().map_err(|e: rust_decimal::Error| {
                StoreError::Corrupt { record: format!("fact amount {amount_s:?}"), message: e.to_string() }
            })?;
            f(FactRef {
                activity: r.get::<_, i64>(0) as u32,
                transaction_type: r.get(1),
                date: date.and_then(|d| senda_core::codes::parse_iso_date(d).ok()),
                currency: r.get(3),
                country: r.get(4),
                sector: r.get(5),
                implementing_org: r.get(6),
                amount,
            });
        }
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.c().batch_execute(sql).map_err(|e| self.err(e))
    }

    /// Runs `f` in a transaction holding Senda's write lock ([`PgStore::begin_write`]):
    /// committed when it returns `Ok`, rolled back otherwise.
    fn write_tx<T>(&self, f: impl FnOnce(&Self) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.begin_write()?;
        match f(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn overrides(&self, strategy: &str) -> Result<HashMap<String, Override>, StoreError> {
        let rows = self.query(
            "SELECT iati_identifier, lines, note, created_at FROM mapping_override WHERE strategy = $1",
            &[&strategy],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let o = Override {
                    iati_identifier: r.get(0),
                    strategy: strategy.to_owned(),
                    lines_of_effort: lines_split(r.get(1)),
                    note: r.get(2),
                    created_at: r.get(3),
                };
                (o.iati_identifier.clone(), o)
            })
            .collect())
    }

    /// Starts the import batch's transaction: the write lock waits at most 10 s for another
    /// writer (then the store is busy).
    fn begin_write(&self) -> Result<(), StoreError> {
        self.batch(&format!("BEGIN; SET LOCAL lock_timeout = '10s'; SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn row_of(r: &Row, overrides: &HashMap<String, Override>) -> ActivityRow {
    let ident: String = r.get(0);
    let (lines, overridden) = match overrides.get(&ident) {
        Some(o) => (o.lines_of_effort.clone(), true),
        None => (lines_split(&r.get::<_, Option<String>>(4).unwrap_or_default()), false),
    };
    let countries: String = r.get(3);
    ActivityRow {
        iati_identifier: ident,
        title: r.get(1),
        reporting_org: r.get(2),
        countries: countries.trim_matches(';').to_owned(),
        lines_of_effort: lines.join(";"),
        overridden,
        status: r.get::<_, Option<String>>(5).unwrap_or_default(),
        start_date: r.get::<_, Option<String>>(6).unwrap_or_default(),
        end_date: r.get::<_, Option<String>>(7).unwrap_or_default(),
        commitments_usd: r.get(8),
        disbursements_usd: r.get(9),
        expenditures_usd: r.get(10),
        synthetic: r.get::<_, i64>(11) != 0,
        db_id: r.get(12),
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn location(&self) -> String {
        self.target.clone()
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.recorded_version()?.unwrap_or(0))
    }

    fn applied_migrations(&self) -> &[String] {
        &self.applied
    }

    fn run_diagnostics(&self, run_id: i64) -> Result<Vec<Diagnostic>, StoreError> {
        let rows = self.query(
            "SELECT file, line, col, severity, code, identifier, element, message FROM diagnostic WHERE run_id = $1 ORDER BY id",
            &[&run_id],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| Diagnostic {
                file: r.get(0),
                line: r.get::<_, i64>(1) as u64,
                column: r.get::<_, i64>(2) as u64,
                severity: match r.get::<_, &str>(3) {
                    "warning" => Severity::Warning,
                    "error" => Severity::Error,
                    _ => Severity::Fatal,
                },
                code: r.get(4),
                identifier: r.get(5),
                element: r.get(6),
                message: r.get(7),
            })
            .collect())
    }

    fn set_strategy_fingerprint(&mut self, strategy: &str, fingerprint: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO strategy_state (strategy, fingerprint) VALUES ($1, $2) ON CONFLICT (strategy) DO UPDATE SET fingerprint = excluded.fingerprint",
            &[&strategy, &fingerprint],
        )?;
        Ok(())
    }

    fn table_counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.counts()
    }

    fn read_table(
        &self,
        table: &crate::tables::Table,
        f: &mut dyn FnMut(Vec<crate::tables::Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read_rows(table, f)
    }

    fn load_tables(
        &mut self,
        replace: bool,
        fill: &mut dyn FnMut(&mut dyn crate::tables::RowSink) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.load(replace, fill)
    }

    fn file_state(&self, path: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT f.content_hash, f.reader_version,
                        (SELECT count(*) FROM activity a WHERE a.source_path = f.path),
                        (SELECT coalesce(sum(a.n_transactions), 0)::bigint FROM activity a WHERE a.source_path = f.path),
                        f.stable_hash
                 FROM source_file f WHERE f.path = $1",
                &[&path],
            )?
            .map(|r| StoredFile {
                content_hash: r.get(0),
                reader_version: r.get::<_, i64>(1) as u32,
                activities: r.get::<_, i64>(2) as u64,
                transactions: r.get::<_, i64>(3) as u64,
                stable_hash: r.get(4),
            }))
    }

    fn begin_import_run(&mut self) {
        self.run.clear();
    }

    fn end_import_run(&mut self) -> Result<NetChange, StoreError> {
        Ok(self.run.net_change())
    }

    fn begin_import_batch(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            self.begin_write()?;
            self.in_batch = true;
        }
        Ok(())
    }

    fn end_import_batch(&mut self) -> Result<(), StoreError> {
        if self.in_batch {
            self.in_batch = false;
            if let Err(e) = self.batch("COMMIT") {
                let _ = self.batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(())
    }

    fn finish_import_batches(&mut self) -> Result<(), StoreError> {
        self.end_import_batch()?;
        self.run.written.clear();
        Ok(())
    }

    fn import_file(
        &mut self,
        file: &FileRecord,
        items: &mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
    ) -> Result<Option<FileOutcome>, StoreError> {
        let run = std::mem::take(&mut self.run.written);
        let r = self.in_file_savepoint(|s| {
            let mut tx = import::PgTx::new(s);
            let w = rules::import::import_file(&mut tx, file, items, &run)?;
            tx.flush()?;
            Ok(w)
        });
        self.run.written = run;
        Ok(r?.map(|w| self.run.note(w)))
    }

    fn imported_files(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.query("SELECT path FROM source_file ORDER BY path", &[])?.into_iter().map(|r| r.get(0)).collect())
    }

    fn remove_file(&mut self, path: &str) -> Result<FileOutcome, StoreError> {
        let file = FileRecord { path: path.to_owned(), content_hash: String::new(), size: 0, reader_version: 0 };
        let w = self.in_file_savepoint(|s| {
            let mut tx = import::PgTx::new(s);
            let w = rules::import::import_file(&mut tx, &file, &mut std::iter::empty(), &Default::default())?;
            tx.flush()?;
            s.execute("DELETE FROM source_file WHERE path = $1", &[&path])?;
            Ok(w)
        })?;
        Ok(w.map(|w| self.run.note(w)).unwrap_or_default())
    }

    fn record_file_content(&mut self, path: &str, c: &crate::FileContent<'_>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE source_file SET content_hash = $2, size = $3, generated_datetime = $4, stable_hash = $5 WHERE path = $1",
            &[&path, &c.content_hash, &(c.size as i64), &c.generated_datetime, &c.stable_hash],
        )?;
        Ok(())
    }

    fn restamp_file(&mut self, r: &rules::restamp::Restamp) -> Result<Option<u64>, StoreError> {
        let n = self.in_file_savepoint(|s| {
            let mut tx = import::PgTx::new(s);
            let n = rules::restamp::restamp(&mut tx, r)?;
            tx.flush()?;
            Ok(n)
        })?;
        if n.is_some() {
            self.record_file_content(
                &r.path,
                &crate::FileContent {
                    content_hash: &r.content_hash,
                    size: r.size,
                    generated_datetime: r.generated_datetime.as_deref(),
                    stable_hash: Some(&r.stable_hash),
                },
            )?;
        }
        Ok(n)
    }

    fn reporting_orgs(&self) -> Result<Vec<senda_core::orgs::KnownOrg>, StoreError> {
        let rows = self.query(crate::coverage::REPORTING_ORGS_SQL, &[])?;
        Ok(rows.iter().map(|r| senda_core::orgs::KnownOrg { r#ref: r.get(0), name: r.get(1) }).collect())
    }

    fn source_files(&self) -> Result<Vec<SourceFileInfo>, StoreError> {
        let files = self
            .query(crate::coverage::FILES_SQL, &[])?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1), r.get::<_, String>(2)))
            .collect();
        let pubs = self
            .query(crate::coverage::FILE_PUBLISHERS_SQL, &[])?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1), r.get::<_, String>(2), r.get::<_, i64>(3)))
            .collect();
        Ok(crate::coverage::files(files, pubs))
    }

    fn save_run(
        &mut self,
        started_at: &str,
        finished_at: &str,
        report: &serde_json::Value,
        diagnostics: &[Diagnostic],
        actor: &crate::accounts::Actor,
    ) -> Result<i64, StoreError> {
        self.write_tx(|s| {
            let id: i64 = s
                .query_one(
                    "INSERT INTO import_run (started_at, finished_at, report) VALUES ($1, $2, $3) RETURNING id",
                    &[&started_at, &finished_at, &report.to_string()],
                )?
                .get(0);
            let mut buf = String::new();
            for d in diagnostics {
                import::copy_row(
                    &mut buf,
                    &[
                        Some(&id.to_string()),
                        Some(&d.file),
                        Some(&(d.line as i64).to_string()),
                        Some(&(d.column as i64).to_string()),
                        Some(&d.severity.to_string()),
                        Some(&d.code),
                        d.identifier.as_deref(),
                        d.element.as_deref(),
                        Some(&d.message),
                    ],
                );
            }
            import::copy_in(
                s,
                "COPY diagnostic (run_id, file, line, col, severity, code, identifier, element, message) FROM STDIN",
                &buf,
            )?;
            let summary = crate::accounts::import_run_summary(report);
            let row = crate::accounts::AuditRow {
                actor,
                now: time::OffsetDateTime::now_utc().unix_timestamp(),
                action: "import.run",
                record: &format!("import_run:{id}"),
                before: None,
                after: Some(&summary),
                run_id: Some(id),
            };
            record_audit(s, &row)?;
            Ok(id)
        })
    }

    fn runs(&self, limit: u64) -> Result<Vec<RunRecord>, StoreError> {
        let rows = self.query(
            "SELECT id, started_at, finished_at, report FROM import_run ORDER BY id DESC LIMIT $1",
            &[&(limit.min(i64::MAX as u64) as i64)],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| RunRecord {
                id: r.get(0),
                started_at: r.get(1),
                finished_at: r.get(2),
                report: serde_json::from_str(r.get(3)).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    fn for_each_activity_info(&self, strategy: &str, f: &mut dyn FnMut(u32, &str, &str)) -> Result<(), StoreError> {
        let overrides = self.overrides(strategy)?;
        let over: HashMap<&str, String> =
            overrides.iter().map(|(k, o)| (k.as_str(), o.lines_of_effort.join(";"))).collect();
        let st = self.prepared(
            "SELECT a.id, a.iati_identifier, a.reporting_org_name, COALESCE(m.lines, '') FROM activity a \
             LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = $1",
        )?;
        let mut c = self.c();
        let mut rows = c.query_raw(&st, [strategy]).map_err(|e| self.err(e))?;
        while let Some(r) =
            postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(|e| conn::error(&self.target, e))?
        {
            let own: &str = r.get(3);
            let l = if over.is_empty() { own } else { over.get(r.get::<_, &str>(1)).map_or(own, String::as_str) };
            f(r.get::<_, i64>(0) as u32, r.get(2), l);
        }
        Ok(())
    }

    fn for_each_fact(
        &self,
        with_sector: bool,
        with_implementing_org: bool,
        f: &mut dyn FnMut(FactRef<'_>),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT activity_id, transaction_type, date, currency, country, {}, {}, amount FROM fact",
            if with_sector { "sector" } else { "''::text" },
            if with_implementing_org { "implementing_org" } else { "''::text" }
        );
        self.facts_of(&sql, &[], f)
    }

    fn for_each_fact_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError> {
        self.facts_of(FACTS_BETWEEN, &[&i64::from(lo), &i64::from(hi)], f)
    }

    fn for_each_review_signal(&self, strategy: &str, f: &mut dyn FnMut(ReviewSignal<'_>)) -> Result<(), StoreError> {
        let st = self.prepared(crate::review::SIGNALS_POSTGRES)?;
        let mut c = self.c();
        let mut rows = c.query_raw(&st, [strategy]).map_err(|e| self.err(e))?;
        while let Some(r) =
            postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(|e| conn::error(&self.target, e))?
        {
            f(ReviewSignal {
                db_id: r.get(0),
                lines: r.get(1),
                confidence: r.get(2),
                evidence: r.get(3),
                near_misses: r.get(4),
            });
        }
        Ok(())
    }

    fn for_each_mapping(&self, strategy: &str, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        let mut over: HashMap<i64, String> = HashMap::new();
        for (ident, o) in self.overrides(strategy)? {
            if let Some(id) = self.activity_db_id(&ident)? {
                over.insert(id, o.lines_of_effort.join(";"));
            }
        }
        {
            let st = self.prepared("SELECT activity_id, lines FROM activity_mapping WHERE strategy = $1")?;
            let mut c = self.c();
            let mut rows = c.query_raw(&st, [strategy]).map_err(|e| self.err(e))?;
            while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)
                .map_err(|e| conn::error(&self.target, e))?
            {
                let id: i64 = r.get(0);
                match over.remove(&id) {
                    Some(l) => f(id as u32, &l),
                    None => f(id as u32, r.get(1)),
                }
            }
        }
        for (id, l) in over {
            f(id as u32, &l);
        }
        Ok(())
    }

    fn for_each_activity_org_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        self.orgs_of(lo, hi, f)
    }

    fn fact_segment_states(&self) -> Result<Vec<SegmentState>, StoreError> {
        Ok(self
            .query("SELECT segment, version, stale FROM fact_segment ORDER BY segment", &[])?
            .iter()
            .map(|r| SegmentState {
                segment: r.get::<_, i64>(0) as u32,
                version: r.get(1),
                stale: r.get::<_, i64>(2) != 0,
            })
            .collect())
    }

    fn fact_segment_bytes(&self, segment: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .query_opt("SELECT data FROM fact_segment WHERE segment = $1", &[&i64::from(segment)])?
            .map(|r| r.get(0)))
    }

    fn refresh_fact_segments(&mut self) -> Result<u64, StoreError> {
        self.write_tx(|s| rules::segments::refresh(&mut SegmentsTx(s)))
    }

    fn list_activities(&self, filter: &ActivityFilter) -> Result<Vec<ActivityRow>, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::list_sql(Dialect::Postgres, filter, &overrides, query::ROW_COLUMNS);
        Ok(self.query(&sql, &text_params(&args))?.iter().map(|r| row_of(r, &overrides)).collect())
    }

    fn matching_activity_ids(&self, filter: &ActivityFilter) -> Result<Vec<i64>, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::list_sql(Dialect::Postgres, filter, &overrides, "a.id");
        Ok(self.query(&sql, &text_params(&args))?.iter().map(|r| r.get(0)).collect())
    }

    fn activity_db_id(&self, iati_identifier: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.query_opt("SELECT id FROM activity WHERE iati_identifier = $1", &[&iati_identifier])?.map(|r| r.get(0)))
    }

    fn activity_rows(&self, strategy: &str, ids: &[i64]) -> Result<Vec<ActivityRow>, StoreError> {
        let overrides = self.overrides(strategy)?;
        let sql = query::row_by_id_sql(Dialect::Postgres);
        let st = self.prepared(&sql)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let id_s = id.to_string();
            if let Some(r) = self.c().query_opt(&st, &[&strategy, &id_s]).map_err(|e| self.err(e))? {
                out.push(row_of(&r, &overrides));
            }
        }
        Ok(out)
    }

    fn count_activities_matching(&self, filter: &ActivityFilter) -> Result<u64, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::count_sql(Dialect::Postgres, filter, &overrides);
        Ok(self.query_one(&sql, &text_params(&args))?.get::<_, i64>(0) as u64)
    }

    fn generation(&self) -> Result<i64, StoreError> {
        Ok(self.query_one("SELECT generation FROM store_generation WHERE id = 1", &[])?.get(0))
    }

    fn data_quality(&self) -> Result<Vec<QualityRow>, StoreError> {
        let rows = self.query(
            "SELECT coalesce(nullif(a.reporting_org_name, ''), d.file) AS publisher, d.severity, count(*)
             FROM (SELECT DISTINCT file, line, col, code, severity, identifier FROM diagnostic) d
             LEFT JOIN activity a ON a.iati_identifier = d.identifier
             GROUP BY publisher, d.severity ORDER BY count(*) DESC, publisher, d.severity",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| QualityRow { publisher: r.get(0), severity: r.get(1), count: r.get::<_, i64>(2) as u64 })
            .collect())
    }

    fn departments(&self, country: &str) -> Result<Vec<Department>, StoreError> {
        // Names sorted as bytes and joined by U+001F, which XML text cannot hold (a name may
        // hold commas), as on SQLite: both backends show the same three.
        let rows = self.query(
            "SELECT vocabulary, code, count(DISTINCT activity_id), string_agg(DISTINCT name, chr(31) ORDER BY name) FROM activity_location
             WHERE country = $1 GROUP BY vocabulary, code ORDER BY count(DISTINCT activity_id) DESC, code, vocabulary",
            &[&country.to_ascii_uppercase()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let names: Option<String> = r.get(3);
                let names: Vec<&str> =
                    names.as_deref().unwrap_or("").split('\u{1f}').filter(|x| !x.is_empty()).take(3).collect();
                Department {
                    vocabulary: r.get(0),
                    code: r.get(1),
                    activities: r.get::<_, i64>(2) as u64,
                    names: names.join("; "),
                }
            })
            .collect())
    }

    fn activity(&self, iati_identifier: &str, strategy: &str) -> Result<ActivityDetail, StoreError> {
        let row = self
            .query_opt(
                "SELECT d.doc, d.transactions, a.source_path, a.source_ordinal, m.lines, e.evidence, a.synthetic, e.near_misses, a.last_updated FROM activity a JOIN activity_doc d ON d.activity_id = a.id LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = $2 LEFT JOIN mapping_evidence e ON e.activity_id = a.id AND e.strategy = $2 WHERE a.iati_identifier = $1",
                &[&iati_identifier, &strategy],
            )?
            .ok_or_else(|| StoreError::NotFound(iati_identifier.to_owned()))?;
        let mut activity = crate::codec::decode(iati_identifier, row.get(0), row.get(1))?;
        activity.last_updated = row.get::<_, Option<&str>>(8).map(Into::into);
        let evidence: Vec<Evidence> = match row.get::<_, Option<&str>>(5) {
            Some(e) => serde_json::from_str(e)
                .map_err(|e| StoreError::Corrupt { record: iati_identifier.to_owned(), message: e.to_string() })?,
            None => Vec::new(),
        };
        let near_misses: Vec<NearMiss> = match row.get::<_, Option<&str>>(7) {
            Some(e) => serde_json::from_str(e)
                .map_err(|e| StoreError::Corrupt { record: iati_identifier.to_owned(), message: e.to_string() })?,
            None => Vec::new(),
        };
        let override_ = self
            .query_opt(
                "SELECT lines, note, created_at FROM mapping_override WHERE iati_identifier = $1 AND strategy = $2",
                &[&iati_identifier, &strategy],
            )?
            .map(|r| Override {
                iati_identifier: iati_identifier.to_owned(),
                strategy: strategy.to_owned(),
                lines_of_effort: lines_split(r.get(0)),
                note: r.get(1),
                created_at: r.get(2),
            });
        let override_log = self
            .query(
                "SELECT action, lines, note, at FROM mapping_override_log WHERE iati_identifier = $1 AND strategy = $2 ORDER BY id",
                &[&iati_identifier, &strategy],
            )?
            .into_iter()
            .map(|r| OverrideEvent {
                action: r.get(0),
                lines_of_effort: lines_split(r.get(1)),
                note: r.get(2),
                at: r.get(3),
            })
            .collect();
        Ok(ActivityDetail {
            activity,
            source: (row.get(2), row.get::<_, i64>(3) as u64),
            rule_lines: lines_split(&row.get::<_, Option<String>>(4).unwrap_or_default()),
            evidence,
            override_,
            override_log,
            synthetic: row.get::<_, i64>(6) != 0,
            near_misses,
        })
    }

    fn strategy_fingerprint(&self, strategy: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_opt("SELECT fingerprint FROM strategy_state WHERE strategy = $1", &[&strategy])?
            .map(|r| r.get(0)))
    }

    fn remap(
        &mut self,
        strategy: &str,
        fingerprint: &str,
        map: &dyn Fn(&Activity) -> Mapping,
    ) -> Result<u64, StoreError> {
        self.write_tx(|s| {
            s.execute("DELETE FROM activity_mapping WHERE strategy = $1", &[&strategy])?;
            s.execute("DELETE FROM mapping_evidence WHERE strategy = $1", &[&strategy])?;
            let (mut maps, mut evs) = (String::new(), String::new());
            let mut n = 0u64;
            {
                let mut c = s.c();
                let mut rows = c
                    .query_raw(
                        "SELECT a.id, a.iati_identifier, d.doc, d.transactions FROM activity a JOIN activity_doc d ON d.activity_id = a.id",
                        std::iter::empty::<&str>(),
                    )
                    .map_err(|e| s.err(e))?;
                while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)
                    .map_err(|e| s.err(e))?
                {
                    let id: i64 = r.get(0);
                    let a = crate::codec::decode(r.get(1), r.get(2), r.get(3))?;
                    let m = map(&a);
                    n += 1;
                    let Some(row) = crate::item::mapping_row(&m) else { continue };
                    let id_s = id.to_string();
                    if !row.lines.is_empty() {
                        import::copy_row(
                            &mut maps,
                            &[Some(&id_s), Some(strategy), Some(&row.lines), Some(&row.confidence)],
                        );
                    }
                    import::copy_row(
                        &mut evs,
                        &[Some(&id_s), Some(strategy), Some(&row.evidence), Some(&row.near_misses)],
                    );
                }
            }
            import::copy_in(s, "COPY activity_mapping (activity_id, strategy, lines, confidence) FROM STDIN", &maps)?;
            import::copy_in(
                s,
                "COPY mapping_evidence (activity_id, strategy, evidence, near_misses) FROM STDIN",
                &evs,
            )?;
            s.execute(
                "INSERT INTO strategy_state (strategy, fingerprint) VALUES ($1, $2) ON CONFLICT (strategy) DO UPDATE SET fingerprint = excluded.fingerprint",
                &[&strategy, &fingerprint],
            )?;
            s.execute(BUMP_GENERATION, &[])?;
            Ok(n)
        })
    }

    fn count_activities(&self) -> Result<u64, StoreError> {
        Ok(self.query_one("SELECT count(*) FROM activity", &[])?.get::<_, i64>(0) as u64)
    }

    fn synthetic_presence(&self) -> Result<(bool, bool), StoreError> {
        let r = self.query_one(
            "SELECT EXISTS (SELECT 1 FROM activity WHERE synthetic <> 0), EXISTS (SELECT 1 FROM activity WHERE synthetic = 0)",
            &[],
        )?;
        Ok((r.get(0), r.get(1)))
    }

    fn import_values(&mut self, batch: &ValueBatch) -> Result<ValuesOutcome, StoreError> {
        // An unchanged file writes nothing: committing the empty transaction is harmless.
        self.write_tx(|s| Ok(rules::values::import_values(&mut import::PgValuesTx(s), batch, &now())?.0))
    }

    fn ensure_indicator_definition(
        &mut self,
        strategy: &str,
        def: &senda_core::indicator::IndicatorDef,
    ) -> Result<DefinitionVersion, StoreError> {
        let fp = def.measurement_fingerprint();
        self.write_tx(|s| {
            if let Some(r) = s.query_opt(
                "SELECT id, version, definition, first_used FROM indicator_definition WHERE strategy = $1 AND code = $2 AND fingerprint = $3",
                &[&strategy, &def.code, &fp],
            )? {
                let definition = serde_json::from_str(r.get(2)).map_err(|e| StoreError::Corrupt {
                    record: format!("indicator {}", def.code),
                    message: e.to_string(),
                })?;
                return Ok(DefinitionVersion { id: r.get(0), version: r.get(1), definition, first_used: r.get(3) });
            }
            let version: i64 = s
                .query_one(
                    "SELECT coalesce(max(version), 0) + 1 FROM indicator_definition WHERE strategy = $1 AND code = $2",
                    &[&strategy, &def.code],
                )?
                .get(0);
            let now = now();
            let json = serde_json::to_string(def).unwrap_or_default();
            let id: i64 = s
                .query_one(
                    "INSERT INTO indicator_definition (strategy, code, version, fingerprint, definition, first_used) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
                    &[&strategy, &def.code, &version, &fp, &json, &now],
                )?
                .get(0);
            s.execute(BUMP_GENERATION, &[])?;
            Ok(DefinitionVersion { id, version, definition: def.clone(), first_used: now })
        })
    }

    fn indicator_versions(&self, strategy: &str) -> Result<HashMap<String, Vec<DefinitionVersion>>, StoreError> {
        let mut out: HashMap<String, Vec<DefinitionVersion>> = HashMap::new();
        for r in self.query(
            "SELECT id, code, version, definition, first_used FROM indicator_definition WHERE strategy = $1 ORDER BY code, version",
            &[&strategy],
        )? {
            let code: String = r.get(1);
            let definition = serde_json::from_str(r.get(3))
                .map_err(|e| StoreError::Corrupt { record: format!("indicator {code}"), message: e.to_string() })?;
            out.entry(code).or_default().push(DefinitionVersion {
                id: r.get(0),
                version: r.get(2),
                definition,
                first_used: r.get(4),
            });
        }
        Ok(out)
    }

    fn observations(&self, filter: &ObservationFilter) -> Result<Vec<StoredObservation>, StoreError> {
        let mut sql = String::from(
            "SELECT o.series, o.place, o.period, o.disaggregation, o.kind, o.value, o.denominator, o.definition_id, o.origin
             FROM observation o WHERE 1=1",
        );
        let mut args: Vec<String> = Vec::new();
        let mut list = |sql: &mut String, col: &str, vals: Vec<String>| {
            if vals.is_empty() {
                return;
            }
            sql.push_str(&format!(" AND {col} IN ("));
            for (i, v) in vals.into_iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                args.push(v);
                sql.push_str(&format!("${}", args.len()));
            }
            sql.push(')');
        };
        list(&mut sql, "o.series", filter.series.clone());
        list(&mut sql, "o.country", filter.country.iter().cloned().collect());
        list(&mut sql, "o.kind", filter.kinds.iter().map(|k| k.as_str().to_owned()).collect());
        sql.push_str(" ORDER BY o.series, o.place, o.period_start, o.period, o.disaggregation, o.kind");
        let mut out = Vec::new();
        for r in self.query(&sql, &text_params(&args))? {
            let corrupt =
                |what: &str, m: String| StoreError::Corrupt { record: format!("observation {what}"), message: m };
            let place: &str = r.get(1);
            let period: &str = r.get(2);
            let value: &str = r.get(5);
            let den: Option<&str> = r.get(6);
            let kind: &str = r.get(4);
            out.push(StoredObservation {
                observation: senda_core::Observation {
                    series: r.get(0),
                    place: senda_core::Place::parse(place).map_err(|e| corrupt(place, e.to_string()))?,
                    period: senda_core::Period::parse(period).map_err(|e| corrupt(period, e.to_string()))?,
                    disaggregation: senda_core::observation::parse_disaggregation_key(r.get(3)),
                    kind: senda_core::ValueKind::parse(kind).ok_or_else(|| corrupt(kind, "unknown kind".into()))?,
                    value: value.parse().map_err(|e: rust_decimal::Error| corrupt(value, e.to_string()))?,
                    denominator: match den {
                        Some(d) => Some(d.parse().map_err(|e: rust_decimal::Error| corrupt(d, e.to_string()))?),
                        None => None,
                    },
                    row: 0,
                },
                definition_version: r.get(7),
                origin: r.get(8),
            });
        }
        Ok(out)
    }

    fn stat_series(&self) -> Result<Vec<SeriesSummary>, StoreError> {
        // The last period: the latest start, and of periods starting that day (a month, its
        // quarter, its fiscal year) the longest (`FY..` > `YYYY-Qn` > `YYYY-MM` as bytes), the
        // same on every backend.
        let rows = self.query(
            "SELECT s.code, s.name, s.name_es, s.unit, s.source,
                    (SELECT count(*) FROM observation o WHERE o.series = s.code),
                    (SELECT min(period_start) FROM observation o WHERE o.series = s.code),
                    (SELECT period FROM observation o WHERE o.series = s.code ORDER BY period_start DESC, period DESC LIMIT 1),
                    (SELECT string_agg(country, ';' ORDER BY country) FROM (SELECT DISTINCT country FROM observation o WHERE o.series = s.code AND country <> '') c)
             FROM stat_series s ORDER BY s.code",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| SeriesSummary {
                series: senda_core::StatSeries {
                    code: r.get(0),
                    name: r.get(1),
                    name_es: r.get(2),
                    unit: r.get(3),
                    source: r.get(4),
                },
                values: r.get::<_, i64>(5) as u64,
                first_period: r.get(6),
                last_period: r.get(7),
                countries: r.get::<_, Option<&str>>(8).map(lines_split).unwrap_or_default(),
            })
            .collect())
    }

    fn value_files(&self) -> Result<Vec<ValueFileRecord>, StoreError> {
        let rows = self.query(
            "SELECT id, dataset, path, format, imported_at, report FROM value_file ORDER BY imported_at DESC, id DESC",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| ValueFileRecord {
                id: r.get(0),
                dataset: r.get(1),
                path: r.get(2),
                format: r.get(3),
                imported_at: r.get(4),
                report: serde_json::from_str(r.get(5)).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    fn activities_with_results(
        &self,
        strategy: &str,
        line_of_effort: Option<&str>,
        country: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let overrides = self.overrides(strategy)?;
        let rows = self.query(
            "SELECT a.iati_identifier, coalesce(m.lines, ''), a.countries FROM activity_result r
             JOIN activity a ON a.id = r.activity_id
             LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = $1
             ORDER BY a.iati_identifier",
            &[&strategy],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let ident: String = r.get(0);
            let lines = match overrides.get(&ident) {
                Some(o) => o.lines_of_effort.clone(),
                None => lines_split(r.get(1)),
            };
            if line_of_effort.is_some_and(|l| !lines.iter().any(|x| x == l)) {
                continue;
            }
            if let Some(c) = country
                && !r.get::<_, &str>(2).contains(&format!(";{c};"))
            {
                continue;
            }
            out.push(ident);
        }
        Ok(out)
    }
}

/// Writes an audit event in the open transaction (`crate::accounts::INSERT_AUDIT` with `$N`).
pub(super) fn record_audit(s: &PgStore, r: &crate::accounts::AuditRow<'_>) -> Result<(), StoreError> {
    s.execute(
        &crate::accounts::INSERT_AUDIT.replace('?', "$"),
        &[
            &r.at_text(),
            &r.actor.label,
            &r.actor.person_id,
            &r.actor.token_id,
            &r.actor.organisation_id,
            &r.action,
            &r.record,
            &r.before,
            &r.after,
            &r.run_id,
        ],
    )?;
    Ok(())
}

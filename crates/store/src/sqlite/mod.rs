//! The SQLite backend: one file, WAL, versioned migrations (`migrations/sqlite/NNNN_*.sql`,
//! applied in order and recorded in `PRAGMA user_version`).

mod accounts;
mod copy;
mod import;
mod segments;

use crate::item::admin1_locations;
use crate::query::{self, Dialect};
use crate::rules::ledger::RunMemory;
use crate::rules::values::ValuesTx;
use crate::*;
use import::SqliteTx;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
pub(crate) use segments::mark_segments_stale;
use segments::{FACTS_BETWEEN, SegmentsTx, facts_of, orgs_of};
use senda_core::Severity;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/sqlite/0001_init.sql")),
    ("0002_generation_locations", include_str!("../../migrations/sqlite/0002_generation_locations.sql")),
    ("0003_indicators_statistics", include_str!("../../migrations/sqlite/0003_indicators_statistics.sql")),
    ("0004_activity_copies", include_str!("../../migrations/sqlite/0004_activity_copies.sql")),
    ("0005_override_log", include_str!("../../migrations/sqlite/0005_override_log.sql")),
    ("0006_title_key", include_str!("../../migrations/sqlite/0006_title_key.sql")),
    ("0007_fact_segment", include_str!("../../migrations/sqlite/0007_fact_segment.sql")),
    ("0008_accounts", include_str!("../../migrations/sqlite/0008_accounts.sql")),
    ("0009_interventions", include_str!("../../migrations/sqlite/0009_interventions.sql")),
    ("0010_mapping_confidence", include_str!("../../migrations/sqlite/0010_mapping_confidence.sql")),
    ("0011_intervention_form_token", include_str!("../../migrations/sqlite/0011_intervention_form_token.sql")),
    ("0012_contributions", include_str!("../../migrations/sqlite/0012_contributions.sql")),
    ("0013_requirements", include_str!("../../migrations/sqlite/0013_requirements.sql")),
    ("0014_file_generated", include_str!("../../migrations/sqlite/0014_file_generated.sql")),
    ("0015_reporting", include_str!("../../migrations/sqlite/0015_reporting.sql")),
    ("0016_file_stable_hash", include_str!("../../migrations/sqlite/0016_file_stable_hash.sql")),
];

/// Bumps the data generation inside a write transaction (see [`Store::generation`]).
/// Tables whose rows belong to one activity (`activity_id`), deleted with it.
const CHILD_TABLES: [&str; 6] =
    ["fact", "activity_doc", "activity_mapping", "mapping_evidence", "activity_location", "activity_result"];

/// Prepared statements a connection keeps (see `init`).
const STATEMENT_CACHE: usize = 64;

/// Every SQLite database file begins with a 100-byte header.
const SQLITE_HEADER_BYTES: u64 = 100;

/// Said of a non-empty file shorter than an SQLite header.
const NOT_A_DATABASE: &str =
    "not an SQLite database (shorter than an SQLite header); Senda leaves it alone: give another --db";

/// Page cache of a connection a server keeps in its pool (KiB): the operating system caches
/// the file for all of them.
const POOLED_CACHE_KIB: u32 = 8 * 1024;

const BUMP_GENERATION: &str = "UPDATE store_generation SET generation = generation + 1 WHERE id = 1";

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
    /// True between [`Store::begin_import_batch`] and [`Store::end_import_batch`]: files are
    /// savepoints inside one open transaction.
    in_batch: bool,
    /// Checkpoints the write-ahead log on its own thread while an import writes (see
    /// [`Checkpointer`]); `None` outside imports and for in-memory databases.
    checkpointer: Option<Checkpointer>,
    /// The import run's memory (rows its files wrote; the net-change ledger): see
    /// [`RunMemory`].
    run: RunMemory,
    /// Migrations this open applied (see [`Store::applied_migrations`]).
    applied: Vec<String>,
}

/// A thread with its own connection that copies the write-ahead log into the database file
/// (`PRAGMA wal_checkpoint(PASSIVE)`) after each committed import batch, so that the writer
/// never waits for those writes and their `fsync`. The writer's automatic checkpoints are off
/// meanwhile and come back when the checkpointer stops (at the end of the import, or when the
/// store is dropped).
///
/// SQLite starts the log again from its beginning only when a write transaction begins after
/// a checkpoint copied all of it; with the writer always one batch ahead that never happened,
/// and the log grew to about the size of the database (350 MB for the 1 GB benchmark corpus):
/// new pages for every frame, and half a second at the end for the kernel to free them when
/// the log was deleted. So every [`RESTART_EVERY`] batches the writer waits for the pending
/// checkpoint to finish before it begins the next batch ([`Checkpointer::wait_idle`]): the
/// log stays a few batches long. (The workers go on reading meanwhile.)
struct Checkpointer {
    signal: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Checkpoints asked for and not finished yet (0 or 1 queued, 0 or 1 running).
    pending: std::sync::Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>,
    /// Batches committed since the log last started again.
    batches: usize,
}

/// See [`Checkpointer`]: at 32 MB of input per batch, a log of about 4 batches (about 50 MB).
const RESTART_EVERY: usize = 4;

impl Checkpointer {
    /// Starts the thread for the database at `path`; `None` if it cannot open it (imports then
    /// checkpoint as usual).
    fn start(path: &str) -> Option<Self> {
        let conn = Connection::open(path).ok()?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).ok()?;
        let (signal, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let pending = std::sync::Arc::new((std::sync::Mutex::new(0usize), std::sync::Condvar::new()));
        let done = pending.clone();
        let thread = std::thread::Builder::new()
            .name("senda-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // PASSIVE never blocks the writer; whatever it leaves is done next time, by
                    // the final checkpoint or by SQLite when the last connection closes.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::debug!(error = %e, "background checkpoint skipped");
                    }
                    let (count, cv) = &*done;
                    if let Ok(mut n) = count.lock() {
                        *n = n.saturating_sub(1);
                    }
                    cv.notify_all();
                }
            })
            .ok()?;
        Some(Self { signal: Some(signal), thread: Some(thread), pending, batches: 0 })
    }

    /// Asks for a checkpoint (ignored while one is queued: it will copy this batch too).
    fn poke(&mut self) {
        self.batches += 1;
        if let Some(s) = &self.signal {
            let (count, _) = &*self.pending;
            if let Ok(mut n) = count.lock()
                && s.try_send(()).is_ok()
            {
                *n += 1;
            }
        }
    }

    /// Before a batch begins: every [`RESTART_EVERY`] batches, waits (at most 30 s) until no
    /// checkpoint is queued or running, so that this batch starts the log again.
    fn wait_idle(&mut self) {
        if self.batches < RESTART_EVERY {
            return;
        }
        self.batches = 0;
        let (count, cv) = &*self.pending;
        if let Ok(n) = count.lock() {
            let _ = cv.wait_timeout_while(n, std::time::Duration::from_secs(30), |n| *n > 0);
        }
    }

    /// Stops the thread after its current checkpoint.
    fn stop(&mut self) {
        self.signal = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lines_join(v: &[String]) -> String {
    v.join(";")
}
fn lines_split(s: &str) -> Vec<String> {
    s.split(';').filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode, and migrates it.
    /// Errors: [`StoreError::Open`] (naming the path) when it is a folder, its folder does not
    /// exist or it is not a SQLite file; [`StoreError::NotSenda`] for another program's SQLite
    /// file (never modified); [`StoreError::TooNew`]; or SQLite's own error.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if path.is_dir() {
            return Err(StoreError::Open { path: path.display().to_string(), message: "it is a folder".into() });
        }
        Self::refuse_short_file(path)?;
        // SQLite would only say "unable to open database file".
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                message: format!("the folder {} does not exist", dir.display()),
            });
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
        // SQLite's own words repeat themselves and do not name the file.
        let not_a_database = |e: &rusqlite::Error| matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase);
        if let Err(e) = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            && not_a_database(&e)
        {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                message: "it is not a SQLite database (another kind of file)".into(),
            });
        }
        Self::init(conn)
    }

    /// Commits the open import batch, if any; `checkpoint`: ask the checkpointer to copy it
    /// into the database file in the background.
    fn commit_batch(&mut self, checkpoint: bool) -> Result<(), StoreError> {
        if self.in_batch {
            self.in_batch = false;
            let r = self.conn.execute_batch("COMMIT");
            self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
            r?;
            if checkpoint && let Some(c) = &mut self.checkpointer {
                c.poke();
            }
        }
        Ok(())
    }

    /// Refuses a file that is not empty yet too short to be an SQLite database (SQLite would
    /// take it for a new one and overwrite it).
    fn refuse_short_file(path: &Path) -> Result<(), StoreError> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > 0 && m.len() < SQLITE_HEADER_BYTES => {
                Err(StoreError::Open { path: path.display().to_string(), message: NOT_A_DATABASE.into() })
            }
            _ => Ok(()),
        }
    }

    /// Opens an existing database only (for commands that read): a mistyped `--db` must not
    /// silently create an empty database, and neither must an empty (0-byte) file, which SQLite
    /// would otherwise take as a new database and fill with Senda's schema.
    ///
    /// Errors: [`StoreError::Open`] when `path` does not exist or is an empty file; otherwise
    /// those of [`SqliteStore::open`].
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        let message = match std::fs::metadata(path) {
            Err(_) => Some("no such database; import data first (`senda import PATH`) or give --db"),
            Ok(m) if m.is_file() && m.len() == 0 => {
                Some("empty file, no database in it; import data first (`senda import PATH`) or give --db")
            }
            Ok(m) if m.is_file() && m.len() < SQLITE_HEADER_BYTES => Some(NOT_A_DATABASE),
            Ok(_) => None,
        };
        if let Some(message) = message {
            return Err(StoreError::Open { path: path.display().to_string(), message: message.into() });
        }
        Self::open(path)
    }

    /// Sets this connection's page cache (KiB). The default (64 MiB) suits imports and
    /// reports; a server holding several read connections gives each less (the operating
    /// system caches the file for all of them).
    pub fn set_cache_kib(&self, kib: u32) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "cache_size", -i64::from(kib))?;
        Ok(())
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Before anything writes (even the journal mode): leave other programs' files alone.
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if v == 0 {
            let tables: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                [],
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::NotSenda { path: conn.path().unwrap_or(":memory:").to_owned() });
            }
        }

        if v == 0 {
            // A new database: larger pages than SQLite's 4 KiB make bulk imports cheaper (fewer
            // pages to write and checkpoint, activity documents rarely overflow). Only takes
            // effect before the first table is created.
            conn.pragma_update(None, "page_size", 16384)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // An import uses about 25 distinct statements per file (rusqlite keeps 16 by default:
        // past that, every file parsed some of them again).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut s = Self { conn, in_batch: false, checkpointer: None, run: RunMemory::default(), applied: Vec::new() };
        s.migrate()?;
        Ok(s)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.applied.clear();
        let v: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if v > supported {
            return Err(StoreError::TooNew { found: v, supported });
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(v as usize) {
            // IMMEDIATE: a second process waits (busy timeout) instead of racing on the schema.
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            if i + 1 == 2 {
                backfill_locations(&tx)?;
            }
            if i + 1 == 3 {
                backfill_results(&tx)?;
            }
            if i + 1 == 6 {
                backfill_title_keys(&tx)?;
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            self.applied.push((*name).to_owned());
        }
        Ok(())
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn overrides(&self, strategy: &str) -> Result<HashMap<String, Override>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT iati_identifier, lines, note, created_at FROM mapping_override WHERE strategy = ?1",
        )?;
        let rows = st.query_map([strategy], |r| {
            Ok(Override {
                iati_identifier: r.get(0)?,
                strategy: strategy.to_owned(),
                lines_of_effort: lines_split(&r.get::<_, String>(1)?),
                note: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        let mut m = HashMap::new();
        for o in rows {
            let o = o?;
            m.insert(o.iati_identifier.clone(), o);
        }
        Ok(m)
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn location(&self) -> String {
        self.conn.path().unwrap_or(":memory:").to_owned()
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        SqliteStore::schema_version(self)
    }

    fn tune_for_pool(&self) -> Result<(), StoreError> {
        self.set_cache_kib(POOLED_CACHE_KIB)
    }

    fn applied_migrations(&self) -> &[String] {
        &self.applied
    }

    fn run_diagnostics(&self, run_id: i64) -> Result<Vec<Diagnostic>, StoreError> {
        SqliteStore::run_diagnostics(self, run_id)
    }

    fn set_strategy_fingerprint(&mut self, strategy: &str, fingerprint: &str) -> Result<(), StoreError> {
        SqliteStore::set_strategy_fingerprint(self, strategy, fingerprint)
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
            .conn
            .prepare_cached(
                // Counted now, not as stored at import time: duplicates superseded in the file,
                // or taken over since by another file, are not the file's activities.
                "SELECT f.content_hash, f.reader_version,
                        (SELECT count(*) FROM activity a WHERE a.source_path = f.path),
                        (SELECT coalesce(sum(a.n_transactions), 0) FROM activity a WHERE a.source_path = f.path),
                        f.stable_hash
                 FROM source_file f WHERE f.path = ?1",
            )?
            .query_row([path], |r| {
                Ok(StoredFile {
                    content_hash: r.get(0)?,
                    reader_version: r.get(1)?,
                    activities: r.get(2)?,
                    transactions: r.get(3)?,
                    stable_hash: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn begin_import_batch(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            // Foreign keys are not enforced inside a batch: every row written refers to the
            // activity written just before, and removals delete their rows explicitly (see
            // `import_file_body`). Without them SQLite needs no statement journal per insert.
            // (The pragma has no effect inside a transaction: it is set before BEGIN.)
            if self.checkpointer.is_none()
                && let Some(path) = self.conn.path().filter(|p| !p.is_empty())
            {
                self.checkpointer = Checkpointer::start(path);
                if self.checkpointer.is_some() {
                    self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                }
            }
            if let Some(c) = &mut self.checkpointer {
                c.wait_idle();
            }
            self.conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE")?;
            self.in_batch = true;
        }
        Ok(())
    }

    fn end_import_batch(&mut self) -> Result<(), StoreError> {
        self.commit_batch(true)
    }

    fn finish_import_batches(&mut self) -> Result<(), StoreError> {
        // The last batch is not checkpointed in the background: the writer would only wait
        // for that checkpoint, and the one SQLite runs afterwards (at the next commit or when
        // the connection closes) would sync both files again. One checkpoint at the end.
        self.commit_batch(false)?;
        self.run.written.clear();
        if let Some(mut c) = self.checkpointer.take() {
            c.stop();
            self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        }
        Ok(())
    }

    fn import_file(
        &mut self,
        file: &FileRecord,
        items: &mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
    ) -> Result<Option<FileOutcome>, StoreError> {
        let run = std::mem::take(&mut self.run.written);
        let r =
            self.in_file_savepoint(|store| rules::import::import_file(&mut SqliteTx(&store.conn), file, items, &run));
        self.run.written = run;
        Ok(r?.map(|w| self.run.note(w)))
    }

    fn begin_import_run(&mut self) {
        self.run.clear();
    }

    fn end_import_run(&mut self) -> Result<NetChange, StoreError> {
        Ok(self.run.net_change())
    }

    fn imported_files(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare("SELECT path FROM source_file ORDER BY path")?;
        let paths = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(paths)
    }

    fn remove_file(&mut self, path: &str) -> Result<FileOutcome, StoreError> {
        // The file's body with no activity at all: every activity of its earlier version is
        // "gone from it" (deleted, copies elsewhere named for a re-read), then its record goes.
        let file = FileRecord { path: path.to_owned(), content_hash: String::new(), size: 0, reader_version: 0 };
        let w = self.in_file_savepoint(|store| {
            let w = rules::import::import_file(
                &mut SqliteTx(&store.conn),
                &file,
                &mut std::iter::empty(),
                &std::collections::HashSet::new(),
            )?;
            store.conn.execute("DELETE FROM source_file WHERE path = ?1", [path])?;
            Ok(w)
        })?;
        Ok(w.map(|w| self.run.note(w)).unwrap_or_default())
    }

    fn record_file_content(&mut self, path: &str, c: &crate::FileContent<'_>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE source_file SET content_hash = ?2, size = ?3, generated_datetime = ?4, stable_hash = ?5 WHERE path = ?1",
            )?
            .execute(params![path, c.content_hash, c.size as i64, c.generated_datetime, c.stable_hash])?;
        Ok(())
    }

    fn restamp_file(&mut self, r: &rules::restamp::Restamp) -> Result<Option<u64>, StoreError> {
        let n = self.in_file_savepoint(|store| rules::restamp::restamp(&mut SqliteTx(&store.conn), r))?;
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
        let mut st = self.conn.prepare(crate::coverage::REPORTING_ORGS_SQL)?;
        let rows = st.query_map([], |r| Ok(senda_core::orgs::KnownOrg { r#ref: r.get(0)?, name: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn source_files(&self) -> Result<Vec<SourceFileInfo>, StoreError> {
        let mut st = self.conn.prepare(crate::coverage::FILES_SQL)?;
        let files = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut st = self.conn.prepare(crate::coverage::FILE_PUBLISHERS_SQL)?;
        let pubs = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
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
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO import_run (started_at, finished_at, report) VALUES (?1, ?2, ?3)",
            params![started_at, finished_at, report.to_string()],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare_cached("INSERT INTO diagnostic (run_id, file, line, col, severity, code, identifier, element, message) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")?;
            for d in diagnostics {
                st.execute(params![
                    id,
                    d.file,
                    d.line as i64,
                    d.column as i64,
                    d.severity.to_string(),
                    d.code,
                    d.identifier,
                    d.element,
                    d.message
                ])?;
            }
        }
        let summary = crate::accounts::import_run_summary(report);
        let row = crate::accounts::AuditRow {
            actor,
            now: OffsetDateTime::now_utc().unix_timestamp(),
            action: "import.run",
            record: &format!("import_run:{id}"),
            before: None,
            after: Some(&summary),
            run_id: Some(id),
        };
        import::SqliteValuesTx(&tx).record_audit(&row)?;
        tx.commit()?;
        Ok(id)
    }

    fn runs(&self, limit: u64) -> Result<Vec<RunRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, started_at, finished_at, report FROM import_run ORDER BY id DESC LIMIT ?1")?;
        let rows = st.query_map([limit as i64], |r| {
            let rep: String = r.get(3)?;
            Ok(RunRecord {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                report: serde_json::from_str(&rep).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn for_each_activity_info(&self, strategy: &str, f: &mut dyn FnMut(u32, &str, &str)) -> Result<(), StoreError> {
        let overrides = self.overrides(strategy)?;
        let over: HashMap<&str, String> =
            overrides.iter().map(|(k, o)| (k.as_str(), lines_join(&o.lines_of_effort))).collect();
        // Two sequential scans in id order (the mapping's primary key starts with the strategy),
        // merged: no index seek and no allocation per activity.
        let mut ms = self.conn.prepare_cached(
            "SELECT activity_id, lines FROM activity_mapping WHERE strategy = ?1 ORDER BY activity_id",
        )?;
        let mut mrows = ms.query([strategy])?;
        let mut mapped: Option<i64> = None;
        let mut lines = String::new();
        let mut more = true;
        let mut st =
            self.conn.prepare_cached("SELECT id, iati_identifier, reporting_org_name FROM activity ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            while more && mapped.is_none_or(|m| m < id) {
                match mrows.next()? {
                    Some(m) => {
                        mapped = Some(m.get(0)?);
                        lines.clear();
                        lines.push_str(m.get_ref(1)?.as_str()?);
                    }
                    None => more = false,
                }
            }
            let own = if mapped == Some(id) { lines.as_str() } else { "" };
            let l = if over.is_empty() { own } else { over.get(r.get_ref(1)?.as_str()?).map_or(own, String::as_str) };
            f(id as u32, r.get_ref(2)?.as_str()?, l);
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
            if with_sector { "sector" } else { "''" },
            if with_implementing_org { "implementing_org" } else { "''" }
        );
        facts_of(&self.conn, &sql, [], f)
    }

    fn for_each_fact_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError> {
        facts_of(&self.conn, FACTS_BETWEEN, [i64::from(lo), i64::from(hi)], f)
    }

    fn for_each_review_signal(&self, strategy: &str, f: &mut dyn FnMut(ReviewSignal<'_>)) -> Result<(), StoreError> {
        let mut st = self.conn.prepare_cached(crate::review::SIGNALS_SQLITE)?;
        let mut rows = st.query([strategy])?;
        while let Some(r) = rows.next()? {
            f(ReviewSignal {
                db_id: r.get(0)?,
                lines: r.get_ref(1)?.as_str()?,
                confidence: r.get_ref(2)?.as_str()?,
                evidence: r.get_ref(3)?.as_str()?,
                near_misses: r.get_ref(4)?.as_str()?,
            });
        }
        Ok(())
    }

    fn for_each_mapping(&self, strategy: &str, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        // Overrides by row id (an override of an identifier not stored has no effect).
        let mut over: HashMap<i64, String> = HashMap::new();
        for (ident, o) in self.overrides(strategy)? {
            if let Some(id) = self.activity_db_id(&ident)? {
                over.insert(id, lines_join(&o.lines_of_effort));
            }
        }
        let mut st = self.conn.prepare_cached(
            "SELECT activity_id, lines FROM activity_mapping WHERE strategy = ?1 ORDER BY activity_id",
        )?;
        let mut rows = st.query([strategy])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            match over.remove(&id) {
                Some(l) => f(id as u32, &l),
                None => f(id as u32, r.get_ref(1)?.as_str()?),
            }
        }
        for (id, l) in over {
            f(id as u32, &l);
        }
        Ok(())
    }

    fn for_each_activity_org_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        orgs_of(&self.conn, lo, hi, f)
    }

    fn fact_segment_states(&self) -> Result<Vec<SegmentState>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT segment, version, stale FROM fact_segment ORDER BY segment")?;
        let rows = st.query_map([], |r| {
            Ok(SegmentState {
                segment: r.get::<_, i64>(0)? as u32,
                version: r.get(1)?,
                stale: r.get::<_, i64>(2)? != 0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn fact_segment_bytes(&self, segment: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM fact_segment WHERE segment = ?1")?
            .query_row([i64::from(segment)], |r| r.get(0))
            .optional()?)
    }

    fn refresh_fact_segments(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = rules::segments::refresh(&mut SegmentsTx(&tx))?;
        tx.commit()?;
        Ok(n)
    }

    fn list_activities(&self, filter: &ActivityFilter) -> Result<Vec<ActivityRow>, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::list_sql(Dialect::Sqlite, filter, &overrides, query::ROW_COLUMNS);
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row_of(r, &overrides)?);
        }
        Ok(out)
    }

    fn matching_activity_ids(&self, filter: &ActivityFilter) -> Result<Vec<i64>, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::list_sql(Dialect::Sqlite, filter, &overrides, "a.id");
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn activity_db_id(&self, iati_identifier: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM activity WHERE iati_identifier = ?1", [iati_identifier], |r| r.get(0))
            .optional()?)
    }

    fn activity_rows(&self, strategy: &str, ids: &[i64]) -> Result<Vec<ActivityRow>, StoreError> {
        let overrides = self.overrides(strategy)?;
        let mut st = self.conn.prepare_cached(&query::row_by_id_sql(Dialect::Sqlite))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = st.query(params![strategy, id])?;
            if let Some(r) = rows.next()? {
                out.push(row_of(r, &overrides)?);
            }
        }
        Ok(out)
    }

    fn count_activities_matching(&self, filter: &ActivityFilter) -> Result<u64, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = query::count_sql(Dialect::Sqlite, filter, &overrides);
        let n: i64 = self.conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }

    fn generation(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT generation FROM store_generation WHERE id = 1", [], |r| r.get(0))?)
    }

    fn data_quality(&self) -> Result<Vec<QualityRow>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT coalesce(nullif(a.reporting_org_name, ''), d.file) AS publisher, d.severity, count(*)
             FROM (SELECT DISTINCT file, line, col, code, severity, identifier FROM diagnostic) d
             LEFT JOIN activity a ON a.iati_identifier = d.identifier
             GROUP BY publisher, d.severity ORDER BY count(*) DESC, publisher, d.severity",
        )?;
        let rows = st.query_map([], |r| {
            Ok(QualityRow { publisher: r.get(0)?, severity: r.get(1)?, count: r.get::<_, i64>(2)? as u64 })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn departments(&self, country: &str) -> Result<Vec<Department>, StoreError> {
        // Names sorted as bytes and joined by U+001F, which XML text cannot hold (a name may
        // hold commas), as on PostgreSQL: both backends show the same three.
        let mut st = self.conn.prepare(
            "SELECT vocabulary, code, count(DISTINCT activity_id),
                    (SELECT group_concat(name, char(31) ORDER BY name) FROM (SELECT DISTINCT n.name FROM activity_location n
                      WHERE n.country = l.country AND n.vocabulary = l.vocabulary AND n.code = l.code))
             FROM activity_location l
             WHERE country = ?1 GROUP BY vocabulary, code ORDER BY count(DISTINCT activity_id) DESC, code, vocabulary",
        )?;
        let rows = st.query_map([country.to_ascii_uppercase()], |r| {
            let names: Option<String> = r.get(3)?;
            let names: Vec<&str> =
                names.as_deref().unwrap_or("").split('\u{1f}').filter(|x| !x.is_empty()).take(3).collect();
            Ok(Department {
                vocabulary: r.get(0)?,
                code: r.get(1)?,
                activities: r.get::<_, i64>(2)? as u64,
                names: names.join("; "),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn activity(&self, iati_identifier: &str, strategy: &str) -> Result<ActivityDetail, StoreError> {
        // Cached statements: the web server asks for single activities at a high rate.
        let row = self
            .conn
            .prepare_cached(
                "SELECT d.doc, d.transactions, a.source_path, a.source_ordinal, m.lines, e.evidence, a.synthetic, e.near_misses, a.last_updated FROM activity a JOIN activity_doc d ON d.activity_id = a.id LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?2 LEFT JOIN mapping_evidence e ON e.activity_id = a.id AND e.strategy = ?2 WHERE a.iati_identifier = ?1",
            )?
            .query_row(
                params![iati_identifier, strategy],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(iati_identifier.to_owned()))?;
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt { record: iati_identifier.to_owned(), message: e.to_string() };
        let mut activity = crate::codec::decode(iati_identifier, &row.0, &row.1)?;
        activity.last_updated = row.8.map(Into::into);
        let evidence: Vec<Evidence> = match row.5 {
            Some(e) => serde_json::from_str(&e).map_err(corrupt)?,
            None => Vec::new(),
        };
        let near_misses: Vec<NearMiss> = match row.7 {
            Some(e) => serde_json::from_str(&e).map_err(corrupt)?,
            None => Vec::new(),
        };
        let override_ = self
            .conn
            .prepare_cached(
                "SELECT lines, note, created_at FROM mapping_override WHERE iati_identifier = ?1 AND strategy = ?2",
            )?
            .query_row(params![iati_identifier, strategy], |r| {
                Ok(Override {
                    iati_identifier: iati_identifier.to_owned(),
                    strategy: strategy.to_owned(),
                    lines_of_effort: lines_split(&r.get::<_, String>(0)?),
                    note: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()?;
        let override_log = self
            .conn
            .prepare_cached(
                "SELECT action, lines, note, at FROM mapping_override_log WHERE iati_identifier = ?1 AND strategy = ?2 ORDER BY id",
            )?
            .query_map(params![iati_identifier, strategy], |r| {
                Ok(OverrideEvent {
                    action: r.get(0)?,
                    lines_of_effort: lines_split(&r.get::<_, String>(1)?),
                    note: r.get(2)?,
                    at: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ActivityDetail {
            activity,
            source: (row.2, row.3 as u64),
            rule_lines: lines_split(&row.4.unwrap_or_default()),
            evidence,
            override_,
            override_log,
            synthetic: row.6 != 0,
            near_misses,
        })
    }

    fn strategy_fingerprint(&self, strategy: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT fingerprint FROM strategy_state WHERE strategy = ?1", [strategy], |r| r.get(0))
            .optional()?)
    }

    fn remap(
        &mut self,
        strategy: &str,
        fingerprint: &str,
        map: &dyn Fn(&Activity) -> Mapping,
    ) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM activity_mapping WHERE strategy = ?1", [strategy])?;
        tx.execute("DELETE FROM mapping_evidence WHERE strategy = ?1", [strategy])?;
        let mut n = 0;
        {
            let mut st = tx.prepare("SELECT a.id, a.iati_identifier, d.doc, d.transactions FROM activity a JOIN activity_doc d ON d.activity_id = a.id")?;
            let mut ins = tx.prepare(
                "INSERT OR REPLACE INTO activity_mapping (activity_id, strategy, lines, confidence) VALUES (?1,?2,?3,?4)",
            )?;
            let mut ins_ev = tx.prepare(
                "INSERT OR REPLACE INTO mapping_evidence (activity_id, strategy, evidence, near_misses) VALUES (?1,?2,?3,?4)",
            )?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let ident: String = r.get(1)?;
                let a = crate::codec::decode(&ident, r.get_ref(2)?.as_blob()?, r.get_ref(3)?.as_blob()?)?;
                let m = map(&a);
                n += 1;
                let Some(row) = crate::item::mapping_row(&m) else { continue };
                if !row.lines.is_empty() {
                    ins.execute(params![id, strategy, row.lines, row.confidence])?;
                }
                ins_ev.execute(params![id, strategy, row.evidence, row.near_misses])?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO strategy_state (strategy, fingerprint) VALUES (?1, ?2)",
            params![strategy, fingerprint],
        )?;
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
        Ok(n)
    }

    fn synthetic_presence(&self) -> Result<(bool, bool), StoreError> {
        // Both answered from an index (`activity_synthetic`) or the first rows: no scan.
        let synthetic: bool =
            self.conn.query_row("SELECT EXISTS (SELECT 1 FROM activity WHERE synthetic != 0)", [], |r| r.get(0))?;
        let real: bool =
            self.conn.query_row("SELECT EXISTS (SELECT 1 FROM activity WHERE synthetic = 0)", [], |r| r.get(0))?;
        Ok((synthetic, real))
    }

    fn count_activities(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM activity", [], |r| r.get::<_, i64>(0))? as u64)
    }
    fn import_values(&mut self, batch: &ValueBatch) -> Result<ValuesOutcome, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (out, write) = rules::values::import_values(&mut import::SqliteValuesTx(&tx), batch, &now())?;
        if write {
            tx.commit()?;
        }
        Ok(out)
    }

    fn ensure_indicator_definition(
        &mut self,
        strategy: &str,
        def: &senda_core::indicator::IndicatorDef,
    ) -> Result<DefinitionVersion, StoreError> {
        let fp = def.measurement_fingerprint();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(i64, i64, String, String)> = tx
            .query_row(
                "SELECT id, version, definition, first_used FROM indicator_definition WHERE strategy = ?1 AND code = ?2 AND fingerprint = ?3",
                params![strategy, def.code, fp],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((id, version, json, first_used)) = found {
            let definition = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                record: format!("indicator {}", def.code),
                message: e.to_string(),
            })?;
            return Ok(DefinitionVersion { id, version, definition, first_used });
        }
        let version: i64 = tx.query_row(
            "SELECT coalesce(max(version), 0) + 1 FROM indicator_definition WHERE strategy = ?1 AND code = ?2",
            params![strategy, def.code],
            |r| r.get(0),
        )?;
        let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        let json = serde_json::to_string(def).unwrap_or_default();
        tx.execute(
            "INSERT INTO indicator_definition (strategy, code, version, fingerprint, definition, first_used) VALUES (?1,?2,?3,?4,?5,?6)",
            params![strategy, def.code, version, fp, json, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
        Ok(DefinitionVersion { id, version, definition: def.clone(), first_used: now })
    }

    fn indicator_versions(&self, strategy: &str) -> Result<HashMap<String, Vec<DefinitionVersion>>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, code, version, definition, first_used FROM indicator_definition WHERE strategy = ?1 ORDER BY code, version",
        )?;
        let mut rows = st.query([strategy])?;
        let mut out: HashMap<String, Vec<DefinitionVersion>> = HashMap::new();
        while let Some(r) = rows.next()? {
            let code: String = r.get(1)?;
            let json: String = r.get(3)?;
            let definition = serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt { record: format!("indicator {code}"), message: e.to_string() })?;
            out.entry(code).or_default().push(DefinitionVersion {
                id: r.get(0)?,
                version: r.get(2)?,
                definition,
                first_used: r.get(4)?,
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
        if !filter.series.is_empty() {
            sql.push_str(" AND o.series IN (");
            for (i, s) in filter.series.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                args.push(s.clone());
                sql.push_str(&format!("?{}", args.len()));
            }
            sql.push(')');
        }
        if let Some(c) = &filter.country {
            args.push(c.clone());
            sql.push_str(&format!(" AND o.country = ?{}", args.len()));
        }
        if !filter.kinds.is_empty() {
            sql.push_str(" AND o.kind IN (");
            for (i, k) in filter.kinds.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                args.push(k.as_str().to_owned());
                sql.push_str(&format!("?{}", args.len()));
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY o.series, o.place, o.period_start, o.period, o.disaggregation, o.kind");
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let corrupt =
                |what: &str, m: String| StoreError::Corrupt { record: format!("observation {what}"), message: m };
            let place: String = r.get(1)?;
            let period: String = r.get(2)?;
            let value: String = r.get(5)?;
            let den: Option<String> = r.get(6)?;
            let kind: String = r.get(4)?;
            out.push(StoredObservation {
                observation: senda_core::Observation {
                    series: r.get(0)?,
                    place: senda_core::Place::parse(&place).map_err(|e| corrupt(&place, e.to_string()))?,
                    period: senda_core::Period::parse(&period).map_err(|e| corrupt(&period, e.to_string()))?,
                    disaggregation: senda_core::observation::parse_disaggregation_key(r.get_ref(3)?.as_str()?),
                    kind: senda_core::ValueKind::parse(&kind).ok_or_else(|| corrupt(&kind, "unknown kind".into()))?,
                    value: value.parse().map_err(|e: rust_decimal::Error| corrupt(&value, e.to_string()))?,
                    denominator: match den {
                        Some(d) => Some(d.parse().map_err(|e: rust_decimal::Error| corrupt(&d, e.to_string()))?),
                        None => None,
                    },
                    row: 0,
                },
                definition_version: r.get(7)?,
                origin: r.get(8)?,
            });
        }
        Ok(out)
    }

    fn stat_series(&self) -> Result<Vec<SeriesSummary>, StoreError> {
        // The last period: the latest start, and of periods starting that day (a month, its
        // quarter, its fiscal year) the longest (`FY..` > `YYYY-Qn` > `YYYY-MM` as bytes), the
        // same on every backend.
        let mut st = self.conn.prepare_cached(
            "SELECT s.code, s.name, s.name_es, s.unit, s.source,
                    (SELECT count(*) FROM observation o WHERE o.series = s.code),
                    (SELECT min(period_start) FROM observation o WHERE o.series = s.code),
                    (SELECT period FROM observation o WHERE o.series = s.code ORDER BY period_start DESC, period DESC LIMIT 1),
                    (SELECT group_concat(country, ';') FROM (SELECT DISTINCT country FROM observation o WHERE o.series = s.code AND country != '' ORDER BY country))
             FROM stat_series s ORDER BY s.code",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let countries: Option<String> = r.get(8)?;
            out.push(SeriesSummary {
                series: senda_core::StatSeries {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    name_es: r.get(2)?,
                    unit: r.get(3)?,
                    source: r.get(4)?,
                },
                values: r.get::<_, i64>(5)? as u64,
                first_period: r.get(6)?,
                last_period: r.get(7)?,
                countries: countries.as_deref().map(lines_split).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    fn value_files(&self) -> Result<Vec<ValueFileRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, dataset, path, format, imported_at, report FROM value_file ORDER BY imported_at DESC, id DESC",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let report: String = r.get(5)?;
            out.push(ValueFileRecord {
                id: r.get(0)?,
                dataset: r.get(1)?,
                path: r.get(2)?,
                format: r.get(3)?,
                imported_at: r.get(4)?,
                report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
            });
        }
        Ok(out)
    }

    fn activities_with_results(
        &self,
        strategy: &str,
        line_of_effort: Option<&str>,
        country: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let overrides = self.overrides(strategy)?;
        let mut st = self.conn.prepare_cached(
            "SELECT a.iati_identifier, coalesce(m.lines, ''), a.countries FROM activity_result r
             JOIN activity a ON a.id = r.activity_id
             LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?1
             ORDER BY a.iati_identifier",
        )?;
        let mut rows = st.query([strategy])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let ident: String = r.get(0)?;
            let lines = match overrides.get(&ident) {
                Some(o) => o.lines_of_effort.clone(),
                None => lines_split(r.get_ref(1)?.as_str()?),
            };
            if line_of_effort.is_some_and(|l| !lines.iter().any(|x| x == l)) {
                continue;
            }
            if let Some(c) = country {
                let countries: String = r.get(2)?;
                if !countries.contains(&format!(";{c};")) {
                    continue;
                }
            }
            out.push(ident);
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// Records that stored mappings of `strategy` were made with this definition fingerprint.
    pub fn set_strategy_fingerprint(&mut self, strategy: &str, fingerprint: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO strategy_state (strategy, fingerprint) VALUES (?1, ?2)",
            params![strategy, fingerprint],
        )?;
        Ok(())
    }

    /// Diagnostics of a run.
    pub fn run_diagnostics(&self, run_id: i64) -> Result<Vec<Diagnostic>, StoreError> {
        let mut st = self.conn.prepare("SELECT file, line, col, severity, code, identifier, element, message FROM diagnostic WHERE run_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map([run_id], |r| {
            let sev: String = r.get(3)?;
            Ok(Diagnostic {
                file: r.get(0)?,
                line: r.get::<_, i64>(1)? as u64,
                column: r.get::<_, i64>(2)? as u64,
                severity: match sev.as_str() {
                    "warning" => Severity::Warning,
                    "error" => Severity::Error,
                    _ => Severity::Fatal,
                },
                code: r.get(4)?,
                identifier: r.get(5)?,
                element: r.get(6)?,
                message: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

fn row_of(r: &rusqlite::Row<'_>, overrides: &HashMap<String, Override>) -> Result<ActivityRow, StoreError> {
    let ident: String = r.get(0)?;
    let (lines, overridden) = match overrides.get(&ident) {
        Some(o) => (o.lines_of_effort.clone(), true),
        None => (lines_split(&r.get::<_, Option<String>>(4)?.unwrap_or_default()), false),
    };
    let countries: String = r.get(3)?;
    Ok(ActivityRow {
        iati_identifier: ident,
        title: r.get(1)?,
        reporting_org: r.get(2)?,
        countries: countries.trim_matches(';').to_owned(),
        lines_of_effort: lines.join(";"),
        overridden,
        status: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        start_date: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
        end_date: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        commitments_usd: r.get(8)?,
        disbursements_usd: r.get(9)?,
        expenditures_usd: r.get(10)?,
        synthetic: r.get::<_, i64>(11)? != 0,
        db_id: r.get(12)?,
    })
}

/// Fills `activity_location` for databases made before schema version 2 (their activities are
/// decoded once; runs inside the migration's transaction).
fn backfill_locations(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut st = tx.prepare("SELECT a.id, a.iati_identifier, d.doc, d.transactions FROM activity a JOIN activity_doc d ON d.activity_id = a.id")?;
    let mut ins = tx.prepare(
        "INSERT INTO activity_location (activity_id, country, vocabulary, code, name) VALUES (?1,?2,?3,?4,?5)",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let ident: String = r.get(1)?;
        let a = crate::codec::decode(&ident, r.get_ref(2)?.as_blob()?, r.get_ref(3)?.as_blob()?)?;
        for (country, vocabulary, code, name) in admin1_locations(&a) {
            ins.execute(params![id, country, vocabulary, code, name])?;
        }
    }
    Ok(())
}

/// Fills `activity.title_key` for databases made before schema version 6.
fn backfill_title_keys(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut st = tx.prepare("SELECT id, title FROM activity")?;
    let mut up = tx.prepare("UPDATE activity SET title_key = ?2 WHERE id = ?1")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        up.execute(params![id, crate::rules::sort_key::title_key(r.get_ref(1)?.as_str()?)])?;
    }
    Ok(())
}

/// Fills `activity_result` for databases made before schema version 3.
fn backfill_results(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut st = tx.prepare("SELECT a.id, a.iati_identifier, d.doc, d.transactions FROM activity a JOIN activity_doc d ON d.activity_id = a.id")?;
    let mut ins = tx.prepare("INSERT INTO activity_result (activity_id, indicators) VALUES (?1, ?2)")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let ident: String = r.get(1)?;
        let a = crate::codec::decode(&ident, r.get_ref(2)?.as_blob()?, r.get_ref(3)?.as_blob()?)?;
        let n: usize = a.results.iter().map(|r| r.indicators.len()).sum();
        if n > 0 {
            ins.execute(params![id, n as i64])?;
        }
    }
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                StoreError::Busy { message: e.to_string() }
            }
            _ => StoreError::database(e),
        }
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Corrupt { record: "database value".into(), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_refused_because_another_process_holds_the_lock_is_recognised_as_busy() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let mut s = SqliteStore::open(&path).expect("open");
        s.conn.busy_timeout(std::time::Duration::from_millis(50)).expect("timeout");
        let other = Connection::open(&path).expect("other");
        other.execute_batch("BEGIN IMMEDIATE").expect("the other takes the lock");
        let err = s.begin_import_batch().expect_err("the lock is held");
        assert!(err.is_busy(), "{err}");
        other.execute_batch("ROLLBACK").expect("release");
        assert!(!StoreError::Corrupt { record: "x".into(), message: "y".into() }.is_busy());
    }

    #[test]
    fn migrations_are_versioned_and_reopening_keeps_the_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let s = SqliteStore::open(&path).expect("open");
        assert_eq!(s.schema_version().expect("version"), MIGRATIONS.len() as i64);
        drop(s);
        let s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(s.schema_version().expect("version"), MIGRATIONS.len() as i64);
        let mode: String = s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("mode");
        assert_eq!(mode, "wal");
    }

    #[test]
    fn an_older_database_keeps_its_overrides_and_gains_their_history() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("v4.db");
        {
            // A database as version 4 left it, with one override.
            let conn = Connection::open(&path).expect("open");
            for (_, sql) in &MIGRATIONS[..4] {
                conn.execute_batch(sql).expect("migration");
            }
            conn.pragma_update(None, "user_version", 4).expect("version");
            conn.execute(
                "INSERT INTO mapping_override (iati_identifier, strategy, lines, note, created_at) VALUES ('XM-1','cmms-2021','LOE5;LOE6','read it','2026-11-30T10:00:00Z')",
                [],
            )
            .expect("override");
        }
        let s = SqliteStore::open(&path).expect("migrated");
        assert_eq!(s.schema_version().expect("version"), MIGRATIONS.len() as i64);
        let o = s.overrides("cmms-2021").expect("overrides");
        assert_eq!(o.len(), 1, "the override in force is kept");
        let log: Vec<(String, String, String, String)> = s
            .conn
            .prepare("SELECT action, lines, note, at FROM mapping_override_log WHERE iati_identifier = 'XM-1'")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            log,
            [("set".into(), "LOE5;LOE6".into(), "read it".into(), "2026-11-30T10:00:00Z".into())],
            "its one known decision starts the history"
        );
    }

    #[test]
    fn the_write_ahead_log_stays_a_few_batches_long_during_a_long_import() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let mut s = SqliteStore::open(&path).expect("open");
        s.conn.execute_batch("CREATE TABLE bulk (b BLOB)").expect("table");
        let batch_bytes = 1024 * 1024;
        let blob: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut largest = 0u64;
        for _ in 0..40 {
            s.begin_import_batch().expect("begin");
            for _ in 0..batch_bytes / blob.len() {
                s.conn.execute("INSERT INTO bulk (b) VALUES (?1)", [&blob]).expect("insert");
            }
            s.end_import_batch().expect("commit");
            let wal = std::fs::metadata(dir.path().join("s.db-wal")).map(|m| m.len()).unwrap_or(0);
            largest = largest.max(wal);
        }
        s.finish_import_batches().expect("finish");
        // 40 MB written: without restarts the log grew past 50 MB here; with them it holds at
        // most the batches between two restarts (4) and the one being checkpointed, plus page
        // overheads.
        let bound = 10 * batch_bytes as u64;
        assert!(largest <= bound, "log reached {largest} bytes (bound {bound})");
        let rows: i64 = s.conn.query_row("SELECT count(*) FROM bulk", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, 40 * (batch_bytes / blob.len()) as i64);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_by_name_and_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notes.db");
        let text = "hello, this is not a database\n".repeat(200);
        std::fs::write(&path, &text).expect("write");
        let err = SqliteStore::open(&path).err().expect("refused").to_string();
        assert!(err.contains("notes.db") && err.contains("not a SQLite database"), "{err}");
        assert_eq!(err.matches("not a").count(), 1, "said once: {err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text, "left as it was");
    }

    #[test]
    fn a_database_in_a_folder_that_does_not_exist_is_refused_naming_the_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("no-such-folder").join("s.db");
        let err = SqliteStore::open(&path).err().expect("refused").to_string();
        assert!(err.contains("no-such-folder") && err.contains("does not exist"), "{err}");
        assert!(!dir.path().join("no-such-folder").exists(), "nothing created");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).expect("open"));
        Connection::open(&path).expect("raw").pragma_update(None, "user_version", 99).expect("bump");
        assert!(matches!(SqliteStore::open(&path), Err(StoreError::TooNew { found: 99, .. })));
    }
}

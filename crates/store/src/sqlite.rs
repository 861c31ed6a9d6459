//! The SQLite backend: one file, WAL, versioned migrations (`migrations/sqlite/NNNN_*.sql`,
//! applied in order and recorded in `PRAGMA user_version`).

use crate::item::admin1_locations;
use crate::*;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rust_decimal::Decimal;
use senda_core::report::ActivityInfo;
use senda_core::{Severity, report::NOT_MAPPED};
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_generation_locations.sql"),
    include_str!("../migrations/sqlite/0003_indicators_statistics.sql"),
    include_str!("../migrations/sqlite/0004_activity_copies.sql"),
    include_str!("../migrations/sqlite/0005_override_log.sql"),
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
    /// Rows written by the files of the import under way, so that a copy in a later file
    /// replacing one an earlier file wrote counts, in that file's figures, as superseding it
    /// rather than as an update (cleared by [`Store::finish_import_batches`]).
    run_written: std::collections::HashSet<i64>,
    /// Between [`Store::begin_import_run`] and [`Store::end_import_run`]: each identifier a file
    /// of the run changed, with its state before the run and now.
    run_before: HashMap<u64, Ledger>,
}

/// What one file's import wrote (see `import_file_body`).
struct FileWrite {
    out: FileOutcome,
    /// Rows written: row id -> the transactions counted for it.
    written: RowsWritten,
    /// Identifiers changed (by [`identifier_key`]), with their state before this file and after.
    before: HashMap<u64, Ledger>,
}

/// An identifier's stored activity before a file (or run) changed it and after: fingerprint
/// (`None`: not stored) and, after, its transactions.
#[derive(Debug, Clone, Copy)]
struct Ledger {
    before: Option<u64>,
    after: Option<(u64, u64)>,
}

/// A stored fingerprint (32 hex digits) as a number: its low 64 bits, enough to tell a changed
/// activity from the same one (kept for a whole run: a 1 GB import changes 128,000 of them).
fn fingerprint_value(hex: &str) -> u64 {
    u128::from_str_radix(hex, 16).unwrap_or(0) as u64
}

/// An identifier as the run's ledger keys it: its xxh3-64 (two of a run's identifiers sharing
/// one would merge their counts; with 64 bits, about one chance in 10^9 for a million).
fn identifier_key(ident: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(ident.as_bytes())
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
        Self::init(conn).map_err(|e| match e {
            // SQLite's own words repeat themselves and do not name the file.
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::NotADatabase => {
                StoreError::Open {
                    path: path.display().to_string(),
                    message: "it is not a SQLite database (another kind of file)".into(),
                }
            }
            e => e,
        })
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
                return Err(StoreError::NotSenda);
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
        let mut s = Self {
            conn,
            in_batch: false,
            checkpointer: None,
            run_written: std::collections::HashSet::new(),
            run_before: HashMap::new(),
        };
        s.migrate()?;
        Ok(s)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let v: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if v > supported {
            return Err(StoreError::TooNew { found: v, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
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
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
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

/// A copy's rank under the duplicate rule: `last-updated-datetime` (normalised UTC, RFC 3339;
/// empty when missing or unreadable: ranks first), then path, then position. The times are
/// compared as instants: `12:00:00.9Z` is later than `12:00:00Z`, though `.` sorts before `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rank<'a>(&'a str, &'a str, u64);

impl Ord for Rank<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        utc_cmp(self.0, other.0).then_with(|| self.1.cmp(other.1)).then_with(|| self.2.cmp(&other.2))
    }
}

impl PartialOrd for Rank<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two normalised UTC times (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or empty) as instants.
fn utc_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    // Seconds and fraction digits; a time without a fraction has fraction "".
    fn parts(t: &str) -> (&str, &str) {
        let t = t.strip_suffix('Z').unwrap_or(t);
        t.split_once('.').unwrap_or((t, ""))
    }
    let ((sa, fa), (sb, fb)) = (parts(a), parts(b));
    // (Empty strings sort first, as before: "" < any time.)
    sa.cmp(sb).then_with(|| {
        // Fractions compared digit by digit, the shorter padded with zeros (".5" = ".50").
        let n = fa.len().max(fb.len());
        fn padded(f: &str, n: usize) -> impl Iterator<Item = u8> + '_ {
            f.bytes().chain(std::iter::repeat(b'0')).take(n)
        }
        padded(fa, n).cmp(padded(fb, n))
    })
}

/// Rows a file's import wrote: row id -> the transactions counted for it.
type RowsWritten = HashMap<i64, u64>;

/// A copy kept aside during a file's import (see `fallbacks` in `import_file_body`): the best
/// copy that lost to a row of the file's previous version, that row's fingerprint, and the
/// other copies that lost as (ordinal, line).
type Fallback = (ImportItem, String, Vec<(u64, u64)>);

struct Existing {
    id: i64,
    fingerprint: String,
    last_updated_utc: String,
    source_path: String,
    source_ordinal: u64,
}

impl Store for SqliteStore {
    fn file_state(&self, path: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                // Counted now, not as stored at import time: duplicates superseded in the file,
                // or taken over since by another file, are not the file's activities.
                "SELECT f.content_hash, f.reader_version,
                        (SELECT count(*) FROM activity a WHERE a.source_path = f.path),
                        (SELECT coalesce(sum(a.n_transactions), 0) FROM activity a WHERE a.source_path = f.path)
                 FROM source_file f WHERE f.path = ?1",
            )?
            .query_row([path], |r| {
                Ok(StoredFile {
                    content_hash: r.get(0)?,
                    reader_version: r.get(1)?,
                    activities: r.get(2)?,
                    transactions: r.get(3)?,
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
        self.run_written.clear();
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
        let run = std::mem::take(&mut self.run_written);
        let r = self.in_file_savepoint(|store| store.import_file_body(file, items, &run));
        self.run_written = run;
        Ok(r?.map(|w| self.note_file_write(w)))
    }

    fn begin_import_run(&mut self) {
        self.run_before.clear();
        self.run_written.clear();
    }

    fn end_import_run(&mut self) -> Result<NetChange, StoreError> {
        let mut net = NetChange::default();
        for l in std::mem::take(&mut self.run_before).into_values() {
            match (l.before, l.after) {
                (None, Some((_, n))) => {
                    net.created += 1;
                    net.transactions += n;
                }
                (Some(_), None) => net.removed += 1,
                (Some(f), Some((g, n))) if f != g => {
                    net.updated += 1;
                    net.transactions += n;
                }
                _ => {}
            }
        }
        Ok(net)
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
            let w = store.import_file_body(&file, &mut std::iter::empty(), &std::collections::HashSet::new())?;
            store.conn.execute("DELETE FROM source_file WHERE path = ?1", [path])?;
            Ok(w)
        })?;
        Ok(w.map(|w| self.note_file_write(w)).unwrap_or_default())
    }

    fn record_file_content(&mut self, path: &str, content_hash: &str, size: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE source_file SET content_hash = ?2, size = ?3 WHERE path = ?1")?
            .execute(params![path, content_hash, size as i64])?;
        Ok(())
    }

    fn save_run(
        &mut self,
        started_at: &str,
        finished_at: &str,
        report: &serde_json::Value,
        diagnostics: &[Diagnostic],
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

    fn set_override(&mut self, o: &Override) -> Result<(), StoreError> {
        let exists: Option<i64> = self
            .conn
            .query_row("SELECT id FROM activity WHERE iati_identifier = ?1", [&o.iati_identifier], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(o.iati_identifier.clone()));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO mapping_override (iati_identifier, strategy, lines, note, created_at) VALUES (?1,?2,?3,?4,?5)",
            params![o.iati_identifier, o.strategy, lines_join(&o.lines_of_effort), o.note, o.created_at],
        )?;
        tx.execute(
            "INSERT INTO mapping_override_log (iati_identifier, strategy, action, lines, note, at) VALUES (?1,?2,'set',?3,?4,?5)",
            params![o.iati_identifier, o.strategy, lines_join(&o.lines_of_effort), o.note, o.created_at],
        )?;
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
        Ok(())
    }

    fn remove_override(
        &mut self,
        iati_identifier: &str,
        strategy: &str,
        note: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed: Option<String> = tx
            .query_row(
                "DELETE FROM mapping_override WHERE iati_identifier = ?1 AND strategy = ?2 RETURNING lines",
                params![iati_identifier, strategy],
                |r| r.get(0),
            )
            .optional()?;
        let Some(lines) = removed else {
            return Ok(false);
        };
        tx.execute(
            "INSERT INTO mapping_override_log (iati_identifier, strategy, action, lines, note, at) VALUES (?1,?2,'unset',?3,?4,?5)",
            params![iati_identifier, strategy, lines, note, at],
        )?;
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
        Ok(true)
    }

    fn activity_infos(&self, strategy: &str) -> Result<HashMap<u32, ActivityInfo>, StoreError> {
        let overrides = self.overrides(strategy)?;
        // Two sequential scans (mappings, then activities) instead of one index seek per activity.
        let mut lines: HashMap<i64, String> = HashMap::new();
        {
            let mut st = self.conn.prepare("SELECT activity_id, lines FROM activity_mapping WHERE strategy = ?1")?;
            let mut rows = st.query([strategy])?;
            while let Some(r) = rows.next()? {
                let l = r.get_ref(1)?.as_str()?;
                if !l.is_empty() {
                    lines.insert(r.get(0)?, l.to_owned());
                }
            }
        }
        let mut st = self.conn.prepare("SELECT id, iati_identifier, reporting_org_name FROM activity")?;
        let mut rows = st.query([])?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let over = if overrides.is_empty() { None } else { overrides.get(r.get_ref(1)?.as_str()?) };
            let lines = match over {
                Some(o) => o.lines_of_effort.clone(),
                None => lines.get(&id).map(|l| lines_split(l)).unwrap_or_default(),
            };
            out.insert(
                id as u32,
                ActivityInfo {
                    reporting_org: r.get(2)?,
                    lines_of_effort: lines,
                    instrument: "foreign_assistance".into(),
                },
            );
        }
        Ok(out)
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
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let date: Option<&str> = r.get_ref(2)?.as_str_or_null()?;
            let amount_s = r.get_ref(7)?.as_str()?;
            let amount: Decimal = amount_s.parse().map_err(|e: rust_decimal::Error| StoreError::Corrupt {
                record: format!("fact amount {amount_s:?}"),
                message: e.to_string(),
            })?;
            f(FactRef {
                activity: r.get::<_, i64>(0)? as u32,
                transaction_type: r.get_ref(1)?.as_str()?,
                date: date.and_then(|d| senda_core::codes::parse_iso_date(d).ok()),
                currency: r.get_ref(3)?.as_str()?,
                country: r.get_ref(4)?.as_str()?,
                sector: r.get_ref(5)?.as_str()?,
                implementing_org: r.get_ref(6)?.as_str()?,
                amount,
            });
        }
        Ok(())
    }

    fn list_activities(&self, filter: &ActivityFilter) -> Result<Vec<ActivityRow>, StoreError> {
        let overrides = self.overrides(&filter.strategy)?;
        let (sql, args) = list_sql(filter, &overrides, ROW_COLUMNS);
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
        let (sql, args) = list_sql(filter, &overrides, "a.id");
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
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM activity a LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?1 WHERE a.id = ?2"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
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
        let (where_sql, args) = activity_where(filter, &overrides);
        let sql = format!(
            "SELECT count(*) FROM activity a LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?1 WHERE {where_sql}"
        );
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
             GROUP BY publisher, d.severity ORDER BY count(*) DESC, publisher",
        )?;
        let rows = st.query_map([], |r| {
            Ok(QualityRow { publisher: r.get(0)?, severity: r.get(1)?, count: r.get::<_, i64>(2)? as u64 })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn departments(&self, country: &str) -> Result<Vec<Department>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT vocabulary, code, count(DISTINCT activity_id), group_concat(DISTINCT name) FROM activity_location
             WHERE country = ?1 GROUP BY vocabulary, code ORDER BY count(DISTINCT activity_id) DESC, code",
        )?;
        let rows = st.query_map([country.to_ascii_uppercase()], |r| {
            let names: Option<String> = r.get(3)?;
            let names: Vec<&str> =
                names.as_deref().unwrap_or("").split(',').filter(|x| !x.is_empty()).take(3).collect();
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
                "SELECT d.doc, d.transactions, a.source_path, a.source_ordinal, m.lines, e.evidence, a.synthetic FROM activity a JOIN activity_doc d ON d.activity_id = a.id LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?2 LEFT JOIN mapping_evidence e ON e.activity_id = a.id AND e.strategy = ?2 WHERE a.iati_identifier = ?1",
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
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(iati_identifier.to_owned()))?;
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt { record: iati_identifier.to_owned(), message: e.to_string() };
        let activity = crate::codec::decode(iati_identifier, &row.0, &row.1)?;
        let evidence: Vec<Evidence> = match row.5 {
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
            let mut ins =
                tx.prepare("INSERT OR REPLACE INTO activity_mapping (activity_id, strategy, lines) VALUES (?1,?2,?3)")?;
            let mut ins_ev = tx.prepare(
                "INSERT OR REPLACE INTO mapping_evidence (activity_id, strategy, evidence) VALUES (?1,?2,?3)",
            )?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let ident: String = r.get(1)?;
                let a = crate::codec::decode(&ident, r.get_ref(2)?.as_blob()?, r.get_ref(3)?.as_blob()?)?;
                let m = map(&a);
                n += 1;
                if m.lines_of_effort.is_empty() {
                    continue;
                }
                ins.execute(params![id, strategy, lines_join(&m.lines_of_effort)])?;
                let mut json = Vec::new();
                let evidence = match crate::item::write_evidence_json(&m.evidence, &mut json) {
                    Ok(()) => std::str::from_utf8(&json).unwrap_or("[]"),
                    Err(_) => "[]",
                };
                ins_ev.execute(params![id, strategy, evidence])?;
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
        let mut out = ValuesOutcome::default();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        let report = batch.report.to_string();
        let mut previous: std::collections::HashSet<(String, String, String, String, String)> = Default::default();
        let file_id: Option<i64> = match &batch.path {
            None => None,
            Some(path) => {
                let existing: Option<(i64, String)> = tx
                    .query_row(
                        "SELECT id, content_hash FROM value_file WHERE dataset = ?1 AND path = ?2",
                        params![batch.dataset, path],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                match existing {
                    Some((id, hash)) if hash == batch.content_hash => {
                        out.same_file = true;
                        out.unchanged =
                            tx.query_row("SELECT count(*) FROM observation WHERE file_id = ?1", [id], |r| {
                                r.get::<_, i64>(0)
                            })? as u64;
                        return Ok(out); // nothing written; tx dropped
                    }
                    Some((id, _)) => {
                        let mut st = tx.prepare(
                            "SELECT series, place, period, disaggregation, kind FROM observation WHERE file_id = ?1",
                        )?;
                        let mut rows = st.query([id])?;
                        while let Some(r) = rows.next()? {
                            previous.insert((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
                        }
                        tx.execute(
                            "UPDATE value_file SET format = ?2, content_hash = ?3, imported_at = ?4, report = ?5 WHERE id = ?1",
                            params![id, batch.format, batch.content_hash, now, report],
                        )?;
                        Some(id)
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO value_file (dataset, path, format, content_hash, imported_at, report) VALUES (?1,?2,?3,?4,?5,?6)",
                            params![batch.dataset, path, batch.format, batch.content_hash, now, report],
                        )?;
                        Some(tx.last_insert_rowid())
                    }
                }
            }
        };
        {
            let mut ins_series = tx.prepare_cached(
                "INSERT INTO stat_series (code, name, name_es, unit, source) VALUES (?1,?2,?3,?4,?5)
                 ON CONFLICT(code) DO UPDATE SET name=excluded.name, name_es=excluded.name_es, unit=excluded.unit, source=excluded.source",
            )?;
            for se in &batch.series {
                ins_series.execute(params![se.code, se.name, se.name_es, se.unit, se.source])?;
            }
            let mut find = tx.prepare_cached(
                "SELECT value, denominator, definition_id, file_id, origin FROM observation
                 WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5",
            )?;
            let mut upsert = tx.prepare_cached(
                "INSERT OR REPLACE INTO observation (series, place, country, period, period_start, disaggregation, kind, value, denominator, definition_id, file_id, origin)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
            )?;
            let mut touch = tx.prepare_cached(
                "UPDATE observation SET file_id = ?6, origin = ?7 WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5",
            )?;
            for (o, def_id) in &batch.observations {
                let key = (
                    o.series.clone(),
                    o.place.to_string(),
                    o.period.to_string(),
                    senda_core::observation::disaggregation_key(&o.disaggregation),
                    o.kind.as_str().to_owned(),
                );
                previous.remove(&key);
                let origin = match &batch.path {
                    Some(p) => format!("{p}:{}", o.row),
                    None => "api".to_owned(),
                };
                let value = o.value.normalize().to_string();
                let den = o.denominator.map(|d| d.normalize().to_string());
                type Found = (String, Option<String>, Option<i64>, Option<i64>, String);
                let found: Option<Found> = find
                    .query_row(params![key.0, key.1, key.2, key.3, key.4], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()?;
                match &found {
                    Some((v, d, di, _, _)) if *v == value && *d == den && di == def_id => {
                        out.unchanged += 1;
                        touch.execute(params![key.0, key.1, key.2, key.3, key.4, file_id, origin])?;
                        continue;
                    }
                    Some((_, _, _, fid, other)) => {
                        if file_id.is_none() || *fid != file_id {
                            out.replaced.push(Diagnostic {
                                severity: Severity::Warning,
                                code: "value-replaced".into(),
                                message: format!(
                                    "{} {} {} {} ({}): replaces the value stored from {other}",
                                    key.0, key.1, key.2, key.4, key.3
                                ),
                                file: batch.path.clone().unwrap_or_else(|| "api".into()),
                                line: o.row,
                                column: 0,
                                identifier: None,
                                element: None,
                            });
                        }
                        out.updated += 1;
                    }
                    None => out.inserted += 1,
                }
                let country = o.place.country().map(|c| c.as_str().to_owned()).unwrap_or_default();
                upsert.execute(params![
                    key.0,
                    key.1,
                    country,
                    key.2,
                    o.period.start().to_string(),
                    key.3,
                    key.4,
                    value,
                    den,
                    def_id,
                    file_id,
                    origin
                ])?;
            }
            let mut del = tx.prepare_cached(
                "DELETE FROM observation WHERE series = ?1 AND place = ?2 AND period = ?3 AND disaggregation = ?4 AND kind = ?5 AND file_id = ?6",
            )?;
            for k in &previous {
                out.removed += del.execute(params![k.0, k.1, k.2, k.3, k.4, file_id])? as u64;
            }
        }
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
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
        let mut st = self.conn.prepare_cached(
            "SELECT s.code, s.name, s.name_es, s.unit, s.source,
                    (SELECT count(*) FROM observation o WHERE o.series = s.code),
                    (SELECT min(period_start) FROM observation o WHERE o.series = s.code),
                    (SELECT period FROM observation o WHERE o.series = s.code ORDER BY period_start DESC LIMIT 1),
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
    /// The body of [`Store::import_file`], inside the file's savepoint. `Ok(None)`: the file
    /// was rejected (the caller rolls the savepoint back).
    /// Adds a committed file's writes to the run's memory; its outcome.
    fn note_file_write(&mut self, w: FileWrite) -> FileOutcome {
        self.run_written.extend(w.written.into_keys());
        for (ident, l) in w.before {
            // The state before the run is the first file's "before"; now is the last file's "after".
            self.run_before.entry(ident).and_modify(|r| r.after = l.after).or_insert(l);
        }
        w.out
    }

    /// Runs `body` for one file inside a savepoint, itself inside the batch's transaction (or
    /// a transaction of its own): `Ok(Some(_))` keeps what it wrote; `Ok(None)` (a rejected
    /// file) or any error rolls back this file and nothing else.
    fn in_file_savepoint<T>(
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

    /// One file's import (see [`Store::import_file`]); `run_written`: the rows earlier files of
    /// this import wrote. Returns the outcome and the rows this file wrote (id -> transactions).
    fn import_file_body(
        &self,
        file: &FileRecord,
        items: &mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
        run_written: &std::collections::HashSet<i64>,
    ) -> Result<Option<FileWrite>, StoreError> {
        let tx = &self.conn;
        let mut out = FileOutcome::default();
        let mut seen: Vec<i64> = Vec::new();
        // Rows written by this file's transaction: id -> transactions counted for it. A later
        // copy of the same identifier in the same file replaces it: the earlier copy is then
        // counted as superseded, not the row as created-then-updated.
        let mut written: HashMap<i64, u64> = HashMap::new();
        // Rows this version of the file has taken so far (written, or kept unchanged: id ->
        // transactions). A row of this file that no copy has taken yet comes from the file's
        // previous version, whatever its position there.
        let mut claimed: HashMap<i64, u64> = HashMap::new();
        // Identifiers this file changes, with their fingerprint before it (see `FileWrite`).
        let mut before: HashMap<u64, Ledger> = HashMap::new();
        // Rows of other files that an identical copy in this file took (only its source moved):
        // they come from this file now, but not from its previous version, so a later copy of
        // the same identifier here follows the duplicate rule against them.
        let mut taken: std::collections::HashSet<i64> = std::collections::HashSet::new();
        let mut file_activities = 0u64;
        let mut file_transactions = 0u64;
        // Whether an activity row was written or moved (see the generation at the end).
        let mut wrote = false;
        {
            let mut find = tx.prepare_cached("SELECT id, fingerprint, last_updated_utc, source_path, source_ordinal FROM activity WHERE iati_identifier = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO activity (iati_identifier, reporting_org_ref, reporting_org_name, title, status, hierarchy, humanitarian, countries, start_date, end_date, last_updated, last_updated_utc, source_path, source_ordinal, fingerprint, n_transactions, commitments_usd, disbursements_usd, expenditures_usd, synthetic, title_es)
                 VALUES (?21,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?22)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE activity SET reporting_org_ref=?2, reporting_org_name=?3, title=?4, status=?5, hierarchy=?6, humanitarian=?7, countries=?8, start_date=?9, end_date=?10, last_updated=?11, last_updated_utc=?12, source_path=?13, source_ordinal=?14, fingerprint=?15, n_transactions=?16, commitments_usd=?17, disbursements_usd=?18, expenditures_usd=?19, synthetic=?20, title_es=?22 WHERE id=?1",
            )?;
            let mut touch = tx.prepare_cached("UPDATE activity SET source_path=?2, source_ordinal=?3 WHERE id=?1")?;
            let mut del_facts = tx.prepare_cached("DELETE FROM fact WHERE activity_id = ?1")?;
            let mut del_map = tx.prepare_cached("DELETE FROM activity_mapping WHERE activity_id = ?1")?;
            let mut del_ev = tx.prepare_cached("DELETE FROM mapping_evidence WHERE activity_id = ?1")?;
            let mut del_loc = tx.prepare_cached("DELETE FROM activity_location WHERE activity_id = ?1")?;
            let mut del_res = tx.prepare_cached("DELETE FROM activity_result WHERE activity_id = ?1")?;
            let mut ins_res =
                tx.prepare_cached("INSERT INTO activity_result (activity_id, indicators) VALUES (?1, ?2)")?;
            let mut ins_loc = tx.prepare_cached(
                "INSERT INTO activity_location (activity_id, country, vocabulary, code, name) VALUES (?1,?2,?3,?4,?5)",
            )?;
            let mut ins_fact = tx.prepare_cached(
                "INSERT INTO fact (activity_id, transaction_index, transaction_type, date, currency, country, sector, implementing_org, amount) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            )?;
            let mut ins_doc = tx.prepare_cached(
                "INSERT OR REPLACE INTO activity_doc (activity_id, doc, transactions) VALUES (?1, ?2, ?3)",
            )?;
            let mut ins_map = tx.prepare_cached(
                "INSERT OR REPLACE INTO activity_mapping (activity_id, strategy, lines) VALUES (?1,?2,?3)",
            )?;
            let mut ins_ev = tx.prepare_cached(
                "INSERT OR REPLACE INTO mapping_evidence (activity_id, strategy, evidence) VALUES (?1,?2,?3)",
            )?;
            // This file's copies are recorded again as it is read.
            tx.prepare_cached("DELETE FROM activity_copy WHERE source_path = ?1")?.execute([&file.path])?;
            let mut ins_copy = tx.prepare_cached(
                "INSERT OR IGNORE INTO activity_copy (iati_identifier, source_path) VALUES (?1, ?2), (?1, ?3)",
            )?;
            // Copies that lost, by the duplicate rule, to a row of this file's previous version
            // (row id -> the best such copy, that row's fingerprint, and the other such copies
            // as (ordinal, line) for their warnings). If no copy in the new version takes that
            // row, the best of them is written into it at the end instead of the row being
            // removed; the warnings are given once the winner is known.
            let mut fallbacks: HashMap<i64, Fallback> = HashMap::new();
            let mut winner_of = tx.prepare_cached("SELECT source_path, source_ordinal FROM activity WHERE id = ?1")?;
            let mut other_copies = tx.prepare_cached(
                "SELECT source_path FROM activity_copy WHERE iati_identifier = ?1 AND source_path <> ?2 ORDER BY source_path",
            )?;
            let mut fallback_queue: Option<std::vec::IntoIter<(i64, ImportItem, String)>> = None;
            loop {
                let (item, fallback_for) = match fallback_queue.as_mut() {
                    None => match items.next() {
                        Some(Ok(i)) => {
                            file_activities += 1;
                            (i, None)
                        }
                        Some(Err(_)) => return Ok(None), // rolled back by the caller
                        None => {
                            let mut queue = Vec::new();
                            let mut ids: Vec<i64> = fallbacks.keys().copied().collect();
                            ids.sort_unstable();
                            for id in ids {
                                let Some((item, fingerprint, losers)) = fallbacks.remove(&id) else { continue };
                                let ident = item.iati_identifier();
                                if claimed.contains_key(&id) {
                                    // A later copy took the row: every kept-aside copy lost to it.
                                    let (path, ordinal): (String, i64) =
                                        winner_of.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                                    for (o, line) in std::iter::once((item.ordinal, item.offset)).chain(losers) {
                                        out.diagnostics.push(lost_diag(file, ident, o, line, &path, ordinal as u64));
                                        out.superseded += 1;
                                    }
                                } else {
                                    for (o, line) in losers {
                                        out.diagnostics.push(lost_diag(file, ident, o, line, &file.path, item.ordinal));
                                        out.superseded += 1;
                                    }
                                    queue.push((id, item, fingerprint));
                                }
                            }
                            fallback_queue = Some(queue.into_iter());
                            continue;
                        }
                    },
                    Some(q) => match q.next() {
                        Some((id, item, fingerprint)) => (item, Some((id, fingerprint))),
                        None => break,
                    },
                };
                if let Some((id, fingerprint)) = &fallback_for {
                    // The previous version's row that no copy took: this copy, the best that
                    // lost to it, takes it. Its rank is lower than the row's was, so copies in
                    // other files that lost to the row may beat it now: those files are read
                    // again (as when a copy leaves its file), and the database ends as a fresh
                    // import of the same files would.
                    for path in
                        other_copies.query_map(params![item.iati_identifier(), file.path], |r| r.get::<_, String>(0))?
                    {
                        let path = path?;
                        if !out.reread.contains(&path) {
                            out.reread.push(path);
                        }
                    }
                    seen.push(*id);
                    if *fingerprint == item.fingerprint {
                        touch.execute(params![id, file.path, item.ordinal as i64])?;
                        wrote = true;
                        claimed.insert(*id, item.transaction_count);
                        out.unchanged += 1;
                        file_transactions += item.transaction_count;
                        continue;
                    }
                }
                let ident = item.iati_identifier();
                let existing = find
                    .query_row([ident], |r| {
                        Ok(Existing {
                            id: r.get(0)?,
                            fingerprint: r.get(1)?,
                            last_updated_utc: r.get(2)?,
                            source_path: r.get(3)?,
                            source_ordinal: r.get(4)?,
                        })
                    })
                    .optional()?;
                let new_key = Rank(item.s(item.row.last_updated_utc), file.path.as_str(), item.ordinal);
                let mut write_id: Option<i64> = None;
                let mut is_update = false;
                match &existing {
                    _ if fallback_for.is_some() => {
                        write_id = fallback_for.as_ref().map(|(id, _)| *id);
                        is_update = true;
                    }
                    None => {}
                    // The row comes from this file's previous version (no copy in this run
                    // has taken it). Activities before it may have been added or removed, so
                    // its old position is no rule: a copy with the same content keeps it; one
                    // that the duplicate rule would not prefer is kept aside (see `fallbacks`);
                    // otherwise this copy replaces it in place.
                    Some(e) if e.source_path == file.path && !claimed.contains_key(&e.id) && !taken.contains(&e.id) => {
                        let old_key = Rank(e.last_updated_utc.as_str(), e.source_path.as_str(), e.source_ordinal);
                        if e.fingerprint != item.fingerprint && new_key < old_key {
                            ins_copy.execute(params![ident, file.path, e.source_path])?;
                            match fallbacks.get_mut(&e.id) {
                                Some((best, _, losers)) => {
                                    if Rank(item.s(item.row.last_updated_utc), "", item.ordinal)
                                        > Rank(best.s(best.row.last_updated_utc), "", best.ordinal)
                                    {
                                        let lost = std::mem::replace(best, item);
                                        losers.push((lost.ordinal, lost.offset));
                                    } else {
                                        losers.push((item.ordinal, item.offset));
                                    }
                                }
                                None => {
                                    fallbacks.insert(e.id, (item, e.fingerprint.clone(), Vec::new()));
                                }
                            }
                            continue;
                        }
                        seen.push(e.id);
                        if e.fingerprint == item.fingerprint {
                            if e.source_ordinal != item.ordinal {
                                touch.execute(params![e.id, file.path, item.ordinal as i64])?;
                                wrote = true;
                            }
                            claimed.insert(e.id, item.transaction_count);
                            out.unchanged += 1;
                            file_transactions += item.transaction_count;
                            continue;
                        }
                        write_id = Some(e.id);
                        is_update = true;
                    }
                    Some(e) => {
                        let old_key = Rank(e.last_updated_utc.as_str(), e.source_path.as_str(), e.source_ordinal);
                        let same_file = e.source_path == file.path;
                        if new_key > old_key {
                            if same_file {
                                seen.push(e.id);
                            }
                            out.diagnostics.push(dup_diag(file, ident, &item, e, true));
                            ins_copy.execute(params![ident, file.path, e.source_path])?;
                            if e.fingerprint == item.fingerprint {
                                // An identical copy: nothing to write but where it now comes from.
                                touch.execute(params![e.id, file.path, item.ordinal as i64])?;
                                wrote = true;
                                if !same_file {
                                    taken.insert(e.id);
                                }
                                seen.push(e.id);
                                out.superseded += 1;
                                continue;
                            }
                            // An earlier copy in this file was kept unchanged: this one replaces
                            // it (that copy is superseded, the row updated).
                            if same_file
                                && !written.contains_key(&e.id)
                                && let Some(tx) = claimed.remove(&e.id)
                            {
                                out.unchanged -= 1;
                                out.superseded += 1;
                                file_transactions -= tx;
                            }
                            write_id = Some(e.id);
                            is_update = true;
                        } else {
                            out.diagnostics.push(dup_diag(file, ident, &item, e, false));
                            ins_copy.execute(params![ident, file.path, e.source_path])?;
                            out.superseded += 1;
                            continue;
                        }
                    }
                }
                let r = &item.row;
                let p = params![
                    write_id.unwrap_or(0),
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
                    ident,
                    item.s(r.title_es),
                ];
                wrote = true;
                let after = Some((fingerprint_value(&item.fingerprint), item.transaction_count));
                match before.get_mut(&identifier_key(ident)) {
                    Some(l) => l.after = after,
                    None => {
                        // The row written is the stored activity of this identifier, if any.
                        let was = existing.as_ref().map(|e| fingerprint_value(&e.fingerprint));
                        before.insert(identifier_key(ident), Ledger { before: was, after });
                    }
                }
                let id = if let Some(id) = write_id {
                    update.execute(p)?;
                    del_facts.execute([id])?;
                    del_map.execute([id])?;
                    del_ev.execute([id])?;
                    del_loc.execute([id])?;
                    del_res.execute([id])?;
                    id
                } else {
                    insert.execute(p)?;
                    tx.last_insert_rowid()
                };
                ins_doc.execute(params![id, item.encoded.doc, item.encoded.transactions])?;
                for [country, vocabulary, code, name] in &item.locations {
                    ins_loc.execute(params![
                        id,
                        item.s(*country),
                        item.s(*vocabulary),
                        item.s(*code),
                        item.s(*name)
                    ])?;
                }
                if item.indicators > 0 {
                    ins_res.execute(params![id, item.indicators as i64])?;
                }
                seen.push(id);
                if let Some(prev_tx) = written.get(&id) {
                    out.superseded += 1;
                    out.transactions -= prev_tx;
                } else if run_written.contains(&id) {
                    // An earlier file of this import wrote the row: its copy is superseded; the
                    // database changed once (counted by that file), not twice.
                    out.superseded += 1;
                } else if is_update {
                    out.updated += 1;
                } else {
                    out.created += 1;
                }
                written.insert(id, item.transaction_count);
                claimed.insert(id, item.transaction_count);
                out.transactions += item.transaction_count;
                file_transactions += item.transaction_count;
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
                for [strategy, lines, evidence] in &item.mappings {
                    ins_map.execute(params![id, item.s(*strategy), item.s(*lines)])?;
                    ins_ev.execute(params![id, item.s(*strategy), item.s(*evidence)])?;
                }
            }
        }
        // Activities of an earlier version of this file that it no longer contains.
        {
            seen.sort_unstable();
            let mut st =
                tx.prepare_cached("SELECT id, iati_identifier, fingerprint FROM activity WHERE source_path = ?1")?;
            let ids: Vec<(i64, String, String)> =
                st.query_map([&file.path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
            let mut copies = tx.prepare_cached(
                "SELECT source_path FROM activity_copy WHERE iati_identifier = ?1 AND source_path <> ?2 ORDER BY source_path",
            )?;
            // Child rows are deleted explicitly: foreign keys are off inside an import batch.
            let mut del = Vec::new();
            for table in CHILD_TABLES {
                del.push(tx.prepare_cached(&format!("DELETE FROM {table} WHERE activity_id = ?1"))?);
            }
            del.push(tx.prepare_cached("DELETE FROM activity WHERE id = ?1")?);
            for (id, ident, fingerprint) in ids {
                if seen.binary_search(&id).is_err() {
                    for d in &mut del {
                        d.execute([id])?;
                    }
                    out.removed += 1;
                    before
                        .entry(identifier_key(&ident))
                        .and_modify(|l| l.after = None)
                        .or_insert(Ledger { before: Some(fingerprint_value(&fingerprint)), after: None });
                    // Other files held a copy: one of them is the activity now.
                    for path in copies.query_map(params![ident, file.path], |r| r.get::<_, String>(0))? {
                        let path = path?;
                        if !out.reread.contains(&path) {
                            out.reread.push(path);
                        }
                    }
                }
            }
        }
        // The files to read again are marked as never read (an empty hash matches nothing):
        // should that read fail, or the file be away for now, the next import still reads
        // them, even with the same bytes, and their copy becomes the activity then.
        {
            let mut unread = tx.prepare_cached("UPDATE source_file SET content_hash = '' WHERE path = ?1")?;
            for path in &out.reread {
                unread.execute([path])?;
            }
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO source_file (path, content_hash, size, reader_version, activities, transactions, imported_at) VALUES (?1,?2,?3,?4,?5,?6,?7)",
        )?
        .execute(params![file.path, file.content_hash, file.size as i64, file.reader_version, file_activities as i64, file_transactions as i64, now()])?;
        // Cached views depend on the activities only: a file read again without a change to
        // them (`--force`, a reader upgrade) leaves the generation, and the caches, alone.
        if wrote || out.removed > 0 {
            tx.prepare_cached(BUMP_GENERATION)?.execute([])?;
        }
        Ok(Some(FileWrite { out, written, before }))
    }

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

fn dup_diag(file: &FileRecord, ident: &str, item: &ImportItem, e: &Existing, new_wins: bool) -> Diagnostic {
    if !new_wins {
        return lost_diag(file, ident, item.ordinal, item.offset, &e.source_path, e.source_ordinal);
    }
    let msg = format!(
        "duplicate iati-identifier: also in {} (activity #{}); this one (activity #{}) wins by the rule: latest last-updated-datetime, then document order",
        e.source_path,
        e.source_ordinal + 1,
        item.ordinal + 1
    );
    dup_warning(file, ident, item.offset, msg)
}

/// The warning for a copy (`ordinal`, at `line` of `file`) that is not stored because the copy
/// at `winner_path`, activity `winner_ordinal` (0-based), wins.
fn lost_diag(
    file: &FileRecord,
    ident: &str,
    ordinal: u64,
    line: u64,
    winner_path: &str,
    winner_ordinal: u64,
) -> Diagnostic {
    let msg = format!(
        "duplicate iati-identifier: the one in {} (activity #{}) wins by the rule: latest last-updated-datetime, then document order; this one (activity #{}) is not stored",
        winner_path,
        winner_ordinal + 1,
        ordinal + 1
    );
    dup_warning(file, ident, line, msg)
}

fn dup_warning(file: &FileRecord, ident: &str, line: u64, msg: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: "duplicate-identifier".into(),
        message: msg,
        file: file.path.clone(),
        line,
        column: senda_core::diagnostic::UNRESOLVED_COLUMN,
        identifier: Some(ident.to_owned()),
        element: Some("iati-activity/iati-identifier".into()),
    }
}

/// Columns of an activity list row (see [`row_of`]).
const ROW_COLUMNS: &str = "a.iati_identifier, a.title, a.reporting_org_name, a.countries, m.lines, a.status, a.start_date, a.end_date, a.commitments_usd, a.disbursements_usd, a.expenditures_usd, a.synthetic, a.id";

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

/// The keyset list query selecting `columns`: filter, order (sort key, then identifier), cursor, limit.
fn list_sql(filter: &ActivityFilter, overrides: &HashMap<String, Override>, columns: &str) -> (String, Vec<String>) {
    let (where_sql, mut args) = activity_where(filter, overrides);
    let mut sql = format!(
        "SELECT {columns} FROM activity a LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = ?1 WHERE {where_sql}"
    );
    // Sort expression, direction, and the keyset condition "after the cursor".
    let (expr, desc, cast) = match filter.sort {
        ActivitySort::Identifier => ("", false, false),
        ActivitySort::Title => ("lower(a.title)", false, false),
        ActivitySort::StartDate => ("coalesce(a.start_date, '')", true, false),
        // Sorting only: doubles order decimals of up to 15 significant digits exactly, and
        // the money itself is never read as a double.
        ActivitySort::Disbursements => ("CAST(a.disbursements_usd AS REAL)", true, true),
        ActivitySort::Commitments => ("CAST(a.commitments_usd AS REAL)", true, true),
    };
    if let Some(c) = &filter.after {
        args.push(c.iati_identifier.clone());
        let id_arg = args.len();
        if expr.is_empty() {
            sql.push_str(&format!(" AND a.iati_identifier > ?{id_arg}"));
        } else {
            args.push(c.sort_value.clone());
            let v = if cast { format!("CAST(?{} AS REAL)", args.len()) } else { format!("?{}", args.len()) };
            let op = if desc { "<" } else { ">" };
            sql.push_str(&format!(" AND ({expr} {op} {v} OR ({expr} = {v} AND a.iati_identifier > ?{id_arg}))"));
        }
    }
    if expr.is_empty() {
        sql.push_str(" ORDER BY a.iati_identifier");
    } else {
        sql.push_str(&format!(" ORDER BY {expr} {}, a.iati_identifier", if desc { "DESC" } else { "ASC" }));
    }
    if let Some(l) = filter.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    (sql, args)
}

/// `s` matched literally by `LIKE ... ESCAPE '\'`: `%`, `_` and `\` lose their special meaning.
fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The WHERE clause (after `WHERE`) and its arguments for an activity filter; `?1` is the strategy.
fn activity_where(filter: &ActivityFilter, overrides: &HashMap<String, Override>) -> (String, Vec<String>) {
    let mut sql = String::from("1=1");
    let mut args: Vec<String> = vec![filter.strategy.clone()];
    if let Some(c) = &filter.country {
        let c = c.to_ascii_uppercase();
        if c == "REGIONAL" || c == "UNKNOWN" {
            // Attribution labels (money to no country / to an invalid code): they are in the facts.
            args.push(c);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND f.country = ?{})",
                args.len()
            ));
        } else {
            args.push(format!("%;{c};%"));
            sql.push_str(&format!(" AND a.countries LIKE ?{}", args.len()));
        }
    }
    if let Some(o) = &filter.reporting_org {
        args.push(o.clone());
        let n = args.len();
        args.push(format!("%{}%", like_literal(&o.to_lowercase())));
        sql.push_str(&format!(
            " AND (a.reporting_org_ref = ?{n} OR lower(a.reporting_org_name) LIKE ?{} ESCAPE '\\')",
            n + 1
        ));
    }
    if let Some(t) = &filter.text {
        args.push(format!("%{}%", like_literal(&t.to_lowercase())));
        sql.push_str(&format!(
            " AND (lower(a.title) LIKE ?{0} ESCAPE '\\' OR lower(a.title_es) LIKE ?{0} ESCAPE '\\' OR lower(a.iati_identifier) LIKE ?{0} ESCAPE '\\')",
            args.len()
        ));
    }
    if let Some(s) = &filter.status {
        args.push(s.clone());
        sql.push_str(&format!(" AND a.status = ?{}", args.len()));
    }
    if let Some(o) = &filter.implementing_org {
        args.push(o.to_lowercase());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND lower(f.implementing_org) = ?{})",
            args.len()
        ));
    }
    if let Some((from, to)) = filter.fiscal_years {
        // U.S. fiscal year N runs from 1 October of N-1 to 30 September of N.
        args.push(format!("{:04}-10-01", from - 1));
        args.push(format!("{to:04}-09-30"));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND f.transaction_type IN ('2','3','4') AND f.date >= ?{} AND f.date <= ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(l) = &filter.line_of_effort {
        // Overrides decide for their activities; the rules' rows decide for the others.
        let not_mapped = l.eq_ignore_ascii_case(NOT_MAPPED);
        let matches = |lines: &[String]| {
            if not_mapped { lines.is_empty() } else { lines.iter().any(|x| x.eq_ignore_ascii_case(l)) }
        };
        let all: Vec<&str> = overrides.keys().map(String::as_str).collect();
        let hit: Vec<&str> =
            overrides.iter().filter(|(_, o)| matches(&o.lines_of_effort)).map(|(k, _)| k.as_str()).collect();
        let rule = if not_mapped {
            "coalesce(m.lines, '') = ''".to_owned()
        } else {
            args.push(format!("%;{};%", l.to_ascii_uppercase()));
            format!("(';' || coalesce(m.lines, '') || ';') LIKE ?{}", args.len())
        };
        if all.is_empty() {
            sql.push_str(&format!(" AND {rule}"));
        } else {
            args.push(serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()));
            let all_arg = args.len();
            args.push(serde_json::to_string(&hit).unwrap_or_else(|_| "[]".into()));
            sql.push_str(&format!(
                " AND ((a.iati_identifier NOT IN (SELECT value FROM json_each(?{all_arg})) AND {rule}) OR a.iati_identifier IN (SELECT value FROM json_each(?{})))",
                args.len()
            ));
        }
    }
    (sql, args)
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
    fn copies_are_ranked_by_instant_then_path_then_position() {
        use std::cmp::Ordering::*;
        assert_eq!(utc_cmp("2023-06-01T12:00:00.9Z", "2023-06-01T12:00:00Z"), Greater);
        assert_eq!(utc_cmp("2023-06-01T12:00:00.5Z", "2023-06-01T12:00:00.50Z"), Equal);
        assert_eq!(utc_cmp("2023-06-01T12:00:00.05Z", "2023-06-01T12:00:00.5Z"), Less);
        assert_eq!(utc_cmp("2023-06-01T11:59:59.999Z", "2023-06-01T12:00:00Z"), Less);
        assert_eq!(utc_cmp("", "0001-01-01T00:00:00Z"), Less, "a missing date ranks first");
        assert!(Rank("2023-01-01T00:00:00Z", "b.xml", 0) > Rank("2023-01-01T00:00:00Z", "a.xml", 5));
        assert!(Rank("2023-01-01T00:00:00Z", "a.xml", 1) > Rank("2023-01-01T00:00:00Z", "a.xml", 0));
    }

    #[test]
    fn an_older_database_keeps_its_overrides_and_gains_their_history() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("v4.db");
        {
            // A database as version 4 left it, with one override.
            let conn = Connection::open(&path).expect("open");
            for sql in &MIGRATIONS[..4] {
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

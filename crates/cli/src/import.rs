//! `senda import`: finds files; worker threads (one per core) hash each file, skip it when
//! unchanged, else read, encode, attribute and map its activities; this thread writes them in
//! sorted file order (one savepoint per file, commits in batches of about 32 MB of input) and
//! builds the import report. See ARCHITECTURE.md, "Walkthrough: one import".
//!
//! Order: files are sorted by canonical path before anything is read, so the database never
//! depends on the order of paths on the command line; "document order" between files is that
//! sorted order.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use senda_core::mapping::MapperSet;
use senda_core::{Diagnostic, Severity, Strategy};
use senda_iati::{ParsedActivity, open_file, resolve_positions};
use senda_store::{FileAbort, FileRecord, ImportItem, ItemParts, Store};
use serde::Serialize;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// How much work may wait between the workers and the writer. [`Limits::default`] is what
/// `senda import` uses; tests use small limits to exercise back-pressure.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Worker threads (default: one per core, at most 4).
    pub workers: usize,
    /// How many files the workers may start ahead of the file being written (default 64).
    pub lookahead: usize,
    /// How many prepared activities of the files *after* the one being written may wait for
    /// the writer, over all files (default 4,096: a few KB each, transactions already freed).
    /// The file being written may queue up to as many again of its own (plus one message of 32
    /// per worker): its worker never waits for activities of later files
    /// to be written (that wait could never end).
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4),
            lookahead: 64,
            max_in_flight: 4096,
        }
    }
}

/// Back-pressure between the workers and the writer: prepared activities not yet written, the
/// file being written, and whether the writer has stopped.
struct Gate {
    in_flight: AtomicUsize,
    /// Index (in sorted order) of the file the writer is writing or waiting for.
    writing: AtomicUsize,
    stopped: AtomicBool,
    max_in_flight: usize,
    workers: usize,
}

impl Gate {
    /// Waits until `n` activities of file `file` may be queued and counts them; false when the
    /// writer stopped.
    ///
    /// A worker of a later file waits while `max_in_flight` activities are queued. The worker
    /// of the file being written waits only past twice that plus one batch
    /// ([`ITEMS_PER_MESSAGE`]) per worker: later files hold at most `max_in_flight` plus one
    /// batch per worker (each batch was let in below the bound), so past it the writer has
    /// activities of this very file to take, and always makes progress. (A single bound for all
    /// files deadlocked: a later file could fill it while the writer waited for the file whose
    /// worker was held.)
    fn enter(&self, file: usize, n: usize) -> bool {
        loop {
            if self.stopped.load(Ordering::Acquire) {
                return false;
            }
            let queued = self.in_flight.load(Ordering::Acquire);
            let limit = if self.writing.load(Ordering::Acquire) == file {
                2 * self.max_in_flight + self.workers * ITEMS_PER_MESSAGE
            } else {
                self.max_in_flight
            };
            if queued < limit {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        self.in_flight.fetch_add(n, Ordering::AcqRel);
        true
    }

    /// The writer took `n` activities.
    fn leave(&self, n: usize) {
        self.in_flight.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Prepared activities a worker sends to the writer in one message (fewer messages: each one
/// may wake the writer, a system call and a context switch).
const ITEMS_PER_MESSAGE: usize = 32;

/// Sets the flag when dropped (tells workers that the writer has stopped).
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Input bytes per database commit (see `Store::begin_import_batch`): large enough that commits
/// cost little, small enough that a crash loses little work.
const BATCH_BYTES: u64 = 32 * 1000 * 1000;

/// Namespace of Senda's own extension attributes (e.g. `senda:synthetic="1"` on demo data).
pub const SENDA_NS: &str = "https://senda.example.org/ns/1";

/// What happened to one file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read and stored.
    Imported,
    /// Same bytes as last time: not read again.
    Unchanged,
    /// Same bytes as last time but for the values of `generated-datetime` and
    /// `last-updated-datetime` (a file regenerated by its publisher): only the stored timestamps
    /// moved; its activities count as unchanged.
    Restamped,
    /// Rejected: nothing of it is stored.
    Rejected,
    /// Imported before from under a folder given to `import --prune`, and no longer found
    /// there: the activities stored from it were deleted (`removed`).
    Removed,
}

/// Per-file line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path as found.
    pub path: String,
    /// Outcome.
    pub status: FileStatus,
    /// Size in bytes.
    pub bytes: u64,
    /// Activities created.
    pub created: u64,
    /// Activities updated.
    pub updated: u64,
    /// Activities unchanged.
    pub unchanged: u64,
    /// Activities rejected.
    pub rejected: u64,
    /// Duplicates not stored (another copy wins).
    pub superseded: u64,
    /// Activities gone from the file since the last import, deleted.
    pub removed: u64,
    /// Transactions stored.
    pub transactions: u64,
    /// The fatal error, when rejected.
    pub error: Option<String>,
}

impl FileReport {
    /// A report line with every count at zero.
    fn new(path: String, status: FileStatus, bytes: u64) -> Self {
        Self {
            path,
            status,
            bytes,
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            superseded: 0,
            removed: 0,
            transactions: 0,
            error: None,
        }
    }
}

/// The import report (printed and stored with the run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Files found.
    pub files: u64,
    /// Files read and stored.
    pub files_imported: u64,
    /// Files skipped as unchanged (those only restamped included).
    pub files_unchanged: u64,
    /// Of those, files whose only change was their timestamps (see [`FileStatus::Restamped`]).
    pub files_restamped: u64,
    /// Files rejected.
    pub files_rejected: u64,
    /// Files forgotten by `--prune` (gone from the folders given; not counted in `files`).
    pub files_removed: u64,
    /// Activities created / updated / unchanged / rejected / superseded / removed.
    pub created: u64,
    /// See `created`.
    pub updated: u64,
    /// See `created`.
    pub unchanged: u64,
    /// See `created`.
    pub rejected: u64,
    /// See `created`.
    pub superseded: u64,
    /// See `created`.
    pub removed: u64,
    /// Transactions stored in this run, net: those of a copy that a later file of the run
    /// replaced are not counted.
    pub transactions: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Warnings.
    pub warnings: u64,
    /// Errors (element-level and fatal).
    pub errors: u64,
    /// Per file.
    pub file_reports: Vec<FileReport>,
    /// Every diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    /// Run id in the database.
    pub run_id: i64,
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// `*.xml` files (and files named explicitly), canonical and sorted.
    pub files: Vec<PathBuf>,
    /// Folders that could not be listed (permission denied, removed meanwhile...), with the
    /// reason: each is reported as a rejected entry of the run, and the files found elsewhere
    /// still import.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Paths given that do not exist: each is a rejected entry of the run (when something else
    /// was found; when nothing was, [`discover`] fails).
    pub missing: Vec<PathBuf>,
}

/// Finds `*.xml` files under the given paths (recursively), canonical and sorted. A path given
/// explicitly is taken whatever its extension. A folder that cannot be listed does not stop
/// the search: it is returned in [`Discovered::unreadable`]; a path that does not exist, in
/// [`Discovered::missing`]. Errors: no path given exists, or nothing found at all (no file, and
/// no unreadable folder to report).
pub fn discover(paths: &[PathBuf]) -> Result<Discovered> {
    discover_files(paths, false)
}

/// [`discover`]; `allow_none`: finding no file at all is no error (`--prune` of an emptied
/// folder).
fn discover_files(paths: &[PathBuf], allow_none: bool) -> Result<Discovered> {
    let mut found = Discovered::default();
    // Folders already walked (canonical), so that symbolic-link loops end.
    let mut seen: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    fn walk(dir: &Path, found: &mut Discovered, seen: &mut std::collections::HashSet<PathBuf>) {
        let listed = std::fs::canonicalize(dir)
            .and_then(|canon| if seen.insert(canon) { std::fs::read_dir(dir).map(Some) } else { Ok(None) })
            .and_then(|entries| entries.map(|e| e.collect::<Result<Vec<_>, _>>()).transpose());
        let mut entries = match listed {
            Ok(Some(entries)) => entries,
            Ok(None) => return,
            Err(e) => {
                found.unreadable.push((dir.to_path_buf(), e.to_string()));
                return;
            }
        };
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, found, seen);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
                found.files.push(p);
            }
        }
    }
    for p in paths {
        if p.is_dir() {
            walk(p, &mut found, &mut seen);
        } else if p.exists() {
            found.files.push(p.clone());
        } else {
            found.missing.push(p.clone());
        }
    }
    // Nothing given exists: a mistyped command, said at once. Otherwise a missing path is a
    // rejected entry of the run and the files that exist import.
    if found.files.is_empty() && found.unreadable.is_empty() && !found.missing.is_empty() {
        let missing: Vec<String> = found.missing.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!("{}: no such file or folder (or it cannot be read)", missing.join(", "));
    }
    if found.files.is_empty() && !allow_none {
        let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        match found.unreadable.first() {
            Some((dir, e)) => anyhow::bail!("cannot read folder {}: {e}", dir.display()),
            None => anyhow::bail!("no IATI files (*.xml) found in {}", given.join(", ")),
        }
    }
    // Canonical paths, except for a link to something that is not a regular file (a device,
    // FIFO or socket): it keeps the name found in the folder, so its rejection names it.
    let mut canon: Vec<PathBuf> = std::mem::take(&mut found.files)
        .into_iter()
        .map(|p| match std::fs::canonicalize(&p) {
            Ok(c) if std::fs::metadata(&c).is_ok_and(|m| m.is_file()) => c,
            Ok(c) => std::path::absolute(&p).unwrap_or(c),
            Err(_) => p,
        })
        .collect();
    canon.sort();
    canon.dedup();
    found.files = canon;
    found.unreadable.sort();
    Ok(found)
}

/// The report entries of folders that could not be listed: rejected, with an `io` error.
fn unreadable_folders(unreadable: &[(PathBuf, String)]) -> ImportReport {
    let mut r = ImportReport::default();
    for (dir, e) in unreadable {
        r.reject_unread(dir.display().to_string(), format!("cannot read folder: {e}; the files in it were not read"));
    }
    r
}

/// The file's content hash (xxh3-128, hex), size and stable digest (`senda_iati::stamps`,
/// computed in the same pass); `buf` is the worker's read buffer, reused from file to file
/// (most files are small: a fresh zeroed buffer each time cost more than the hashing).
fn hash_file(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<Hashes> {
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut stable = senda_iati::stamps::StableHasher::new();
    if buf.len() < 256 * 1024 {
        buf.resize(256 * 1024, 0);
    }
    let mut n = 0u64;
    loop {
        let k = f.read(buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
        stable.update(&buf[..k]);
    }
    Ok(Hashes { hash: senda_iati::content_hash_hex(&h), size: n, stable: stable.finish() })
}

/// What [`hash_file`] found.
struct Hashes {
    hash: String,
    size: u64,
    stable: Option<senda_iati::stamps::StableDigest>,
}

/// What to do with a known file, given its bytes' hashes: skip it (same bytes), move its
/// timestamps (same bytes but for them), or read it.
fn compare(display: &str, known: &Known, h: Hashes) -> Msg {
    if known.reader_version != senda_iati::READER_VERSION {
        return Msg::Start;
    }
    if h.hash == known.content_hash {
        return Msg::Unchanged { size: h.size };
    }
    let Some(d) = h.stable.filter(|d| known.stable_hash.as_deref() == Some(d.hash.as_str())) else {
        return Msg::Start;
    };
    let mut generated = String::new();
    let generated = match d.stamps.generated.as_deref() {
        Some(g) if senda_core::codes::normalise_datetime_into(g, &mut generated) => Some(generated),
        // Unparsable: the reader warns about it; read in full.
        Some(_) => return Msg::Start,
        None => None,
    };
    Msg::Restamp(Box::new(senda_store::rules::restamp::Restamp {
        path: display.to_owned(),
        content_hash: h.hash,
        size: h.size,
        stable_hash: d.hash,
        generated_datetime: generated,
        last_updated: d.stamps.activities,
    }))
}

/// Runs `f` (the reading of file `display`); a panic becomes a fatal diagnostic for that file
/// instead of ending the worker thread, whose file the writer would then wait for forever.
fn guarded(display: &str, f: impl FnOnce()) -> Option<Diagnostic> {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).err()?;
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    Some(Diagnostic {
        severity: Severity::Fatal,
        code: "internal".into(),
        message: format!("internal error while reading this file (a bug in Senda: please report it): {what}"),
        file: display.to_owned(),
        line: 0,
        column: 0,
        identifier: None,
        element: None,
    })
}

/// One file to import: where it is, how the report names it, what the database knows of it
/// (content hash, reader version and activities of its last import; `None` with `--force`
/// or when new) and its size on disk (for the progress bar).
/// A file's record from its last import.
struct Known {
    content_hash: String,
    reader_version: u32,
    activities: u64,
    stable_hash: Option<String>,
}

/// What a worker read of a whole file: its content hash and size, its
/// `iati-activities/@generated-datetime` (UTC RFC 3339) when it gives one, and its stable hash
/// (`senda_iati::stamps`) when the scan could follow it.
struct Content {
    hash: String,
    size: u64,
    generated: Option<String>,
    stable: Option<String>,
}

struct Job {
    path: PathBuf,
    display: String,
    /// What the database knows of the file (`None` with `--force` or for a new file).
    known: Option<Known>,
    size: u64,
    /// False for a device, FIFO or socket (rejected unread).
    regular: bool,
}

/// How far ahead of the file a worker starts the kernel reads files (bytes, files).
const PREFETCH_BYTES: u64 = 16 * 1000 * 1000;
const PREFETCH_FILES: usize = 32;

/// Asks the kernel to start reading job `from` and the jobs after it (up to [`PREFETCH_BYTES`]
/// or [`PREFETCH_FILES`]) into its page cache, each job once (`advised`: jobs before it are
/// done). The reads run in the background, so a worker seldom waits for the disk when it opens
/// the next file: on a cold cache (or when the system dropped some cached pages) a worker was
/// blocked on reads for 6-7 % of its time. A hint only: errors are ignored.
fn prefetch(jobs: &[Job], advised: &AtomicUsize, from: usize) {
    let window = prefetch_window(jobs.iter().map(|j| j.size), advised, from);
    for j in jobs.get(window).unwrap_or_default() {
        if j.regular {
            // At most the first PREFETCH_BYTES of each file: a file of several GB is read
            // ahead like the others, then by the kernel's own read-ahead as it is parsed.
            will_need(&j.path, j.size.min(PREFETCH_BYTES));
        }
    }
}

/// The jobs [`prefetch`] hints from job `from`, given every job's size: from `from` on, as
/// many as fit in [`PREFETCH_BYTES`] and [`PREFETCH_FILES`] (at least `from` itself), minus
/// those an earlier call hinted already (`advised`, the end of the furthest window so far,
/// which this call moves on).
fn prefetch_window(sizes: impl Iterator<Item = u64>, advised: &AtomicUsize, from: usize) -> std::ops::Range<usize> {
    let mut end = from;
    let mut bytes = 0u64;
    for size in sizes.skip(from) {
        if end > from && (bytes >= PREFETCH_BYTES || end - from >= PREFETCH_FILES) {
            break;
        }
        bytes += size;
        end += 1;
    }
    let start = advised.fetch_max(end, Ordering::Relaxed).max(from);
    start..end.max(start)
}

/// `posix_fadvise(WILLNEED)` over the first `len` bytes of the file (Linux); nothing elsewhere.
#[cfg(target_os = "linux")]
fn will_need(path: &Path, len: u64) {
    let Some(len) = std::num::NonZeroU64::new(len) else { return };
    if let Ok(f) = std::fs::File::open(path)
        && let Err(e) = rustix::fs::fadvise(&f, 0, Some(len), rustix::fs::Advice::WillNeed)
    {
        tracing::debug!(path = %path.display(), error = %e, "read-ahead hint refused");
    }
}

#[cfg(not(target_os = "linux"))]
fn will_need(_path: &Path, _len: u64) {}

/// One activity as prepared by a worker: `None` when the reader rejected it; its diagnostics.
type Prepared = (Option<ImportItem>, Vec<Diagnostic>);

/// What a worker sends for one file: first `Start` (then its activities and `End`),
/// `Unchanged` or `Unreadable`.
enum Msg {
    /// The file is read next (its content hash and size come with `End`).
    Start,
    /// Same bytes and reader version as last time: not read.
    Unchanged { size: u64 },
    /// Same bytes but for the timestamps (same stable hash and reader version): not read
    /// unless the store finds the shortcut does not apply ([`Store::restamp_file`]).
    Restamp(Box<senda_store::rules::restamp::Restamp>),
    /// The file could not be read (I/O error text).
    Unreadable(String),
    /// Prepared activities (`None`: rejected by the reader) and their diagnostics, in document
    /// order (at most [`ITEMS_PER_MESSAGE`]).
    Items(Vec<Prepared>),
    End {
        diagnostics: Vec<Diagnostic>,
        fatal: Option<Diagnostic>,
        /// What was read, when the whole file was.
        content: Option<Box<Content>>,
        /// Activities not read (inside another element under the root): counted rejected.
        not_read: u64,
    },
}

/// Prepares one parsed activity for the store (worker thread): its stored encoding and
/// fingerprint, attributed facts, the mapping of every built-in strategy, and the row values
/// the writer binds ([`ImportItem::new`]). The parsed activity is freed here, on the thread
/// that made it. `None` when the reader rejected the activity.
pub fn prepare(p: ParsedActivity, mappers: &MapperSet) -> (Option<ImportItem>, Vec<Diagnostic>) {
    let Some(a) = p.activity else { return (None, p.diagnostics) };
    let Ok(encoded) = senda_store::codec::encode(&a) else {
        return (None, p.diagnostics);
    };
    let fingerprint = format!("{:032x}", encoded.fingerprint);
    let facts = senda_core::attribution::compact_fact_refs(&a);
    let mappings = mappers.map_all(&a);
    let synthetic = a
        .extensions
        .iter()
        .any(|e| e.namespace.as_deref() == Some(SENDA_NS) && e.name.ends_with("synthetic") && e.value == "1");
    let parts = ItemParts {
        ordinal: p.ordinal,
        offset: p.offset,
        fingerprint,
        encoded,
        facts: &facts,
        mappings: &mappings,
        synthetic,
    };
    (Some(ImportItem::new(&a, parts)), p.diagnostics)
}

fn parse_file(index: usize, path: &Path, display: &str, tx: &mpsc::Sender<Msg>, mappers: &MapperSet, gate: &Gate) {
    let mut reader = match open_file(path, display) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Msg::End {
                diagnostics: vec![],
                fatal: Some(e.to_diagnostic(display)),
                content: None,
                not_read: 0,
            });
            return;
        }
    };
    let mut batch: Vec<Prepared> = Vec::with_capacity(ITEMS_PER_MESSAGE);
    // Sends the activities prepared so far; false when the writer stopped.
    let flush = |batch: &mut Vec<Prepared>| {
        batch.is_empty()
            || (gate.enter(index, batch.len())
                && tx.send(Msg::Items(std::mem::replace(batch, Vec::with_capacity(ITEMS_PER_MESSAGE)))).is_ok())
    };
    loop {
        match reader.next_activity() {
            Ok(Some(p)) => {
                batch.push(prepare(p, mappers));
                if batch.len() >= ITEMS_PER_MESSAGE && !flush(&mut batch) {
                    return;
                }
            }
            Ok(None) => {
                if !flush(&mut batch) {
                    return;
                }
                let _ = tx.send(Msg::End {
                    diagnostics: std::mem::take(&mut reader.file_diagnostics),
                    fatal: None,
                    content: reader.content_hash().map(|(hash, size)| {
                        Box::new(Content {
                            hash,
                            size,
                            generated: reader.generated_datetime().map(str::to_owned),
                            stable: reader.stable_digest().map(|d| d.hash),
                        })
                    }),
                    not_read: reader.activities_not_read,
                });
                return;
            }
            Err(e) => {
                // The activities read before the error are sent first: the writer rolls the
                // whole file back, but counts them (as it did one by one).
                if !flush(&mut batch) {
                    return;
                }
                let _ = tx.send(Msg::End {
                    diagnostics: std::mem::take(&mut reader.file_diagnostics),
                    fatal: Some(e.to_diagnostic(display)),
                    content: None,
                    not_read: reader.activities_not_read,
                });
                return;
            }
        }
    }
}

/// Runs an import of `paths` into `store`. Never stops at a bad file: it is rejected and the
/// others import.
pub fn import(store: &mut dyn Store, paths: &[PathBuf], force: bool, progress: bool) -> Result<ImportReport> {
    import_with(store, paths, force, progress, Limits::default())
}

/// [`import`] with explicit queue [`Limits`].
pub fn import_with(
    store: &mut dyn Store,
    paths: &[PathBuf],
    force: bool,
    progress: bool,
    limits: Limits,
) -> Result<ImportReport> {
    run_import(store, paths, force, progress, false, limits)
}

/// [`import`], then `--prune`: every file imported before from under one of the folders in
/// `paths` that no longer exists (deleted, moved or renamed) is forgotten, and the activities
/// stored from it are deleted (a copy of one of them in another file then becomes the
/// activity). Files under a folder that could not be listed are kept: not finding them proves
/// nothing. Files named one by one prune nothing.
/// A folder with no file left is no error here: all of its files are forgotten.
pub fn import_and_prune(store: &mut dyn Store, paths: &[PathBuf], force: bool, progress: bool) -> Result<ImportReport> {
    run_import(store, paths, force, progress, true, Limits::default())
}

fn run_import(
    store: &mut dyn Store,
    paths: &[PathBuf],
    force: bool,
    progress: bool,
    prune: bool,
    limits: Limits,
) -> Result<ImportReport> {
    let started = Instant::now();
    let started_at = now();
    let strategies = Strategy::all_builtin()?;
    let mappers = MapperSet::new(&strategies);
    let mut found = discover_files(paths, prune)?;
    // A spreadsheet or CSV named on the command line is not IATI XML: say what imports it.
    let (tables, files): (Vec<PathBuf>, Vec<PathBuf>) = found.files.drain(..).partition(|p| is_table_file(p));
    found.files = files;
    store.begin_import_run();
    let present: std::collections::HashSet<String> = found.files.iter().map(|p| p.display().to_string()).collect();
    let (mut report, mut reread) = if found.files.is_empty() {
        (ImportReport::default(), Vec::new())
    } else {
        import_files(store, found.files, force, progress, limits, &mappers)?
    };
    if !found.unreadable.is_empty() {
        merge_reports(&mut report, unreadable_folders(&found.unreadable));
    }
    if !tables.is_empty() {
        let mut r = ImportReport::default();
        for p in &tables {
            r.reject_with(
                p.display().to_string(),
                "not-iati",
                "a spreadsheet or CSV file, not IATI XML: statistics are imported with `senda stats import FILE`, \
                 indicator results with `senda results import FILE`"
                    .into(),
            );
        }
        merge_reports(&mut report, r);
    }
    if !found.missing.is_empty() {
        let mut r = ImportReport::default();
        for p in &found.missing {
            r.reject_unread(p.display().to_string(), "no such file or folder (or it cannot be read)".into());
        }
        merge_reports(&mut report, r);
    }
    if prune {
        let folders: Vec<PathBuf> =
            paths.iter().filter(|p| p.is_dir()).filter_map(|p| std::fs::canonicalize(p).ok()).collect();
        let unlisted: Vec<PathBuf> =
            found.unreadable.iter().map(|(d, _)| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())).collect();
        let mut pruned = ImportReport::default();
        for path in store.imported_files()? {
            let p = Path::new(&path);
            if present.contains(&path)
                || p.exists()
                || !folders.iter().any(|f| p.starts_with(f))
                || unlisted.iter().any(|u| p.starts_with(u))
            {
                continue;
            }
            let o = store.remove_file(&path)?;
            tracing::info!(file = %path, removed = o.removed, "pruned: gone from its folder");
            reread.extend(o.reread);
            pruned
                .file_reports
                .push(FileReport { removed: o.removed, ..FileReport::new(path, FileStatus::Removed, 0) });
        }
        if !pruned.file_reports.is_empty() {
            merge_reports(&mut report, pruned);
        }
    }
    // An activity left the file its stored copy came from while other files hold copies of
    // it: those files are read again (even if unchanged, even if not named in this run), so
    // that one of their copies becomes the activity. Each file at most once per run.
    let mut done: Vec<String> = Vec::new();
    while !reread.is_empty() {
        let mut again: Vec<PathBuf> = Vec::new();
        for p in reread.iter().filter(|p| !done.contains(p)) {
            if Path::new(p).is_file() {
                again.push(PathBuf::from(p));
            } else {
                // Its copy cannot take over now; the store marked the file as never read, so
                // the next import that finds it reads it (same bytes or not).
                report.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "copy-unavailable".into(),
                    message: "holds another copy of an activity whose stored copy left its file, but it is not there now; the copy is read when the file is imported again".into(),
                    file: p.clone(),
                    line: 0,
                    column: 0,
                    identifier: None,
                    element: None,
                });
            }
        }
        done.append(&mut reread);
        if again.is_empty() {
            break;
        }
        tracing::info!(files = again.len(), "reading again the files that hold another copy of a removed activity");
        let (second, more) = import_files(store, again, true, false, limits, &mappers)?;
        merge_reports(&mut report, second);
        reread = more;
    }
    // The run's totals are the database's net change, identifier by identifier (a file's own
    // figures say what that file did: an activity removed with one file and made again from
    // another file's copy is one update, or nothing, for the run).
    let net = store.end_import_run()?;
    // The fact segments the run made stale are rebuilt once, at its end (servers read them).
    let t = std::time::Instant::now();
    let segments = store.refresh_fact_segments()?;
    tracing::info!(segments, seconds = t.elapsed().as_secs_f64(), "fact segments rebuilt");
    report.created = net.created;
    report.updated = net.updated;
    report.removed = net.removed;
    report.transactions = net.transactions;
    report.warnings = report.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count() as u64;
    report.errors = report.diagnostics.iter().filter(|d| d.severity != Severity::Warning).count() as u64;
    report.seconds = started.elapsed().as_secs_f64();
    let mut json = serde_json::to_value(&report)?;
    if let Some(o) = json.as_object_mut() {
        o.remove("diagnostics");
    }
    report.run_id = store.save_run(&started_at, &now(), &json, &report.diagnostics, &crate::accounts::cli_actor())?;
    Ok(report)
}

impl ImportReport {
    /// Records `path` (a file or folder) as rejected without anything of it read: a per-file
    /// entry and a fatal `io` diagnostic (no line or column) carrying `message`.
    fn reject_unread(&mut self, path: String, message: String) {
        self.reject_with(path, "io", message);
    }

    /// Records `path` as rejected without anything of it read, with a fatal diagnostic `code`.
    fn reject_with(&mut self, path: String, code: &str, message: String) {
        let d = Diagnostic {
            severity: Severity::Fatal,
            code: code.into(),
            message,
            file: path.clone(),
            line: 0,
            column: 0,
            identifier: None,
            element: None,
        };
        self.file_reports
            .push(FileReport { error: Some(d.to_string()), ..FileReport::new(path, FileStatus::Rejected, 0) });
        self.diagnostics.push(d);
        self.files_rejected += 1;
    }
}

/// Adds a second pass over some files to a run's report: their entries and diagnostics from
/// the first pass are replaced, and the totals, sums over the per-file entries, are counted
/// again.
fn merge_reports(report: &mut ImportReport, second: ImportReport) {
    for fr in &second.file_reports {
        report.file_reports.retain(|f| f.path != fr.path);
        report.diagnostics.retain(|d| d.file != fr.path);
    }
    report.file_reports.extend(second.file_reports);
    report.file_reports.sort_by(|a, b| a.path.cmp(&b.path));
    report.diagnostics.extend(second.diagnostics);
    let files = &report.file_reports;
    let sum = |f: fn(&FileReport) -> u64| files.iter().map(f).sum::<u64>();
    let with = |s: FileStatus| files.iter().filter(|f| f.status == s).count() as u64;
    let totals = ImportReport {
        files: files.len() as u64 - with(FileStatus::Removed),
        files_imported: with(FileStatus::Imported),
        files_unchanged: with(FileStatus::Unchanged) + with(FileStatus::Restamped),
        files_restamped: with(FileStatus::Restamped),
        files_rejected: with(FileStatus::Rejected),
        files_removed: with(FileStatus::Removed),
        created: sum(|f| f.created),
        updated: sum(|f| f.updated),
        unchanged: sum(|f| f.unchanged),
        rejected: sum(|f| f.rejected),
        superseded: sum(|f| f.superseded),
        removed: sum(|f| f.removed),
        transactions: sum(|f| f.transactions),
        bytes: sum(|f| f.bytes),
        file_reports: std::mem::take(&mut report.file_reports),
        diagnostics: std::mem::take(&mut report.diagnostics),
        ..Default::default()
    };
    *report = totals;
}

/// Imports `files` (canonical, sorted): the workers and the writer. Returns the report (not
/// saved) and the files to read again (see [`FileOutcome::reread`](senda_store::FileOutcome)).
fn import_files(
    store: &mut dyn Store,
    files: Vec<PathBuf>,
    force: bool,
    progress: bool,
    limits: Limits,
    mappers: &MapperSet,
) -> Result<(ImportReport, Vec<String>)> {
    let mut report = ImportReport { files: files.len() as u64, ..Default::default() };
    let mut reread: Vec<String> = Vec::new();

    // 1. What the database knows of each file (its content hash, to skip unchanged files).
    //    Hashing happens on the worker threads, in parallel with the writing.
    let mut jobs: Vec<Job> = Vec::with_capacity(files.len());
    for p in &files {
        let display = p.display().to_string();
        let known = if force {
            None
        } else {
            store.file_state(&display)?.map(|s| Known {
                content_hash: s.content_hash,
                reader_version: s.reader_version,
                activities: s.activities,
                stable_hash: s.stable_hash,
            })
        };
        let meta = std::fs::metadata(p);
        let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
        // A device, FIFO or socket named *.xml is never opened: reading one may never end.
        let regular = meta.map(|m| m.is_file()).unwrap_or(true);
        jobs.push(Job { path: p.clone(), display, known, size, regular });
    }

    // 2. Parse on helper threads, write here.
    let total_bytes: u64 = jobs.iter().map(|j| j.size).sum();
    let bar = if progress && std::io::stderr().is_terminal() && !jobs.is_empty() {
        let b = ProgressBar::new(total_bytes);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    // Files are hashed, read, encoded, attributed and mapped by `workers` threads, each taking
    // the next file as soon as it is free (files of very different sizes keep every core busy),
    // at most `limits.lookahead` files ahead of the writer; each file has its own channel and the writer
    // (this thread) takes them in sorted file order, so the database never depends on the
    // thread timing.
    let workers = limits.workers.max(1).min(jobs.len().max(1));
    let mut senders = Vec::with_capacity(jobs.len());
    let mut receivers = Vec::with_capacity(jobs.len());
    for _ in &jobs {
        // Unbounded: the gate bounds what waits in all of them together, so a worker is never
        // held back by one file's share while the writer is busy with an earlier file.
        let (tx, rx) = mpsc::channel::<Msg>();
        senders.push(tx);
        receivers.push(rx);
    }
    let next_job = AtomicUsize::new(0);
    // Files before this index have been announced to the kernel (see `prefetch`).
    let advised = AtomicUsize::new(0);
    let gate = Gate {
        in_flight: AtomicUsize::new(0),
        writing: AtomicUsize::new(0),
        stopped: AtomicBool::new(false),
        max_in_flight: limits.max_in_flight.max(1),
        workers,
    };
    let mappers: &MapperSet = mappers;
    let written = std::thread::scope(|scope| -> Result<()> {
        // Owned by this closure: if writing fails, dropping them unblocks the workers, and
        // `_stop` tells workers waiting for the writer to catch up to give up.
        let receivers = receivers;
        let _stop = SetOnDrop(&gate.stopped);
        for _ in 0..workers {
            let (jobs, senders, next_job, gate, advised) = (&jobs, &senders, &next_job, &gate, &advised);
            let worker = std::thread::Builder::new().name("senda-worker".into()).spawn_scoped(scope, move || {
                let mut buf = Vec::new();
                loop {
                    let i = next_job.fetch_add(1, Ordering::Relaxed);
                    let (Some(job), Some(tx)) = (jobs.get(i), senders.get(i)) else { return };
                    prefetch(jobs, advised, i);
                    while i > gate.writing.load(Ordering::Acquire) + limits.lookahead {
                        if gate.stopped.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    // A file the database knows is hashed first: unchanged, it is not parsed.
                    // A new one is hashed while it is parsed (one read instead of two); either
                    // way the hash recorded is that of the bytes parsed.
                    let header = if !job.regular {
                        Msg::Unreadable("not a regular file (a device, FIFO or socket)".into())
                    } else if let Some(known) = &job.known {
                        match hash_file(&job.path, &mut buf) {
                            Err(e) => Msg::Unreadable(e.to_string()),
                            Ok(h) => compare(&job.display, known, h),
                        }
                    } else {
                        Msg::Start
                    };
                    let read = matches!(header, Msg::Start);
                    if tx.send(header).is_err() {
                        return;
                    }
                    if read {
                        // A bug must not leave the writer waiting for this file forever: a
                        // panic rejects the file (rolled back) and the run goes on.
                        let run = || parse_file(i, &job.path, &job.display, tx, mappers, gate);
                        if let Some(fatal) = guarded(&job.display, run)
                            && tx
                                .send(Msg::End { diagnostics: vec![], fatal: Some(fatal), content: None, not_read: 0 })
                                .is_err()
                        {
                            return;
                        }
                    }
                }
            });
            worker.context("cannot start a worker thread")?;
        }
        let mut done_bytes = 0u64;
        // Files are committed in batches of about BATCH_BYTES of input (each file still atomic
        // inside its batch: see `Store::begin_import_batch`).
        let mut batch_bytes = 0u64;
        store.begin_import_batch()?;
        for ((i, job), rx) in jobs.iter().enumerate().zip(&receivers) {
            gate.writing.store(i, Ordering::Release);
            let path = &job.path;
            let display = job.display.clone();
            // First message of each file: read or skipped. The content hash of what is read
            // comes at its end (`record_file_content`); until then the record's hash is empty,
            // which never matches (a crash in between only means the file is read again).
            let fallback: mpsc::Receiver<Msg>;
            let mut rx = rx;
            let mut first = rx.recv();
            if let Ok(Msg::Restamp(r)) = &first {
                if let Some(activities) = store.restamp_file(r)? {
                    report.files_unchanged += 1;
                    report.files_restamped += 1;
                    report.unchanged += activities;
                    report.bytes += r.size;
                    report.file_reports.push(FileReport {
                        unchanged: activities,
                        ..FileReport::new(display, FileStatus::Restamped, r.size)
                    });
                    done_bytes += job.size;
                    if let Some(b) = &bar {
                        b.set_position(done_bytes);
                    }
                    continue;
                }
                // The shortcut does not apply (copies of its identifiers, a timestamp the
                // reader would warn about): the file is read in full after all, on a thread
                // of its own (the workers have moved on).
                let (tx, own) = mpsc::channel::<Msg>();
                fallback = own;
                rx = &fallback;
                let gate = &gate;
                scope.spawn(move || {
                    let run = || parse_file(i, &job.path, &job.display, &tx, mappers, gate);
                    if let Some(fatal) = guarded(&job.display, run) {
                        let _ =
                            tx.send(Msg::End { diagnostics: vec![], fatal: Some(fatal), content: None, not_read: 0 });
                    }
                });
                first = Ok(Msg::Start);
            }
            let rec = match first {
                Ok(Msg::Start) => FileRecord {
                    path: display,
                    content_hash: String::new(),
                    size: job.size,
                    reader_version: senda_iati::READER_VERSION,
                },
                Ok(Msg::Unchanged { size }) => {
                    let activities = job.known.as_ref().map(|k| k.activities).unwrap_or(0);
                    report.files_unchanged += 1;
                    report.unchanged += activities;
                    report.bytes += size;
                    report.file_reports.push(FileReport {
                        unchanged: activities,
                        ..FileReport::new(display, FileStatus::Unchanged, size)
                    });
                    done_bytes += job.size;
                    if let Some(b) = &bar {
                        b.set_position(done_bytes);
                    }
                    continue;
                }
                other => {
                    let message = match other {
                        Ok(Msg::Unreadable(e)) => format!("cannot read: {e}"),
                        _ => "reader thread stopped".to_owned(),
                    };
                    report.reject_unread(display, message);
                    continue;
                }
            };
            let rec = &rec;
            let mut diags: Vec<Diagnostic> = Vec::new();
            let mut rejected = 0u64;
            let mut fatal: Option<Diagnostic> = None;
            let mut activities_seen = 0u64;
            let mut content: Option<Box<Content>> = None;
            let mut pending: std::vec::IntoIter<Prepared> = Vec::new().into_iter();
            let mut iter = std::iter::from_fn(|| {
                loop {
                    if let Some(p) = pending.next() {
                        match p {
                            (Some(item), d) => {
                                diags.extend(d);
                                activities_seen += 1;
                                return Some(Ok(item));
                            }
                            (None, d) => {
                                diags.extend(d);
                                rejected += 1;
                            }
                        }
                        continue;
                    }
                    match rx.recv() {
                        Ok(Msg::Items(items)) => {
                            gate.leave(items.len());
                            pending = items.into_iter();
                        }
                        Ok(Msg::End { diagnostics, fatal: f, content: c, not_read: n }) => {
                            diags.extend(diagnostics);
                            content = c;
                            rejected += n;
                            if let Some(f) = f {
                                fatal = Some(f.clone());
                                return Some(Err(FileAbort(f)));
                            }
                            return None;
                        }
                        // A header of the next file before this one ended, or no more messages:
                        // the worker stopped (never happens unless it panicked).
                        Ok(Msg::Start | Msg::Unchanged { .. } | Msg::Restamp(_) | Msg::Unreadable(_)) | Err(_) => {
                            let d = Diagnostic {
                                severity: Severity::Fatal,
                                code: "internal".into(),
                                message: "reader thread stopped".into(),
                                file: rec.path.clone(),
                                line: 0,
                                column: 0,
                                identifier: None,
                                element: None,
                            };
                            fatal = Some(d.clone());
                            return Some(Err(FileAbort(d)));
                        }
                    }
                }
            });
            let outcome = store.import_file(rec, &mut iter)?;
            // The iterator borrows `diags` and counters: end its borrow here.
            let _ = &mut iter;
            // The size imported is what was read (the file may have changed since it was listed).
            let size = content.as_ref().map(|c| c.size).unwrap_or(rec.size);
            if outcome.is_some() {
                match content.as_deref() {
                    Some(c) => store.record_file_content(
                        &rec.path,
                        &senda_store::FileContent {
                            content_hash: &c.hash,
                            size: c.size,
                            generated_datetime: c.generated.as_deref(),
                            stable_hash: c.stable.as_deref(),
                        },
                    )?,
                    // Never happens: a file imports only once read to its end. Without a hash
                    // it is read again next time.
                    None => tracing::warn!(file = %rec.path, "no content hash for an imported file"),
                }
            }
            if let Some(f) = fatal.take() {
                diags.push(f);
            }
            let mut fr = FileReport {
                path: rec.path.clone(),
                status: FileStatus::Imported,
                bytes: size,
                created: 0,
                updated: 0,
                unchanged: 0,
                rejected,
                superseded: 0,
                removed: 0,
                transactions: 0,
                error: None,
            };
            match outcome {
                Some(o) => {
                    fr.created = o.created;
                    fr.updated = o.updated;
                    fr.unchanged = o.unchanged;
                    fr.superseded = o.superseded;
                    fr.removed = o.removed;
                    fr.transactions = o.transactions;
                    diags.extend(o.diagnostics);
                    reread.extend(o.reread);
                    report.files_imported += 1;
                }
                None => {
                    fr.status = FileStatus::Rejected;
                    fr.rejected = rejected + activities_seen;
                    fr.error = diags.iter().find(|d| d.severity == Severity::Fatal).map(|d| d.to_string());
                    report.files_rejected += 1;
                }
            }
            if !diags.is_empty() {
                resolve_positions(path, &mut diags);
                if fr.status == FileStatus::Rejected {
                    fr.error = diags.iter().find(|d| d.severity == Severity::Fatal).map(|d| d.to_string());
                }
            }
            report.created += fr.created;
            report.updated += fr.updated;
            report.unchanged += fr.unchanged;
            report.rejected += fr.rejected;
            report.superseded += fr.superseded;
            report.removed += fr.removed;
            report.transactions += fr.transactions;
            report.bytes += size;
            done_bytes += job.size;
            if let Some(b) = &bar {
                b.set_position(done_bytes);
                b.set_message(format!(
                    "files {}/{} activities {}",
                    i + 1,
                    jobs.len(),
                    report.created + report.updated + report.unchanged
                ));
            } else {
                tracing::info!(file = %rec.path, status = ?fr.status, created = fr.created, updated = fr.updated, unchanged = fr.unchanged, rejected = fr.rejected, "file {}/{}", i + 1, jobs.len());
            }
            report.file_reports.push(fr);
            report.diagnostics.extend(diags);
            batch_bytes += size;
            if batch_bytes >= BATCH_BYTES {
                store.end_import_batch()?;
                store.begin_import_batch()?;
                batch_bytes = 0;
            }
        }
        Ok(())
    });
    // The files of the open batch are complete (a failing file was rolled back alone): keep
    // them even when the run stops on an error.
    let ended = store.finish_import_batches();
    written?;
    ended?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report.file_reports.sort_by(|a, b| a.path.cmp(&b.path));
    report.warnings = report.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count() as u64;
    report.errors = report.diagnostics.iter().filter(|d| d.severity != Severity::Warning).count() as u64;
    Ok((report, reread))
}

/// A spreadsheet or delimited-text file (by its extension, in any case).
fn is_table_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["csv", "tsv", "xlsx", "xls", "xlsm", "ods"].iter().any(|t| e.eq_ignore_ascii_case(t)))
}

/// Current time, RFC 3339 UTC.
pub fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_hints_each_file_once_within_its_window() {
        let mb = 1000 * 1000;
        let advised = AtomicUsize::new(0);
        // Small files: 32 at a time; the next call hints only the files after those.
        let small = vec![1000u64; 100];
        assert_eq!(prefetch_window(small.iter().copied(), &advised, 0), 0..32);
        assert_eq!(prefetch_window(small.iter().copied(), &advised, 1), 32..33);
        assert_eq!(prefetch_window(small.iter().copied(), &advised, 10), 33..42);
        // A file already hinted is not hinted again, even when a worker starts there.
        assert_eq!(prefetch_window(small.iter().copied(), &advised, 20), 42..52);
        // Large files: up to 16 MB ahead, but always the file about to be read.
        let advised = AtomicUsize::new(0);
        let large = [10 * mb, 10 * mb, 10 * mb, 40 * mb, 1];
        assert_eq!(prefetch_window(large.iter().copied(), &advised, 0), 0..2);
        assert_eq!(prefetch_window(large.iter().copied(), &advised, 3), 3..4);
        assert_eq!(prefetch_window(large.iter().copied(), &advised, 4), 4..5);
        // Past the end: nothing.
        assert_eq!(prefetch_window(large.iter().copied(), &advised, 5), 5..5);
    }

    #[test]
    fn a_panic_while_reading_a_file_becomes_that_files_fatal_error() {
        assert!(guarded("ok.xml", || {}).is_none());
        let d = guarded("bad.xml", || panic!("attempt to add with overflow")).expect("a diagnostic");
        assert_eq!((d.severity, d.code.as_str(), d.file.as_str()), (Severity::Fatal, "internal", "bad.xml"));
        assert!(d.message.contains("attempt to add with overflow"), "{}", d.message);
        let owned = guarded("b.xml", || panic!("{} overflowed", "Addition")).expect("a diagnostic");
        assert!(owned.message.contains("Addition overflowed"), "{}", owned.message);
    }
}

//! One file's import, decided once for every backend: which copy of each identifier is
//! stored, which rows are replaced, touched, kept aside or removed, which files must be read
//! again, and the file's figures. The backend only carries out [`ImportTx`]'s primitive
//! operations, inside the file's savepoint (see `Store::import_file`).

use super::ledger::{FileWrite, Ledger, fingerprint_value, identifier_key};
use super::rank::Rank;
use crate::{FileAbort, FileRecord, ImportItem, StoreError};
use senda_core::{Diagnostic, Severity};
use std::collections::{HashMap, HashSet};

/// The stored activity of an identifier, as the duplicate rule needs it.
#[derive(Debug, Clone)]
pub struct Existing {
    /// Row id.
    pub id: i64,
    /// Fingerprint (32 hex digits).
    pub fingerprint: String,
    /// `last-updated-datetime`, normalised UTC (may be empty).
    pub last_updated_utc: String,
    /// The file it came from (canonical path).
    pub source_path: String,
    /// Its position there (0-based).
    pub source_ordinal: u64,
}

/// The primitive operations one file's import needs from a backend, all inside the file's
/// savepoint. Reads must see this file's earlier writes.
pub trait ImportTx {
    /// Says which identifiers [`ImportTx::find`] will be asked for next (the next items of the
    /// file, in order), so that a backend for which each query is a round trip can read them
    /// all at once. The default does nothing.
    fn prefetch(&mut self, idents: &[&str]) -> Result<(), StoreError> {
        let _ = idents;
        Ok(())
    }
    /// The stored activity of `ident`, if any.
    fn find(&mut self, ident: &str) -> Result<Option<Existing>, StoreError>;
    /// Inserts a new activity row for `item` from `file`; returns its id. Its child rows are
    /// written by [`ImportTx::insert_children`].
    fn insert_activity(&mut self, file: &FileRecord, item: &ImportItem) -> Result<i64, StoreError>;
    /// Replaces row `id` with `item` from `file` (same id), deleting its child rows (facts,
    /// document, mappings, evidence, locations, results).
    fn replace_activity(&mut self, id: i64, file: &FileRecord, item: &ImportItem) -> Result<(), StoreError>;
    /// Writes the child rows of `item` for row `id` (which has none).
    fn insert_children(&mut self, id: i64, item: &ImportItem) -> Result<(), StoreError>;
    /// Records that row `id`'s content now comes from `path`, position `ordinal`, and carries
    /// `item`'s `last-updated-datetime` (its content is the same, timestamps aside: the
    /// fingerprint leaves them out; nothing else changes).
    fn touch(&mut self, id: i64, path: &str, ordinal: u64, item: &ImportItem) -> Result<(), StoreError>;
    /// Where row `id` comes from: (path, position).
    fn source_of(&mut self, id: i64) -> Result<(String, u64), StoreError>;
    /// Forgets the duplicate copies recorded for `path` (they are recorded again as it is read).
    fn forget_copies(&mut self, path: &str) -> Result<(), StoreError>;
    /// Records that `ident` has copies in both `a` and `b`.
    fn record_copies(&mut self, ident: &str, a: &str, b: &str) -> Result<(), StoreError>;
    /// Files other than `path` holding a copy of `ident`, sorted.
    fn other_copies(&mut self, ident: &str, path: &str) -> Result<Vec<String>, StoreError>;
    /// The rows stored from `path`: (id, identifier, fingerprint).
    fn rows_of_file(&mut self, path: &str) -> Result<Vec<(i64, String, String)>, StoreError>;
    /// Deletes row `id` and all its child rows.
    fn delete_activity(&mut self, id: i64) -> Result<(), StoreError>;
    /// Marks `path` as never read (empty content hash), so the next import reads it.
    fn mark_unread(&mut self, path: &str) -> Result<(), StoreError>;
    /// Records (inserts or replaces) the file: hash, size, reader version, counts, time.
    fn record_file(&mut self, file: &FileRecord, activities: u64, transactions: u64) -> Result<(), StoreError>;
    /// Moves the data generation on (cached views are stale).
    fn bump_generation(&mut self) -> Result<(), StoreError>;
    /// Marks fact segments stale (their facts changed), creating their rows (see
    /// [`super::segments`]).
    fn mark_segments_stale(&mut self, segments: &[u32]) -> Result<(), StoreError>;
    /// Whether any identifier of `path` has a copy recorded (in it or in another file).
    fn has_copies(&mut self, path: &str) -> Result<bool, StoreError>;
    /// The rows stored from `path`: (id, position, `last-updated-datetime` as published).
    fn stamps_of_file(&mut self, path: &str) -> Result<Vec<(i64, u64, Option<String>)>, StoreError>;
    /// Sets rows' `last-updated-datetime` (as published, and normalised UTC) and nothing else.
    fn set_last_updated(&mut self, rows: &[super::restamp::NewStamp]) -> Result<(), StoreError>;
}

/// A copy kept aside during a file's import (see `fallbacks`): the best copy that lost to a
/// row of the file's previous version, that row's fingerprint, and the other copies that lost
/// as (ordinal, line).
type Fallback = (ImportItem, String, Vec<(u64, u64)>);

/// Items read ahead of the rules, for [`ImportTx::prefetch`]: at most this many...
const READ_AHEAD_ITEMS: usize = 256;
/// ...and at most this many bytes of encoded activities (one activity may hold hundreds of
/// thousands of transactions).
const READ_AHEAD_BYTES: usize = 16 << 20;

/// The file's items, read ahead in groups whose identifiers are announced to the backend.
/// The stream is never asked again once it ended or failed (it need not be fused: the
/// importer's waits for the next file's messages).
struct ReadAhead<'a> {
    items: &'a mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
    pending: std::collections::VecDeque<Result<ImportItem, FileAbort>>,
    done: bool,
}

impl ReadAhead<'_> {
    fn next<T: ImportTx + ?Sized>(&mut self, tx: &mut T) -> Result<Option<Result<ImportItem, FileAbort>>, StoreError> {
        if self.pending.is_empty() && !self.done {
            let mut bytes = 0usize;
            while self.pending.len() < READ_AHEAD_ITEMS && bytes < READ_AHEAD_BYTES {
                match self.items.next() {
                    None => {
                        self.done = true;
                        break;
                    }
                    Some(Err(e)) => {
                        self.pending.push_back(Err(e));
                        self.done = true;
                        break;
                    }
                    Some(Ok(i)) => {
                        bytes += i.encoded.doc.len() + i.encoded.transactions.len();
                        self.pending.push_back(Ok(i));
                    }
                }
            }
            let idents: Vec<&str> =
                self.pending.iter().filter_map(|r| r.as_ref().ok()).map(|i| i.iati_identifier()).collect();
            if !idents.is_empty() {
                tx.prefetch(&idents)?;
            }
        }
        Ok(self.pending.pop_front())
    }
}

fn push_unique(v: &mut Vec<String>, paths: Vec<String>) {
    for p in paths {
        if !v.contains(&p) {
            v.push(p);
        }
    }
}

/// One file's import (see `Store::import_file`): pulls `items` to the end and writes through
/// `tx`. `run_written`: the rows earlier files of this import wrote. `Ok(None)`: the stream
/// ended in a [`FileAbort`] (the caller rolls the file's savepoint back).
pub fn import_file<T: ImportTx + ?Sized>(
    tx: &mut T,
    file: &FileRecord,
    items: &mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
    run_written: &HashSet<i64>,
) -> Result<Option<FileWrite>, StoreError> {
    let mut out = crate::FileOutcome::default();
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
    let mut taken: HashSet<i64> = HashSet::new();
    let mut file_activities = 0u64;
    let mut file_transactions = 0u64;
    // Whether an activity row was written or moved (see the generation at the end).
    let mut wrote = false;
    tx.forget_copies(&file.path)?;
    // Copies that lost, by the duplicate rule, to a row of this file's previous version
    // (row id -> the best such copy, that row's fingerprint, and the other such copies
    // as (ordinal, line) for their warnings). If no copy in the new version takes that
    // row, the best of them is written into it at the end instead of the row being
    // removed; the warnings are given once the winner is known.
    let mut fallbacks: HashMap<i64, Fallback> = HashMap::new();
    let mut fallback_queue: Option<std::vec::IntoIter<(i64, ImportItem, String)>> = None;
    let mut items = ReadAhead { items, pending: Default::default(), done: false };
    loop {
        let (item, fallback_for) = match fallback_queue.as_mut() {
            None => match items.next(tx)? {
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
                            let (path, ordinal) = tx.source_of(id)?;
                            for (o, line) in std::iter::once((item.ordinal, item.offset)).chain(losers) {
                                out.diagnostics.push(lost_diag(file, ident, o, line, &path, ordinal));
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
            let others = tx.other_copies(item.iati_identifier(), &file.path)?;
            push_unique(&mut out.reread, others);
            seen.push(*id);
            if *fingerprint == item.fingerprint {
                tx.touch(*id, &file.path, item.ordinal, &item)?;
                wrote = true;
                claimed.insert(*id, item.transaction_count);
                out.unchanged += 1;
                file_transactions += item.transaction_count;
                continue;
            }
        }
        let ident = item.iati_identifier();
        let existing = tx.find(ident)?;
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
                    tx.record_copies(ident, &file.path, &e.source_path)?;
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
                    // The same content: only its position, or its timestamp (a file
                    // regenerated with new timestamps and nothing else), may have moved.
                    if e.source_ordinal != item.ordinal || e.last_updated_utc != item.s(item.row.last_updated_utc) {
                        tx.touch(e.id, &file.path, item.ordinal, &item)?;
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
                    tx.record_copies(ident, &file.path, &e.source_path)?;
                    if e.fingerprint == item.fingerprint {
                        // An identical copy: nothing to write but where it now comes from.
                        tx.touch(e.id, &file.path, item.ordinal, &item)?;
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
                        && let Some(n) = claimed.remove(&e.id)
                    {
                        out.unchanged -= 1;
                        out.superseded += 1;
                        file_transactions -= n;
                    }
                    write_id = Some(e.id);
                    is_update = true;
                } else {
                    out.diagnostics.push(dup_diag(file, ident, &item, e, false));
                    tx.record_copies(ident, &file.path, &e.source_path)?;
                    out.superseded += 1;
                    continue;
                }
            }
        }
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
        let id = match write_id {
            Some(id) => {
                tx.replace_activity(id, file, &item)?;
                id
            }
            None => tx.insert_activity(file, &item)?,
        };
        tx.insert_children(id, &item)?;
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
    }
    // Activities of an earlier version of this file that it no longer contains.
    seen.sort_unstable();
    let mut deleted: Vec<i64> = Vec::new();
    for (id, ident, fingerprint) in tx.rows_of_file(&file.path)? {
        if seen.binary_search(&id).is_err() {
            tx.delete_activity(id)?;
            deleted.push(id);
            out.removed += 1;
            before
                .entry(identifier_key(&ident))
                .and_modify(|l| l.after = None)
                .or_insert(Ledger { before: Some(fingerprint_value(&fingerprint)), after: None });
            // Other files held a copy: one of them is the activity now.
            let others = tx.other_copies(&ident, &file.path)?;
            push_unique(&mut out.reread, others);
        }
    }
    // The files to read again are marked as never read (an empty hash matches nothing):
    // should that read fail, or the file be away for now, the next import still reads
    // them, even with the same bytes, and their copy becomes the activity then.
    for path in &out.reread {
        tx.mark_unread(path)?;
    }
    tx.record_file(file, file_activities, file_transactions)?;
    // Cached views depend on the activities only: a file read again without a change to
    // them (`--force`, a reader upgrade) leaves the generation, and the caches, alone.
    if wrote || out.removed > 0 {
        // The facts of every row written or deleted changed: their segments are stale (rows
        // found unchanged, or only touched, keep theirs).
        let mut segments: Vec<u32> = written
            .keys()
            .chain(&deleted)
            .map(|&id| senda_core::facts::segment_of(u32::try_from(id).unwrap_or(u32::MAX)))
            .collect();
        segments.dedup();
        segments.sort_unstable();
        segments.dedup();
        tx.mark_segments_stale(&segments)?;
        tx.bump_generation()?;
    }
    Ok(Some(FileWrite { out, written, before }))
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

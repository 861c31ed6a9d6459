//! The run's ledger: what an import run changed in net, identifier by identifier, whatever
//! path the changes took (a row removed with its file and made again from another file's copy
//! is one update, or nothing when the content is the same). Kept by the backend between
//! `Store::begin_import_run` and `Store::end_import_run`, fed by each committed file.

use crate::{FileOutcome, NetChange};
use std::collections::{HashMap, HashSet};

/// An identifier's stored activity before a file (or run) changed it and after: fingerprint
/// (`None`: not stored) and, after, its transactions.
#[derive(Debug, Clone, Copy)]
pub struct Ledger {
    /// Fingerprint before (see [`fingerprint_value`]).
    pub before: Option<u64>,
    /// Fingerprint and transactions after.
    pub after: Option<(u64, u64)>,
}

/// Rows a file's import wrote: row id -> the transactions counted for it.
pub type RowsWritten = HashMap<i64, u64>;

/// What one file's import wrote (see [`crate::rules::import::import_file`]).
#[derive(Debug, Default)]
pub struct FileWrite {
    /// The file's figures.
    pub out: FileOutcome,
    /// Rows written: row id -> the transactions counted for it.
    pub written: RowsWritten,
    /// Identifiers changed (by [`identifier_key`]), with their state before this file and after.
    pub before: HashMap<u64, Ledger>,
}

/// A stored fingerprint (32 hex digits) as a number: its low 64 bits, enough to tell a changed
/// activity from the same one (kept for a whole run: a 1 GB import changes 128,000 of them).
pub fn fingerprint_value(hex: &str) -> u64 {
    u128::from_str_radix(hex, 16).unwrap_or(0) as u64
}

/// An identifier as the run's ledger keys it: its xxh3-64 (two of a run's identifiers sharing
/// one would merge their counts; with 64 bits, about one chance in 10^9 for a million).
pub fn identifier_key(ident: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(ident.as_bytes())
}

/// A run's memory, held by the backend: the rows its files wrote (so that a copy in a later
/// file replacing one an earlier file wrote counts, in that file's figures, as superseding it
/// rather than as an update) and each changed identifier's state before the run and now.
#[derive(Debug, Default)]
pub struct RunMemory {
    /// Rows written by the files of the import under way.
    pub written: HashSet<i64>,
    /// Each identifier a file of the run changed, with its state before the run and now.
    pub before: HashMap<u64, Ledger>,
}

impl RunMemory {
    /// Forgets everything (a run begins).
    pub fn clear(&mut self) {
        self.written.clear();
        self.before.clear();
    }

    /// Adds a committed file's writes to the run's memory; returns its outcome.
    pub fn note(&mut self, w: FileWrite) -> FileOutcome {
        self.written.extend(w.written.into_keys());
        for (ident, l) in w.before {
            // The state before the run is the first file's "before"; now is the last file's "after".
            self.before.entry(ident).and_modify(|r| r.after = l.after).or_insert(l);
        }
        w.out
    }

    /// The run's net change (and forgets the ledger).
    pub fn net_change(&mut self) -> NetChange {
        let mut net = NetChange::default();
        for l in std::mem::take(&mut self.before).into_values() {
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
        net
    }
}

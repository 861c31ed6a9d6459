//! A file whose bytes changed only in its timestamps (issue 20 item 12), decided once for
//! every backend: when nothing else changed, only the stored `last-updated-datetime` of its
//! activities and the file's record move; no activity, fact, mapping or segment row is
//! rewritten, and the generation moves only if a stored timestamp did (the activity page shows
//! it). The importer knows "nothing else changed" from the file's stable hash (the bytes
//! without those values, `senda_iati::stamps`) equal to the one recorded.
//!
//! The shortcut is taken only when it gives the database a full read would give. A file with
//! duplicate identifiers (copies in it or in another file: `activity_copy`) is read in full,
//! because a new timestamp can change which copy wins; so is a file whose new timestamps the
//! reader would warn about (not ISO 8601), or whose stored positions do not fit its timestamps.

use super::import::ImportTx;
use crate::StoreError;

/// What the importer learnt from a file's bytes without reading its activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restamp {
    /// Canonical path (the file's key).
    pub path: String,
    /// Content hash of the new bytes.
    pub content_hash: String,
    /// Their size.
    pub size: u64,
    /// Their stable hash (equal to the recorded one).
    pub stable_hash: String,
    /// `iati-activities/@generated-datetime`, normalised to UTC RFC 3339.
    pub generated_datetime: Option<String>,
    /// `@last-updated-datetime` of each `iati-activity` as published, by position in the file.
    pub last_updated: Vec<Option<String>>,
}

/// A stored activity's new `last-updated-datetime`: (row id, as published, normalised UTC;
/// empty when none).
pub type NewStamp = (i64, Option<String>, String);

/// Moves the stored timestamps of `r`'s file; `Ok(None)`: the shortcut does not apply (the
/// caller reads the file in full; nothing was written). `Ok(Some(n))`: `n` activities, all
/// unchanged.
pub fn restamp<T: ImportTx + ?Sized>(tx: &mut T, r: &Restamp) -> Result<Option<u64>, StoreError> {
    if tx.has_copies(&r.path)? {
        return Ok(None);
    }
    let rows = tx.stamps_of_file(&r.path)?;
    let mut moved: Vec<NewStamp> = Vec::new();
    for (id, ordinal, old) in &rows {
        let Some(new) = usize::try_from(*ordinal).ok().and_then(|o| r.last_updated.get(o)) else {
            return Ok(None);
        };
        // As the reader stores it: trimmed.
        let new = new.as_deref().map(str::trim);
        if new == old.as_deref() {
            continue;
        }
        let mut utc = String::new();
        if let Some(n) = new
            && !senda_core::codes::normalise_datetime_into(n, &mut utc)
        {
            // The reader warns about it: read in full, so the warning is given.
            return Ok(None);
        }
        moved.push((*id, new.map(str::to_owned), utc));
    }
    if !moved.is_empty() {
        tx.set_last_updated(&moved)?;
        tx.bump_generation()?;
    }
    Ok(Some(rows.len() as u64))
}

//! How an activity is stored: its document (everything but transactions) and its transactions,
//! each encoded with postcard (compact, field order instead of names) and compressed with LZ4.
//! Repeated strings (namespace URIs, organisation names, sector names) compress well: the
//! stored form is several times smaller than JSON, which matters for import speed.

use crate::StoreError;
use senda_core::{Activity, Transaction};

/// An activity encoded for storage.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The activity without transactions (postcard, then LZ4 with size prefix).
    pub doc: Vec<u8>,
    /// Its transactions (postcard, then LZ4 with size prefix).
    pub transactions: Vec<u8>,
}

fn corrupt(record: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { record: record.to_owned(), message: e.to_string() }
}

/// Encodes an activity. Errors only if a value cannot be serialised (never for valid activities).
pub fn encode(a: &Activity) -> Result<Encoded, StoreError> {
    let id = a.iati_identifier.as_str();
    Ok(Encoded { doc: pack(a, id)?, transactions: pack(&a.transactions, id)? })
}

thread_local! {
    /// The postcard form before compression, reused from one activity to the next (no growing
    /// of a fresh buffer for every activity).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// postcard, then LZ4 with size prefix (the same bytes as `compress_prepend_size(to_stdvec(v))`).
fn pack<T: serde::Serialize + ?Sized>(v: &T, id: &str) -> Result<Vec<u8>, StoreError> {
    SCRATCH.with_borrow_mut(|buf| {
        let mut b = std::mem::take(buf);
        b.clear();
        let b = postcard::to_extend(v, b).map_err(|e| corrupt(id, e))?;
        let out = lz4_flex::compress_prepend_size(&b);
        *buf = b;
        Ok(out)
    })
}

/// Decodes an activity stored by [`encode`]; `record` names it in errors.
pub fn decode(record: &str, doc: &[u8], transactions: &[u8]) -> Result<Activity, StoreError> {
    let d = lz4_flex::decompress_size_prepended(doc).map_err(|e| corrupt(record, e))?;
    let mut a: Activity = postcard::from_bytes(&d).map_err(|e| corrupt(record, e))?;
    let t = lz4_flex::decompress_size_prepended(transactions).map_err(|e| corrupt(record, e))?;
    let tx: Vec<Transaction> = postcard::from_bytes(&t).map_err(|e| corrupt(record, e))?;
    a.transactions = tx;
    Ok(a)
}

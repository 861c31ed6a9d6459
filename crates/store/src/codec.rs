//! How an activity is stored: its document (everything but transactions) and its transactions,
//! each encoded with postcard (compact, field order instead of names) and compressed with LZ4.
//! Repeated strings (namespace URIs, organisation names, sector names) compress well: the
//! stored form is several times smaller than JSON, which matters for import speed.

use crate::StoreError;
use lz4_flex::block::{CompressTable, compress_into_with_table, get_maximum_output_size};
use senda_core::{Activity, Transaction};

/// An activity encoded for storage.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The activity without transactions (postcard, then LZ4 with size prefix).
    pub doc: Vec<u8>,
    /// Its transactions (postcard, then LZ4 with size prefix).
    pub transactions: Vec<u8>,
    /// xxh3-128 of the two postcard forms before compression (doc, a 0 byte, transactions):
    /// equal fingerprints mean an unchanged activity, whatever the compressor's version.
    pub fingerprint: u128,
}

fn corrupt(record: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { record: record.to_owned(), message: e.to_string() }
}

/// Encodes an activity. Errors only if a value cannot be serialised (never for valid activities).
/// The document leaves `last-updated-datetime` out (it is the row's `last_updated`; readers
/// that show it set it from there).
pub fn encode(a: &Activity) -> Result<Encoded, StoreError> {
    let id = a.iati_identifier.as_str();
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    // The fingerprint leaves `last-updated-datetime` out: a file regenerated with new
    // timestamps and nothing else leaves its activities unchanged (only the stored timestamp
    // moves). Postcard writes fields in order, so the timestamp's bytes follow those of the
    // four fields before it.
    let before = postcard::to_stdvec(&(&a.iati_identifier, &a.iati_version, &a.default_language, &a.default_currency))
        .map_err(|e| corrupt(id, e))?;
    let stamp = postcard::to_stdvec(&a.last_updated).map_err(|e| corrupt(id, e))?;
    let doc = pack_skipping(a, id, &mut h, Some((&before, &stamp)))?;
    h.update(&[0]);
    let transactions = pack(&a.transactions, id, &mut h)?;
    Ok(Encoded { doc, transactions, fingerprint: h.digest128() })
}

/// What [`pack`] reuses from one activity to the next on a thread.
struct Scratch {
    /// The postcard form before compression.
    postcard: Vec<u8>,
    /// The compressed form, at its largest size so far.
    out: Vec<u8>,
    /// LZ4's hash tables (inputs under and over 64 KB): allocating and zeroing a fresh one for
    /// every value measured about 6 % of an import's instructions.
    small: CompressTable,
    large: CompressTable,
}

/// Largest scratch buffer [`pack`] keeps between values (bytes).
const KEEP_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

/// postcard (hashed into `h`), then LZ4 with size prefix: the same format as
/// `lz4_flex::compress_prepend_size(postcard::to_stdvec(v))` (a little-endian `u32`
/// uncompressed size, then an LZ4 block), read by [`decode`].
fn pack<T: serde::Serialize + ?Sized>(v: &T, id: &str, h: &mut xxhash_rust::xxh3::Xxh3) -> Result<Vec<u8>, StoreError> {
    pack_skipping(v, id, h, None)
}

/// [`pack`], leaving out of the hash the bytes `skip.1` when they follow `skip.0` at the start
/// of the postcard form (else everything is hashed).
fn pack_skipping<T: serde::Serialize + ?Sized>(
    v: &T,
    id: &str,
    h: &mut xxhash_rust::xxh3::Xxh3,
    skip: Option<(&[u8], &[u8])>,
) -> Result<Vec<u8>, StoreError> {
    SCRATCH.with_borrow_mut(|slot| {
        let s = slot.get_or_insert_with(|| Scratch {
            postcard: Vec::new(),
            out: Vec::new(),
            small: CompressTable::small(),
            large: CompressTable::large(),
        });
        let mut b = std::mem::take(&mut s.postcard);
        b.clear();
        let mut b = postcard::to_extend(v, b).map_err(|e| corrupt(id, e))?;
        match skip {
            Some((before, left_out)) if b.starts_with(before) && b[before.len()..].starts_with(left_out) => {
                h.update(before);
                h.update(&b[before.len() + left_out.len()..]);
                // Nor is it stored: the activity's row holds it (`activity.last_updated`), and a
                // file regenerated with new timestamps moves only that (see
                // `rules::restamp`). Postcard's `None` is one 0 byte.
                if left_out != [0] {
                    b.splice(before.len()..before.len() + left_out.len(), [0u8]);
                }
            }
            _ => h.update(&b),
        }
        let size = u32::try_from(b.len()).map_err(|_| corrupt(id, "value larger than 4 GB"))?;
        let max = 4 + get_maximum_output_size(b.len());
        if s.out.len() < max {
            s.out.resize(max, 0);
        }
        s.out[..4].copy_from_slice(&size.to_le_bytes());
        let table = if b.len() < usize::from(u16::MAX) { &mut s.small } else { &mut s.large };
        let n = compress_into_with_table(&b, &mut s.out[4..max], table).map_err(|e| corrupt(id, e))?;
        let packed = s.out[..4 + n].to_vec();
        // Kept for the next value unless it is exceptional (an activity with hundreds of
        // thousands of transactions): its buffers are freed, not held for the rest of the run.
        if b.capacity() <= KEEP_BYTES {
            s.postcard = b;
        }
        if s.out.len() > KEEP_BYTES {
            s.out = Vec::new();
        }
        Ok(packed)
    })
}

/// Decodes the activity stored by [`encode`] without its transactions (`activity_doc.doc`
/// only: what names the activity's organisations, places and texts); `record` names it in
/// errors.
pub fn decode_doc(record: &str, doc: &[u8]) -> Result<Activity, StoreError> {
    let d = lz4_flex::decompress_size_prepended(doc).map_err(|e| corrupt(record, e))?;
    postcard::from_bytes(&d).map_err(|e| corrupt(record, e))
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

/// Format of a stored fact segment (first byte of [`encode_segment`]'s output).
const SEGMENT_FORMAT: u8 = 3;

/// Encodes a fact segment for `fact_segment.data`: a format byte, then postcard.
pub fn encode_segment(s: &senda_core::facts::FactSegment) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![SEGMENT_FORMAT];
    postcard::to_io(s, &mut out).map_err(|e| corrupt("fact segment", e))?;
    Ok(out)
}

/// Decodes what [`encode_segment`] wrote, and checks it (a damaged value is an error, never a
/// panic later).
pub fn decode_segment(bytes: &[u8]) -> Result<senda_core::facts::FactSegment, String> {
    match bytes.split_first() {
        Some((&SEGMENT_FORMAT, rest)) => {
            let s: senda_core::facts::FactSegment = postcard::from_bytes(rest).map_err(|e| e.to_string())?;
            s.validate()?;
            Ok(s)
        }
        Some((f, _)) => Err(format!("unknown segment format {f}")),
        None => Err("empty segment".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use senda_core::codes::IatiIdentifier;
    use senda_core::{Narrative, Transaction};

    fn activity(id: &str, description: &str, transactions: usize) -> Activity {
        let mut a = Activity::new(IatiIdentifier::parse(id).expect("identifier"));
        a.title.push(Narrative { lang: Some("en".into()), text: "Reintegration of returned migrants".into() });
        a.transactions = (0..transactions)
            .map(|i| Transaction {
                r#ref: Some(format!("tx-{i}").as_str().into()),
                transaction_type: "3".into(),
                date: None,
                value: None,
                description: [Narrative { lang: None, text: description.into() }].into(),
                provider_org: None,
                receiver_org: None,
                recipient_countries: vec![],
                recipient_regions: vec![],
                invalid_country: false,
                sectors: vec![],
                aid_types: vec![],
                humanitarian: None,
            })
            .collect();
        a
    }

    #[test]
    fn values_under_and_over_64_kb_round_trip_in_any_order_with_the_reused_tables() {
        // Small, large (over 64 KB of transactions: LZ4's 32-bit table), then small again: each
        // decodes to what was encoded, in the documented format (size prefix, LZ4 block).
        let small = activity("XM-TEST-1", "Disbursement for shelters", 3);
        let large = activity("XM-TEST-2", "A long description repeated in every transaction", 4000);
        for a in [&small, &large, &small] {
            let e = encode(a).expect("encode");
            let b = decode("test", &e.doc, &e.transactions).expect("decode");
            assert_eq!(&b, a);
            let raw = lz4_flex::decompress_size_prepended(&e.transactions).expect("LZ4 with size prefix");
            assert_eq!(raw, postcard::to_stdvec(&a.transactions).expect("postcard"));
        }
        assert!(encode(&large).expect("encode").transactions.len() > 4, "compressed");
    }

    #[test]
    fn the_fingerprint_changes_with_the_activity_and_only_with_it() {
        let a = activity("XM-TEST-1", "Disbursement for shelters", 3);
        let same = encode(&a).expect("encode").fingerprint;
        assert_eq!(encode(&a).expect("encode").fingerprint, same);
        let b = activity("XM-TEST-1", "Disbursement for shelters.", 3);
        assert_ne!(encode(&b).expect("encode").fingerprint, same);
        // A transaction moved into the activity's part would not be the same activity.
        let c = activity("XM-TEST-1", "Disbursement for shelters", 2);
        assert_ne!(encode(&c).expect("encode").fingerprint, same);
    }

    #[test]
    fn the_fingerprint_leaves_the_last_updated_timestamp_out_and_nothing_else() {
        let mut a = activity("XM-TEST-1", "Disbursement for shelters", 1);
        a.last_updated = Some("2024-01-01T00:00:00Z".into());
        let f = encode(&a).expect("encode").fingerprint;
        a.last_updated = Some("2026-12-07T06:00:00Z".into());
        assert_eq!(encode(&a).expect("encode").fingerprint, f, "a new timestamp alone: the same activity");
        a.last_updated = None;
        assert_eq!(encode(&a).expect("encode").fingerprint, f, "no timestamp: the same activity");
        a.default_language = Some("es".into());
        assert_ne!(encode(&a).expect("encode").fingerprint, f, "a field before the timestamp counts");
        let mut b = activity("XM-TEST-1", "Disbursement for shelters", 1);
        b.hierarchy = Some(2);
        assert_ne!(encode(&b).expect("encode").fingerprint, f, "a field after it counts");
    }

    #[test]
    fn a_segment_round_trips_and_damaged_bytes_are_an_error_not_a_panic() {
        let mut b = senda_core::facts::SegmentBuilder::new();
        for (i, amount) in ["100.50", "-3", "0.001"].iter().enumerate() {
            b.push(senda_core::report::FactRef {
                activity: 3 + i as u32,
                transaction_type: "3",
                date: senda_core::codes::parse_iso_date("2023-11-15").ok(),
                currency: "USD",
                country: "GT",
                sector: "15190",
                implementing_org: "IOM",
                amount: amount.parse().expect("amount"),
            });
        }
        let seg = b.finish();
        let bytes = encode_segment(&seg).expect("encode");
        let back = decode_segment(&bytes).expect("decode");
        assert_eq!(format!("{back:?}"), format!("{seg:?}"));
        assert!(decode_segment(&[]).is_err_and(|e| e.contains("empty")));
        assert!(decode_segment(&[9, 1, 2]).is_err_and(|e| e.contains("format 9")));
        // Every truncation and every single-byte change: an error or a valid segment, never a panic.
        for n in 0..bytes.len() {
            let _ = decode_segment(&bytes[..n]);
            for x in [0u8, 0x7f, 0xff] {
                let mut d = bytes.clone();
                d[n] = x;
                if let Ok(s) = decode_segment(&d) {
                    let mut k = 0;
                    s.for_each(|_| k += 1);
                    assert_eq!(k, s.len());
                }
            }
        }
    }
}

//! Fact segments (`fact_segment`), kept at write time for every backend: which segments a
//! write makes stale, how a stale segment is rebuilt from `fact`, and how a reader loads the
//! whole table of facts from the segments, reusing what it already holds.
//!
//! The rule: every write that adds or deletes facts of an activity marks that activity's
//! segment stale, in the same transaction ([`ImportTx::mark_segments_stale`](super::import::ImportTx)).
//! A stale segment's stored value is never read: readers build it from `fact`. So a segment a
//! reader decodes always equals the facts, whether or not [`refresh`] has run since.

use crate::codec::{decode_segment, encode_segment};
use crate::{SegmentState, Store, StoreError};
use senda_core::facts::{FactSegment, FactTable, SEGMENT_SPAN, SegmentBuilder};
use senda_core::report::FactRef;
use std::collections::HashMap;
use std::sync::Arc;

/// The activity ids of segment `s`: `lo..hi`.
pub fn id_range(s: u32) -> (u32, u32) {
    (s.saturating_mul(SEGMENT_SPAN), s.saturating_add(1).saturating_mul(SEGMENT_SPAN))
}

/// What [`refresh`] needs from a backend, inside one write transaction.
pub trait SegmentTx {
    /// The stale segments, ascending.
    fn stale_segments(&mut self) -> Result<Vec<u32>, StoreError>;
    /// Every fact of activities `lo..hi`, by activity.
    fn facts_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError>;
    /// The reporting organisation of every activity `lo..hi`.
    fn orgs_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError>;
    /// Stores segment `s` (not stale, version moved on).
    fn put_segment(&mut self, s: u32, facts: u64, bytes: &[u8]) -> Result<(), StoreError>;
}

/// Builds a segment from what `read` gives: the facts, then the organisations.
pub fn build(
    read: impl FnOnce(&mut dyn FnMut(FactRef<'_>), &mut dyn FnMut(u32, &str)) -> Result<(), StoreError>,
) -> Result<FactSegment, StoreError> {
    let b = std::cell::RefCell::new(SegmentBuilder::new());
    read(&mut |f| b.borrow_mut().push(f), &mut |id, name| b.borrow_mut().reporting_org(id, name))?;
    Ok(b.into_inner().finish())
}

/// Rewrites every stale segment from the facts; returns how many.
pub fn refresh<T: SegmentTx + ?Sized>(tx: &mut T) -> Result<u64, StoreError> {
    let stale = tx.stale_segments()?;
    for &s in &stale {
        let (lo, hi) = id_range(s);
        let seg = build(|facts, orgs| {
            tx.facts_between(lo, hi, facts)?;
            tx.orgs_between(lo, hi, orgs)
        })?;
        let bytes = encode_segment(&seg)?;
        tx.put_segment(s, seg.len() as u64, &bytes)?;
    }
    Ok(stale.len() as u64)
}

/// The facts of a store as a reader holds them: the table and what each segment was built from.
#[derive(Debug, Clone, Default)]
pub struct LoadedFacts {
    /// Every fact.
    pub table: FactTable,
    /// The data generation read.
    pub generation: i64,
    /// Segment -> (version, segment), for segments decoded from a fresh stored value (the ones
    /// a later load may reuse).
    fresh: HashMap<u32, (i64, Arc<FactSegment>)>,
    /// Segments reused from the previous load, decoded, and built from `fact` (stale).
    pub counts: (usize, usize, usize),
}

/// Loads the facts of `store` segment by segment: a fresh segment already in `previous` at the
/// same version is reused, another fresh one decoded, a stale one (or one whose stored value
/// cannot be decoded: logged) built from `fact`. Writes that commit while it loads are detected
/// by the data generation, and the load is repeated (at most three times; the last load is
/// kept, and the generation it reports is the one read first, so that the next request sees
/// a newer one and loads again).
pub fn load(store: &dyn Store, previous: Option<&LoadedFacts>) -> Result<LoadedFacts, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let generation = store.generation()?;
        let states = store.fact_segment_states()?;
        let out = load_states(store, previous, &states, generation)?;
        if attempt >= 3 || store.generation()? == generation {
            return Ok(out);
        }
    }
}

/// A stored value decoded on the decoding thread: its position in the states, and the segment.
type Decoded = (usize, Result<FactSegment, String>);

fn load_states(
    store: &dyn Store,
    previous: Option<&LoadedFacts>,
    states: &[SegmentState],
    generation: i64,
) -> Result<LoadedFacts, StoreError> {
    let mut out = LoadedFacts { generation, ..Default::default() };
    let mut segments: Vec<Option<Arc<FactSegment>>> = vec![None; states.len()];
    // Stored values are decoded on a thread of their own while the next ones are read.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(4);
    let decoded = std::thread::scope(|scope| -> Result<Vec<Decoded>, StoreError> {
        let decoder =
            scope.spawn(move || rx.into_iter().map(|(i, bytes)| (i, decode_segment(&bytes))).collect::<Vec<_>>());
        let mut sent = Ok(());
        for (i, st) in states.iter().enumerate() {
            let reuse = previous.and_then(|p| p.fresh.get(&st.segment)).filter(|(v, _)| !st.stale && *v == st.version);
            if let Some((_, seg)) = reuse {
                out.counts.0 += 1;
                out.fresh.insert(st.segment, (st.version, Arc::clone(seg)));
                segments[i] = Some(Arc::clone(seg));
            } else if !st.stale {
                match store.fact_segment_bytes(st.segment) {
                    Ok(Some(bytes)) => {
                        if tx.send((i, bytes)).is_err() {
                            break;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        sent = Err(e);
                        break;
                    }
                }
            }
        }
        drop(tx);
        let decoded = decoder.join().map_err(|_| StoreError::Corrupt {
            record: "fact segments".into(),
            message: "the decoding thread stopped".into(),
        })?;
        sent.map(|()| decoded)
    })?;
    for (i, d) in decoded {
        let st = states[i];
        match d {
            Ok(seg) => {
                out.counts.1 += 1;
                let seg = Arc::new(seg);
                out.fresh.insert(st.segment, (st.version, Arc::clone(&seg)));
                segments[i] = Some(seg);
            }
            Err(e) => tracing::warn!(segment = st.segment, error = %e, "fact segment unreadable; built from the facts"),
        }
    }
    // Stale segments, and stored values that could not be read: built from `fact`.
    for (i, st) in states.iter().enumerate() {
        if segments[i].is_none() {
            out.counts.2 += 1;
            let (lo, hi) = id_range(st.segment);
            segments[i] = Some(Arc::new(build(|facts, orgs| {
                store.for_each_fact_between(lo, hi, facts)?;
                store.for_each_activity_org_between(lo, hi, orgs)
            })?));
        }
    }
    out.table = FactTable::from_segments(segments.into_iter().flatten().filter(|s| !s.is_empty()).collect());
    Ok(out)
}

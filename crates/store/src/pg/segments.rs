//! Fact segments on PostgreSQL: the facts of a range of activities, stale marks, and the
//! refresh's primitives (`rules::segments::SegmentTx`).

use super::PgStore;
use crate::{StoreError, rules};
use senda_core::report::FactRef;

/// The facts of activities `$1..$2`, by activity.
pub(super) const FACTS_BETWEEN: &str = "SELECT activity_id, transaction_type, date, currency, country, sector, implementing_org, amount FROM fact WHERE activity_id >= $1 AND activity_id < $2 ORDER BY activity_id";

/// [`rules::segments::SegmentTx`] inside a write transaction.
pub(super) struct SegmentsTx<'s>(pub(super) &'s PgStore);

impl rules::segments::SegmentTx for SegmentsTx<'_> {
    fn stale_segments(&mut self) -> Result<Vec<u32>, StoreError> {
        Ok(self
            .0
            .query("SELECT segment FROM fact_segment WHERE stale <> 0 ORDER BY segment", &[])?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u32)
            .collect())
    }
    fn facts_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError> {
        self.0.facts_of(FACTS_BETWEEN, &[&i64::from(lo), &i64::from(hi)], f)
    }
    fn orgs_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        self.0.orgs_of(lo, hi, f)
    }
    fn put_segment(&mut self, s: u32, facts: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE fact_segment SET data = $2, facts = $3, stale = 0, version = version + 1 WHERE segment = $1",
            &[&i64::from(s), &bytes, &(facts as i64)],
        )?;
        Ok(())
    }
}

/// Marks `segments` stale (creating their rows), in the caller's transaction.
pub(crate) fn mark_segments_stale(s: &PgStore, segments: &[u32]) -> Result<(), StoreError> {
    for &seg in segments {
        s.execute(
            "INSERT INTO fact_segment (segment, version, stale, facts, data) VALUES ($1, 1, 1, 0, ''::bytea) \
             ON CONFLICT (segment) DO UPDATE SET stale = 1, version = fact_segment.version + 1",
            &[&i64::from(seg)],
        )?;
    }
    Ok(())
}

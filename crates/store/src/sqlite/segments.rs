//! Fact segments on SQLite: the facts of a range of activities, stale marks, and the refresh's
//! primitives (`rules::segments::SegmentTx`).

use crate::StoreError;
use crate::rules;
use rusqlite::params;
use rust_decimal::Decimal;
use senda_core::report::FactRef;

/// The facts of activities `?1..?2`, by activity.
pub(super) const FACTS_BETWEEN: &str = "SELECT activity_id, transaction_type, date, currency, country, sector, implementing_org, amount FROM fact WHERE activity_id >= ?1 AND activity_id < ?2 ORDER BY activity_id";

/// Streams the facts `sql` selects (activity, type, date, currency, country, sector,
/// implementing organisation, amount) to `f`.
pub(super) fn facts_of<P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    f: &mut dyn FnMut(FactRef<'_>),
) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
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

/// [`rules::segments::SegmentTx`] inside a write transaction.
pub(super) struct SegmentsTx<'c>(pub(super) &'c rusqlite::Connection);

impl rules::segments::SegmentTx for SegmentsTx<'_> {
    fn stale_segments(&mut self) -> Result<Vec<u32>, StoreError> {
        let mut st = self.0.prepare_cached("SELECT segment FROM fact_segment WHERE stale <> 0 ORDER BY segment")?;
        let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
        Ok(rows.map(|r| r.map(|s| s as u32)).collect::<Result<_, _>>()?)
    }
    fn facts_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError> {
        facts_of(self.0, FACTS_BETWEEN, [i64::from(lo), i64::from(hi)], f)
    }
    fn orgs_between(&mut self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError> {
        orgs_of(self.0, lo, hi, f)
    }
    fn put_segment(&mut self, s: u32, facts: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "UPDATE fact_segment SET data = ?2, facts = ?3, stale = 0, version = version + 1 WHERE segment = ?1",
            )?
            .execute(params![i64::from(s), bytes, facts as i64])?;
        Ok(())
    }
}

/// Marks `segments` stale (creating their rows), in the caller's transaction.
pub(crate) fn mark_segments_stale(conn: &rusqlite::Connection, segments: &[u32]) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(
        "INSERT INTO fact_segment (segment, version, stale, facts, data) VALUES (?1, 1, 1, 0, x'') \
         ON CONFLICT (segment) DO UPDATE SET stale = 1, version = fact_segment.version + 1",
    )?;
    for &s in segments {
        st.execute([i64::from(s)])?;
    }
    Ok(())
}

/// The reporting organisation of activities `lo..hi`.
pub(super) fn orgs_of(
    conn: &rusqlite::Connection,
    lo: u32,
    hi: u32,
    f: &mut dyn FnMut(u32, &str),
) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached("SELECT id, reporting_org_name FROM activity WHERE id >= ?1 AND id < ?2")?;
    let mut rows = st.query([i64::from(lo), i64::from(hi)])?;
    while let Some(r) = rows.next()? {
        f(r.get::<_, i64>(0)? as u32, r.get_ref(1)?.as_str()?);
    }
    Ok(())
}

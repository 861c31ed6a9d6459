//! How a statistics or results batch replaces stored values, decided once for every backend.
//!
//! A value's key is (series, place, period, disaggregation, kind). A file imported again
//! replaces its own earlier values: keys it no longer has are deleted; a file whose bytes are
//! unchanged writes nothing. A key already stored from another file or the API is replaced,
//! with a `value-replaced` warning naming where the old value came from. A value equal to the
//! stored one (value, denominator, definition version) is unchanged: only its origin moves.

use crate::{StoreError, ValueBatch, ValuesOutcome};
use senda_core::{Diagnostic, Severity};
use std::collections::HashSet;

/// A value's key: series, place, period, disaggregation key, kind.
pub type ValueKey = (String, String, String, String, String);

/// A stored value as the rule compares it.
#[derive(Debug, Clone)]
pub struct StoredValue {
    /// Exact decimal text (normalised).
    pub value: String,
    /// Denominator, exact decimal text.
    pub denominator: Option<String>,
    /// Indicator definition version id.
    pub definition_id: Option<i64>,
    /// The file it came from (`None`: the API).
    pub file_id: Option<i64>,
    /// `file:row` or `api`.
    pub origin: String,
}

/// One value to write.
#[derive(Debug, Clone)]
pub struct NewValue<'a> {
    /// Its key.
    pub key: &'a ValueKey,
    /// ISO 3166-1 alpha-2 of its place, or "".
    pub country: &'a str,
    /// First day of its period (ISO date).
    pub period_start: &'a str,
    /// Exact decimal text.
    pub value: &'a str,
    /// Denominator.
    pub denominator: Option<&'a str>,
    /// Definition version id.
    pub definition_id: Option<i64>,
    /// The file (`None`: API).
    pub file_id: Option<i64>,
    /// `file:row` or `api`.
    pub origin: &'a str,
}

/// The primitive operations a values batch needs, inside one transaction the backend opens
/// and commits around [`import_values`].
pub trait ValuesTx {
    /// The file's id and content hash, if imported before.
    fn find_file(&mut self, dataset: &str, path: &str) -> Result<Option<(i64, String)>, StoreError>;
    /// How many values the file holds.
    fn count_file_values(&mut self, file_id: i64) -> Result<u64, StoreError>;
    /// The keys of the file's values.
    fn file_keys(&mut self, file_id: i64) -> Result<Vec<ValueKey>, StoreError>;
    /// Records a new import of a known file.
    fn update_file(&mut self, file_id: i64, batch: &ValueBatch, now: &str, report: &str) -> Result<(), StoreError>;
    /// Records a new file; its id.
    fn insert_file(&mut self, path: &str, batch: &ValueBatch, now: &str, report: &str) -> Result<i64, StoreError>;
    /// Inserts or updates a statistic series' definition.
    fn upsert_series(&mut self, s: &senda_core::StatSeries) -> Result<(), StoreError>;
    /// The stored value of `key`.
    fn find_value(&mut self, key: &ValueKey) -> Result<Option<StoredValue>, StoreError>;
    /// Writes (inserts or replaces) a value.
    fn upsert_value(&mut self, v: &NewValue<'_>) -> Result<(), StoreError>;
    /// Moves an unchanged value's origin to this file.
    fn touch_value(&mut self, key: &ValueKey, file_id: Option<i64>, origin: &str) -> Result<(), StoreError>;
    /// Deletes `key` if it belongs to `file_id`; how many rows went.
    fn delete_value(&mut self, key: &ValueKey, file_id: i64) -> Result<u64, StoreError>;
    /// Moves the data generation on.
    fn bump_generation(&mut self) -> Result<(), StoreError>;
    /// Writes an audit event (`crate::accounts::INSERT_AUDIT`) in the transaction.
    fn record_audit(&mut self, row: &crate::accounts::AuditRow<'_>) -> Result<(), StoreError>;
}

/// Writes one batch through `tx`. `Ok((outcome, false))`: nothing to commit (same file).
pub fn import_values<T: ValuesTx + ?Sized>(
    tx: &mut T,
    batch: &ValueBatch,
    now: &str,
) -> Result<(ValuesOutcome, bool), StoreError> {
    let mut out = ValuesOutcome::default();
    let report = batch.report.to_string();
    let mut previous: HashSet<ValueKey> = HashSet::new();
    let file_id: Option<i64> = match &batch.path {
        None => None,
        Some(path) => match tx.find_file(batch.dataset, path)? {
            Some((id, hash)) if hash == batch.content_hash => {
                out.same_file = true;
                out.unchanged = tx.count_file_values(id)?;
                return Ok((out, false));
            }
            Some((id, _)) => {
                previous.extend(tx.file_keys(id)?);
                tx.update_file(id, batch, now, &report)?;
                Some(id)
            }
            None => Some(tx.insert_file(path, batch, now, &report)?),
        },
    };
    for se in &batch.series {
        tx.upsert_series(se)?;
    }
    for (o, def_id) in &batch.observations {
        let key: ValueKey = (
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
        match tx.find_value(&key)? {
            Some(s) if s.value == value && s.denominator == den && s.definition_id == *def_id => {
                out.unchanged += 1;
                tx.touch_value(&key, file_id, &origin)?;
                continue;
            }
            Some(s) => {
                if file_id.is_none() || s.file_id != file_id {
                    out.replaced.push(Diagnostic {
                        severity: Severity::Warning,
                        code: "value-replaced".into(),
                        message: format!(
                            "{} {} {} {} ({}): replaces the value stored from {}",
                            key.0, key.1, key.2, key.4, key.3, s.origin
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
        let start = o.period.start().to_string();
        tx.upsert_value(&NewValue {
            key: &key,
            country: &country,
            period_start: &start,
            value: &value,
            denominator: den.as_deref(),
            definition_id: *def_id,
            file_id,
            origin: &origin,
        })?;
    }
    if let Some(fid) = file_id {
        let mut gone: Vec<&ValueKey> = previous.iter().collect();
        gone.sort();
        for k in gone {
            out.removed += tx.delete_value(k, fid)?;
        }
    }
    tx.bump_generation()?;
    // One audit event for the file or the upload (not per value), in its transaction.
    let action = match (batch.dataset, &batch.path) {
        ("results", None) => "results.upload",
        ("results", Some(_)) => "results.import",
        _ => "stats.import",
    };
    let after = serde_json::json!({
        "file": batch.path, "format": batch.format, "values": batch.observations.len(),
        "inserted": out.inserted, "updated": out.updated, "unchanged": out.unchanged,
        "removed": out.removed, "replaced": out.replaced.len(),
    })
    .to_string();
    let at = time::OffsetDateTime::now_utc().unix_timestamp();
    tx.record_audit(&crate::accounts::AuditRow {
        actor: &batch.actor,
        now: at,
        action,
        record: &batch.audit_record,
        before: None,
        after: Some(&after),
        run_id: None,
    })?;
    Ok((out, true))
}

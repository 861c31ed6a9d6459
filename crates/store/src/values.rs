//! Statistics and indicator values in the store: the types that cross the [`crate::Store`]
//! boundary for them, and [`indicator_views`], which combines stored values into progress per
//! indicator following the strategy's declared rules.

use crate::{Store, StoreError};
use rust_decimal::Decimal;
use senda_core::indicator::{self, Combined, IndicatorDef, IndicatorKind, Progress, Scope, SeriesPoint};
use senda_core::{Diagnostic, Observation, Period, StatSeries, Strategy, ValueKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One file's (or one API call's) values, written atomically by [`Store::import_values`].
#[derive(Debug, Clone)]
pub struct ValueBatch {
    /// `stats` or `results`.
    pub dataset: &'static str,
    /// The file path as given (None for the API: values are added, never replace a file's set).
    pub path: Option<String>,
    /// Format word, e.g. `cbp-swb-csv`, `ohss-xlsx`, `hxl`, `results-csv`, `api`.
    pub format: String,
    /// xxh3-128 of the bytes, hex ("" for the API).
    pub content_hash: String,
    /// Series defined by this batch (statistics).
    pub series: Vec<StatSeries>,
    /// Values, each with the indicator definition version id it is reported under (results).
    pub observations: Vec<(Observation, Option<i64>)>,
    /// The import report (JSON) stored with the file.
    pub report: serde_json::Value,
    /// Who writes it: the store records the batch's audit event (`stats.import`,
    /// `results.import`, or `results.upload` for the API) in its transaction.
    pub actor: crate::accounts::Actor,
    /// The record the audit event names (`values:stats`, `values:results:cmms-2021`).
    pub audit_record: String,
}

/// What [`Store::import_values`] changed. The counts equal the change in the database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ValuesOutcome {
    /// Keys that did not exist.
    pub inserted: u64,
    /// Keys whose value changed.
    pub updated: u64,
    /// Keys with the same value as stored.
    pub unchanged: u64,
    /// Values of this file's previous import that the file no longer has (deleted).
    pub removed: u64,
    /// Values of another file or the API that this batch replaced (warnings).
    pub replaced: Vec<Diagnostic>,
    /// True when the file's bytes are the same as last time (nothing was written).
    pub same_file: bool,
}

/// A stored value with where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredObservation {
    /// The value.
    #[serde(flatten)]
    pub observation: Observation,
    /// Definition version it was reported under (results), `None` for statistics.
    pub definition_version: Option<i64>,
    /// `file:row` or `api`.
    pub origin: String,
}

/// Which stored values to read.
#[derive(Debug, Clone, Default)]
pub struct ObservationFilter {
    /// Series / indicator codes (empty: all).
    pub series: Vec<String>,
    /// ISO 3166-1 alpha-2 country (None: all places).
    pub country: Option<String>,
    /// Kinds (empty: all).
    pub kinds: Vec<ValueKind>,
}

/// A statistic series with what the store holds of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesSummary {
    /// The series.
    #[serde(flatten)]
    pub series: StatSeries,
    /// Number of stored values.
    pub values: u64,
    /// Earliest period start (ISO date).
    pub first_period: Option<String>,
    /// Latest period (ISO form).
    pub last_period: Option<String>,
    /// Countries with values (ISO 3166-1 alpha-2), sorted.
    pub countries: Vec<String>,
}

/// An imported statistics or results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValueFileRecord {
    /// Row id.
    pub id: i64,
    /// `stats` or `results`.
    pub dataset: String,
    /// Path as given.
    pub path: String,
    /// Format word.
    pub format: String,
    /// RFC 3339.
    pub imported_at: String,
    /// The import report (JSON).
    pub report: serde_json::Value,
}

/// A version of an indicator definition as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DefinitionVersion {
    /// Row id (what values point at).
    pub id: i64,
    /// 1, 2, ...
    pub version: i64,
    /// The definition when first used.
    pub definition: IndicatorDef,
    /// RFC 3339.
    pub first_used: String,
}

/// One indicator as the pages and the printable report show it.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorView {
    /// The current definition.
    pub def: IndicatorDef,
    /// The current definition's version (0 when no value was ever stored under it).
    pub version: i64,
    /// Result indicators: progress against baseline and target. Context indicators: actuals
    /// are the statistic per month (status `no_target`).
    pub progress: Progress,
    /// Context indicators: the statistic per U.S. fiscal year (combined by `over_time`; the
    /// latest fiscal year may be partial, see `fiscal_year_months`).
    pub by_fiscal_year: Vec<SeriesPoint>,
    /// Months with data in each fiscal year of `by_fiscal_year`.
    pub fiscal_year_months: Vec<u32>,
    /// Values reported under older definition versions (kept, not combined with current ones).
    pub older_version_values: u64,
}

/// Context series: statistic observations that pass the indicator's `series_filter`,
/// collapsed into one total per place and period:
/// - a row reported without any other disaggregation (a total) wins over parts;
/// - otherwise the rows whose disaggregation has the fewest dimensions (ties: the first set of
///   dimension names in order) are summed: one source's rows partition the population by its
///   own dimensions, and rows split by another set of dimensions (from another file) would
///   count the same people twice;
/// - summing needs the indicator's `over_places` rule to be `sum`; otherwise, or when the sum
///   overflows, the period is left out (not aggregable), never summed.
fn collapse_context(def: &IndicatorDef, rows: Vec<StoredObservation>) -> Vec<Observation> {
    let mut groups: BTreeMap<(String, Period), Vec<Observation>> = BTreeMap::new();
    for r in rows {
        let o = r.observation;
        if !def.series_filter.iter().all(|(k, v)| o.disaggregation.get(k) == Some(v)) {
            continue;
        }
        groups.entry((o.place.to_string(), o.period)).or_default().push(o);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, rows) in groups {
        let other_dims = |o: &Observation| -> Vec<String> {
            o.disaggregation.keys().filter(|k| !def.series_filter.contains_key(*k)).cloned().collect()
        };
        let Some(chosen) = rows.iter().map(&other_dims).min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
        else {
            continue;
        };
        let parts: Vec<&Observation> = rows.iter().filter(|o| other_dims(o) == chosen).collect();
        let total = if parts.len() == 1 {
            Some(parts[0].value)
        } else if def.over_places == indicator::Aggregation::Sum {
            parts.iter().try_fold(Decimal::ZERO, |a, o| a.checked_add(o.value))
        } else {
            None
        };
        if let Some(value) = total {
            let mut t = parts[0].clone();
            t.series = def.code.clone();
            t.kind = ValueKind::Actual;
            t.disaggregation.clear();
            t.value = value;
            out.push(t);
        }
    }
    out
}

fn scope_country(scope: &Scope) -> Option<String> {
    match scope {
        Scope::Countries(c) if c.len() == 1 => Some(c[0].as_str().to_owned()),
        Scope::Admin1(code) => code.get(..2).map(str::to_owned),
        _ => None,
    }
}

/// Progress of every indicator of `strategy` (in the file's order) over `scope`, from the
/// stored values: result indicators from their baselines, targets and actuals reported under
/// the current definition version; context indicators from their statistic series.
pub fn indicator_views(
    store: &dyn Store,
    strategy: &Strategy,
    scope: &Scope,
) -> Result<Vec<IndicatorView>, StoreError> {
    let versions = store.indicator_versions(&strategy.id)?;
    let country = scope_country(scope);
    // Approved reports of published interventions (the reporting cycle, docs/reporting.md).
    let reported = senda_core::reporting::approved_observations(strategy, &store.approved_actuals(&strategy.id)?);
    let mut out = Vec::new();
    for def in &strategy.indicators {
        let fp = def.measurement_fingerprint();
        let current = versions
            .get(&def.code)
            .and_then(|v| v.iter().find(|d| d.definition.measurement_fingerprint() == fp))
            .map(|d| (d.id, d.version));
        let (values, older) = match def.kind {
            IndicatorKind::Result => {
                let rows = store.observations(&ObservationFilter {
                    series: vec![def.code.clone()],
                    country: country.clone(),
                    kinds: vec![],
                })?;
                let cur_id = current.map(|c| c.0);
                let (cur, old): (Vec<StoredObservation>, Vec<StoredObservation>) =
                    rows.into_iter().partition(|r| r.definition_version.is_none() || r.definition_version == cur_id);
                let mut values: Vec<Observation> = cur.into_iter().map(|r| r.observation).collect();
                // An actual imported for the same place and period (a results file, the API)
                // wins over the partners' reports of it.
                let imported: std::collections::HashSet<(String, Period)> = values
                    .iter()
                    .filter(|o| o.kind == ValueKind::Actual && o.disaggregation.is_empty())
                    .map(|o| (o.place.to_string(), o.period))
                    .collect();
                values.extend(
                    reported
                        .iter()
                        .filter(|o| o.series == def.code)
                        .filter(|o| {
                            country.as_deref().is_none_or(|c| o.place.country().is_some_and(|x| x.as_str() == c))
                        })
                        .filter(|o| !imported.contains(&(o.place.to_string(), o.period)))
                        .cloned(),
                );
                (values, old.len() as u64)
            }
            IndicatorKind::Context => {
                let series = def.series.clone().unwrap_or_default();
                let rows = store.observations(&ObservationFilter {
                    series: vec![series],
                    country: country.clone(),
                    kinds: vec![ValueKind::Observed],
                })?;
                (collapse_context(def, rows), 0)
            }
        };
        let progress = indicator::progress(def, &values, scope);
        let (by_fiscal_year, fiscal_year_months) =
            if def.kind == IndicatorKind::Context { fiscal_years(def, &progress.actuals) } else { (vec![], vec![]) };
        out.push(IndicatorView {
            def: def.clone(),
            version: current.map_or(0, |c| c.1),
            progress,
            by_fiscal_year,
            fiscal_year_months,
            older_version_values: older,
        });
    }
    Ok(out)
}

/// Monthly points combined into fiscal years by the indicator's `over_time` rule.
fn fiscal_years(def: &IndicatorDef, monthly: &[SeriesPoint]) -> (Vec<SeriesPoint>, Vec<u32>) {
    let mut by: BTreeMap<i32, Vec<&SeriesPoint>> = BTreeMap::new();
    for p in monthly.iter().filter(|p| matches!(p.period, Period::Month { .. })) {
        by.entry(p.period.fiscal_year()).or_default().push(p);
    }
    let mut points = Vec::new();
    let mut months = Vec::new();
    for (fy, pts) in by {
        let vals: Option<Vec<Decimal>> = pts.iter().map(|p| p.value.value()).collect();
        let value = match (vals, def.over_time) {
            (Some(v), indicator::Aggregation::Sum) => v
                .iter()
                .try_fold(Decimal::ZERO, |a, b| a.checked_add(*b))
                .map_or(Combined::NotAggregable, Combined::Value),
            (Some(v), indicator::Aggregation::Maximum) => {
                v.iter().max().map_or(Combined::NotAggregable, |m| Combined::Value(*m))
            }
            (Some(v), indicator::Aggregation::Latest) => {
                v.last().map_or(Combined::NotAggregable, |m| Combined::Value(*m))
            }
            _ => Combined::NotAggregable,
        };
        points.push(SeriesPoint { period: Period::FiscalYear(fy), value });
        months.push(pts.len() as u32);
    }
    (points, months)
}

/// An activity's IATI `result/indicator`, with progress computed like Senda's own indicators
/// (direction from `@ascending`, never aggregated across activities: IATI indicators of
/// different activities measure different things).
#[derive(Debug, Clone, Serialize)]
pub struct IatiIndicatorView {
    /// `iati-identifier` of the activity.
    pub iati_identifier: String,
    /// The activity title.
    pub activity_title: String,
    /// `result/title/narrative`.
    pub result_title: String,
    /// `result/indicator/title/narrative`.
    pub indicator_title: String,
    /// `@measure`: 1 unit, 2 percentage, 3 nominal, 4 ordinal, 5 qualitative.
    pub measure: Option<String>,
    /// Baseline `@value` and `@year` (numeric values only).
    pub baseline: Option<(Option<i32>, Decimal)>,
    /// Latest period with a numeric target: (period end ISO date, value).
    pub target: Option<(String, Decimal)>,
    /// Latest period with a numeric actual: (period end ISO date, value).
    pub actual: Option<(String, Decimal)>,
    /// Percent of target, as in [`senda_core::indicator::Progress::percent_of_target`].
    pub percent_of_target: Option<Decimal>,
    /// Values that are not numbers (e.g. `NULL`), skipped and counted.
    pub non_numeric_values: u32,
}

/// Parses an IATI indicator `@value`: numbers with English thousands separators (`307,000,000.00`)
/// and surrounding whitespace (MCC values end with a newline). `NULL`, empty and anything else:
/// `None` (counted as non-numeric, never 0).
pub fn iati_number(raw: &str) -> Option<Decimal> {
    let t = raw.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = int.strip_prefix('-').unwrap_or(int);
    let groups: Vec<&str> = digits.split(',').collect();
    let ok_groups = groups.len() == 1 && !groups[0].is_empty() && groups[0].bytes().all(|b| b.is_ascii_digit())
        || groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
            && groups[1..].iter().all(|g| g.len() == 3);
    if !ok_groups || !frac.bytes().all(|b| b.is_ascii_digit()) || (t.contains('.') && frac.is_empty()) {
        return None;
    }
    t.replace(',', "").parse().ok()
}

/// The IATI result indicators of the activities that `strategy` maps to `line_of_effort` (or
/// of every activity with results when `None`) and that name `country` (when given).
pub fn iati_indicator_views(
    store: &dyn Store,
    strategy: &str,
    line_of_effort: Option<&str>,
    country: Option<&str>,
    lang: &str,
) -> Result<Vec<IatiIndicatorView>, StoreError> {
    let mut out = Vec::new();
    for ident in store.activities_with_results(strategy, line_of_effort, country)? {
        let d = store.activity(&ident, strategy)?;
        let a = &d.activity;
        let title = a.title_in(lang).to_owned();
        for r in &a.results {
            let rt = senda_core::text::pick_narrative(&r.title, Some(lang), a.default_language.as_deref())
                .unwrap_or("")
                .to_owned();
            for ind in &r.indicators {
                let mut bad = 0u32;
                let mut num = |v: &Option<senda_core::activity::CompactString>| -> Option<Decimal> {
                    let raw = v.as_deref()?;
                    let n = iati_number(raw);
                    if n.is_none() {
                        bad += 1;
                    }
                    n
                };
                let baseline = ind.baselines.iter().find_map(|b| num(&b.value).map(|v| (b.year, v)));
                let mut target = None;
                let mut actual = None;
                for p in &ind.periods {
                    let end = p.end.map(|e| e.to_string()).unwrap_or_default();
                    if let Some(v) = p.targets.iter().find_map(|t| num(&t.value)) {
                        target = Some((end.clone(), v));
                    }
                    if let Some(v) = p.actuals.iter().find_map(|t| num(&t.value)) {
                        actual = Some((end.clone(), v));
                    }
                }
                let descending = ind.ascending == Some(false);
                let percent_of_target = match (&actual, &target) {
                    (Some((_, a_v)), Some((_, t_v))) => match &baseline {
                        Some((_, b_v)) if t_v != b_v => {
                            indicator::percent(a_v.checked_sub(*b_v), t_v.checked_sub(*b_v))
                        }
                        None if !descending && !t_v.is_zero() => indicator::percent(Some(*a_v), Some(*t_v)),
                        _ => None,
                    },
                    _ => None,
                };
                out.push(IatiIndicatorView {
                    iati_identifier: ident.clone(),
                    activity_title: title.clone(),
                    result_title: rt.clone(),
                    indicator_title: senda_core::text::pick_narrative(
                        &ind.title,
                        Some(lang),
                        a.default_language.as_deref(),
                    )
                    .unwrap_or("")
                    .to_owned(),
                    measure: ind.measure.as_deref().map(str::to_owned),
                    baseline,
                    target,
                    actual,
                    percent_of_target,
                    non_numeric_values: bad,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iati_values_parse_by_the_stated_rule() {
        assert_eq!(iati_number("87.8\n"), Some(Decimal::new(878, 1)));
        assert_eq!(iati_number("307,000,000.00"), Some(Decimal::new(30700000000, 2)));
        assert_eq!(iati_number("0"), Some(Decimal::ZERO));
        for bad in ["NULL", "", "1,5", "12,34", "<5", "N/A", "1.", "1e5"] {
            assert_eq!(iati_number(bad), None, "{bad}");
        }
    }
}

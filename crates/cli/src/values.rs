//! `senda stats ...`, `senda results ...` and `senda indicators`: migration statistics and
//! indicator values (baselines, targets, actuals) into the store, and progress out of it.

use crate::commands::{open_existing_store, open_store};
use crate::format::{count, table};
use anyhow::{Context, Result, bail};
use senda_core::indicator::{Combined, IndicatorKind, Scope};
use senda_core::{CountryCode, Diagnostic, Severity, Strategy};
use senda_store::{ObservationFilter, Store, ValueBatch};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest statistics or results file read (they are tables, not corpora).
pub const MAX_VALUE_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What one file of a `stats import` / `results import` run did.
#[derive(Debug, Clone, Serialize)]
pub struct ValueFileReport {
    /// The path as given.
    pub file: String,
    /// Detected format (`cbp-swb-csv`, `ohss-xlsx`, `hxl`, `results-csv`...), empty when rejected.
    pub format: String,
    /// Data rows read (header and blank rows excluded).
    pub rows_read: u64,
    /// Blank rows skipped.
    pub blank_rows: u64,
    /// Values new in the database.
    pub inserted: u64,
    /// Values changed.
    pub updated: u64,
    /// Values already stored with the same value.
    pub unchanged: u64,
    /// Values of the previous import of this file that it no longer has (deleted).
    pub removed: u64,
    /// Rows refused (each has an error diagnostic).
    pub rows_rejected: u64,
    /// The file's content was the same as last time: nothing written.
    pub same_file: bool,
    /// Why the whole file was refused (nothing of it stored).
    pub error: Option<String>,
}

/// A `stats import` / `results import` run.
#[derive(Debug, Clone, Serialize)]
pub struct ValuesReport {
    /// Per file.
    pub files: Vec<ValueFileReport>,
    /// Every warning and error, with file, row, column and field.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValuesReport {
    /// Files refused as a whole.
    pub fn files_rejected(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{}: is a folder (give the files themselves)", path.display()));
    }
    if meta.len() > MAX_VALUE_FILE_BYTES {
        return Err(format!(
            "{}: {} bytes is more than the {} MiB a statistics file may have",
            path.display(),
            meta.len(),
            MAX_VALUE_FILE_BYTES / 1024 / 1024
        ));
    }
    // Read at most one byte more than allowed: a device or a file growing while it is read
    // (`/dev/zero`, a pipe) has no trustworthy size in its metadata.
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_VALUE_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_VALUE_FILE_BYTES {
        return Err(format!(
            "{}: more than the {} MiB a statistics file may have",
            path.display(),
            MAX_VALUE_FILE_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes)
}

fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Which parser a values import uses.
pub enum Dataset<'a> {
    /// Migration statistics (`senda stats import`).
    Stats,
    /// Indicator values of a strategy (`senda results import`).
    Results(&'a Strategy),
}

/// Imports statistics or results files, each atomically; a refused file leaves nothing and the
/// others still import.
pub fn import_values(store: &mut dyn Store, paths: &[PathBuf], dataset: &Dataset<'_>) -> Result<ValuesReport> {
    let mut report = ValuesReport { files: vec![], diagnostics: vec![] };
    for path in paths {
        let name = path.display().to_string();
        let mut fr = ValueFileReport {
            file: name.clone(),
            format: String::new(),
            rows_read: 0,
            blank_rows: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            removed: 0,
            rows_rejected: 0,
            same_file: false,
            error: None,
        };
        let bytes = match read_limited(path) {
            Ok(b) => b,
            Err(e) => {
                fr.error = Some(e);
                report.files.push(fr);
                continue;
            }
        };
        let parsed = match dataset {
            Dataset::Stats => senda_stats::parse(&name, &bytes),
            Dataset::Results(st) => senda_stats::results::parse_results(&name, &bytes, st),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                fr.error = Some(e.to_string());
                report.files.push(fr);
                continue;
            }
        };
        fr.format = match dataset {
            Dataset::Stats => match senda_stats::detect(&name, &bytes) {
                Some(senda_stats::Format::CbpSouthwestBorder) => "cbp-swb-csv",
                Some(senda_stats::Format::CbpNationwide) => "cbp-nationwide-csv",
                Some(senda_stats::Format::OhssWorkbook) => "ohss-xlsx",
                Some(senda_stats::Format::Hxl) => "hxl",
                None => "unknown",
            }
            .to_owned(),
            Dataset::Results(_) => senda_stats::results::results_format(&name, &bytes).to_owned(),
        };
        fr.rows_read = parsed.rows_read;
        fr.blank_rows = parsed.blank_rows;
        fr.rows_rejected = {
            let mut r: Vec<u64> = parsed
                .diagnostics
                .iter()
                .filter(|d| d.severity >= Severity::Error && d.line > 0)
                .map(|d| d.line)
                .collect();
            r.sort_unstable();
            r.dedup();
            r.len() as u64
        };
        let mut observations = Vec::with_capacity(parsed.observations.len());
        let (dataset_word, strategy_id) = match dataset {
            Dataset::Stats => ("stats", None),
            Dataset::Results(st) => ("results", Some(st)),
        };
        let mut def_ids: std::collections::HashMap<String, i64> = Default::default();
        for o in parsed.observations {
            let def_id = match strategy_id {
                None => None,
                Some(st) => {
                    if let Some(id) = def_ids.get(&o.series) {
                        Some(*id)
                    } else {
                        let def = st.indicator(&o.series).with_context(|| format!("indicator {}", o.series))?;
                        let v = store.ensure_indicator_definition(&st.id, def)?;
                        def_ids.insert(o.series.clone(), v.id);
                        Some(v.id)
                    }
                }
            };
            observations.push((o, def_id));
        }
        let file_report = serde_json::json!({
            "format": fr.format, "rows_read": fr.rows_read, "blank_rows": fr.blank_rows,
            "rows_rejected": fr.rows_rejected, "diagnostics": parsed.diagnostics,
        });
        let batch = ValueBatch {
            dataset: dataset_word,
            path: Some(name.clone()),
            format: fr.format.clone(),
            content_hash: content_hash(&bytes),
            series: parsed.series,
            observations,
            report: file_report,
            actor: crate::accounts::cli_actor(),
            audit_record: match dataset {
                Dataset::Stats => "values:stats".to_owned(),
                Dataset::Results(st) => format!("values:results:{}", st.id),
            },
        };
        let out = store.import_values(&batch)?;
        fr.inserted = out.inserted;
        fr.updated = out.updated;
        fr.unchanged = out.unchanged;
        fr.removed = out.removed;
        fr.same_file = out.same_file;
        if !out.same_file {
            report.diagnostics.extend(parsed.diagnostics);
            report.diagnostics.extend(out.replaced);
        }
        report.files.push(fr);
    }
    Ok(report)
}

/// Prints a values import report: every diagnostic, then one line per file.
pub fn print_values_report(r: &ValuesReport, out: &mut dyn Write) -> Result<()> {
    for d in &r.diagnostics {
        writeln!(out, "{d}")?;
    }
    for f in &r.files {
        match &f.error {
            Some(e) => writeln!(out, "rejected: {e} (nothing of it was stored)")?,
            None if f.same_file => writeln!(
                out,
                "{}: unchanged since the last import ({} values), nothing written",
                f.file,
                count(f.unchanged)
            )?,
            None => writeln!(
                out,
                "{} ({}): {} rows read, {} rejected, {} blank skipped; values: {} new, {} updated, {} unchanged, {} removed",
                f.file,
                f.format,
                count(f.rows_read),
                count(f.rows_rejected),
                count(f.blank_rows),
                count(f.inserted),
                count(f.updated),
                count(f.unchanged),
                count(f.removed)
            )?,
        }
    }
    let warnings = r.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    let errors = r.diagnostics.len() - warnings;
    writeln!(
        out,
        "{} files ({} rejected); {} warnings, {} errors",
        r.files.len(),
        r.files_rejected(),
        count(warnings as u64),
        count(errors as u64)
    )?;
    Ok(())
}

/// `senda stats import` / `senda results import`: exit 1 when a file was refused.
pub fn cmd_import_values(db: &str, paths: &[PathBuf], dataset: &Dataset<'_>, json: bool) -> Result<i32> {
    let mut store = open_store(db)?;
    let report = import_values(&mut *store, paths, dataset)?;
    // Each file that changed something has its audit event, written by the store in the
    // file's transaction (`stats.import` / `results.import`).
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_values_report(&report, &mut std::io::stderr())?;
    }
    Ok(if report.files_rejected() > 0 { 1 } else { 0 })
}

/// `senda stats list`.
pub fn cmd_stats_list(db: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    let store = open_existing_store(db)?;
    let series = store.stat_series()?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&series)?)?;
        return Ok(());
    }
    if series.is_empty() {
        writeln!(out, "no statistics imported yet: `senda stats import FILE`")?;
        return Ok(());
    }
    let headers: Vec<String> =
        ["series", "name", "unit", "values", "from", "to", "countries"].iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<String>> = series
        .iter()
        .map(|s| {
            vec![
                s.series.code.clone(),
                crate::format::clip(&s.series.name, 50),
                s.series.unit.clone(),
                count(s.values),
                s.first_period.clone().unwrap_or_default().get(..7).unwrap_or_default().to_owned(),
                s.last_period.clone().unwrap_or_default(),
                crate::format::clip(&s.countries.join(","), 30),
            ]
        })
        .collect();
    write!(out, "{}", table(&headers, &rows, &[false, false, false, true, false, false, false]))?;
    Ok(())
}

/// Export columns of `senda stats export --format csv` (and `senda results export`).
pub const EXPORT_COLUMNS: &[&str] = &[
    "series",
    "country",
    "admin1",
    "place",
    "period",
    "period_start",
    "disaggregation",
    "kind",
    "value",
    "denominator",
    "origin",
];

/// `senda stats export` / `senda results export`: every stored value matching the filter, as CSV
/// (columns [`EXPORT_COLUMNS`]) or JSON.
pub fn cmd_export(db: &str, filter: &ObservationFilter, json: bool, out: &mut dyn Write) -> Result<()> {
    let store = open_existing_store(db)?;
    let rows = store.observations(filter)?;
    if rows.is_empty() && !filter.series.is_empty() {
        eprintln!(
            "no stored values for {} (see `senda stats list` or the strategy's indicators)",
            filter.series.join(", ")
        );
    }
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EXPORT_COLUMNS)?;
    for r in rows {
        let o = &r.observation;
        let country = o.place.country().map(|c| c.as_str().to_owned()).unwrap_or_default();
        // Text cells that a spreadsheet would run as a formula get a leading `'` (as in the
        // dashboard's CSV downloads); numbers and codes are written as they are.
        let text = senda_web::api::csv_text;
        w.write_record([
            text(&o.series).as_str(),
            &country,
            o.place.admin1().unwrap_or(""),
            &text(&o.place.to_string()),
            &o.period.to_string(),
            &o.period.start().to_string(),
            &text(&senda_core::observation::disaggregation_key(&o.disaggregation)),
            o.kind.as_str(),
            &o.value.normalize().to_string(),
            &o.denominator.map(|d| d.normalize().to_string()).unwrap_or_default(),
            &r.origin,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Columns of `senda indicators --format csv` and of its table.
pub const INDICATOR_COLUMNS: &[&str] = &[
    "code",
    "line_of_effort",
    "kind",
    "unit",
    "direction",
    "baseline",
    "target",
    "latest_actual",
    "period",
    "percent_of_target",
    "status",
];

/// Parses a `--country` value for the filters: ISO alpha-2, checked.
pub fn country_arg(s: &str) -> Result<CountryCode> {
    CountryCode::parse(s).map_err(|e| anyhow::anyhow!("--country {s:?}: {e}"))
}

/// The scope of `senda indicators`: a department, one country, or the strategy's focus countries.
pub fn scope_of(strategy: &Strategy, country: Option<&str>, department: Option<&str>) -> Result<Scope> {
    if let Some(d) = department {
        let known = senda_core::Place::parse(d)
            .ok()
            .filter(|p| p.admin1().is_some())
            .and_then(|p| p.country())
            .and_then(|cc| senda_stats::countries::canonical_admin1(cc, d));
        return match known {
            Some(code) => Ok(Scope::Admin1(code)),
            None => bail!("--department {d:?}: not a department Senda knows (an ISO 3166-2 code such as GT-16)"),
        };
    }
    Ok(match country {
        Some(c) => Scope::Countries(vec![country_arg(c)?]),
        None => Scope::Countries(strategy.focus_countries.clone()),
    })
}

fn combined_text(c: &Combined) -> String {
    match c {
        Combined::Value(v) => crate::format::thousands_exact(*v),
        Combined::NotAggregable => "not aggregable".into(),
    }
}

/// `senda indicators`: progress of every indicator in the scope.
pub fn cmd_indicators(
    db: &str,
    strategy: &Strategy,
    scope: &Scope,
    line_of_effort: Option<&str>,
    format: crate::cli::Format,
    out: &mut dyn Write,
) -> Result<()> {
    let store = open_existing_store(db)?;
    if let Some(l) = line_of_effort.filter(|l| strategy.line_of_effort(l).is_none()) {
        bail!("--line-of-effort {l:?}: not a line of effort of {}", strategy.id);
    }
    let views: Vec<senda_store::IndicatorView> = senda_store::indicator_views(&*store, strategy, scope)?
        .into_iter()
        .filter(|v| line_of_effort.is_none_or(|l| v.def.line_of_effort == l))
        .collect();
    match format {
        crate::cli::Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?,
        crate::cli::Format::Csv | crate::cli::Format::Table => {
            let headers: Vec<String> = INDICATOR_COLUMNS.iter().map(|s| s.to_string()).collect();
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    let p = &v.progress;
                    let pt = |x: &Option<senda_core::indicator::SeriesPoint>| {
                        x.as_ref().map(|s| format!("{} ({})", combined_text(&s.value), s.period)).unwrap_or_default()
                    };
                    vec![
                        v.def.code.clone(),
                        v.def.line_of_effort.clone(),
                        match v.def.kind {
                            IndicatorKind::Result => "result".into(),
                            IndicatorKind::Context => "context".into(),
                        },
                        v.def.unit.clone(),
                        format!("{:?}", v.def.direction).to_lowercase(),
                        pt(&p.baseline),
                        pt(&p.target),
                        p.latest_actual.as_ref().map(|s| combined_text(&s.value)).unwrap_or_default(),
                        p.latest_actual.as_ref().map(|s| s.period.to_string()).unwrap_or_default(),
                        p.percent_of_target.map(|d| d.to_string()).unwrap_or_default(),
                        p.status.as_str().to_owned(),
                    ]
                })
                .collect();
            if format == crate::cli::Format::Csv {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&headers)?;
                for r in rows {
                    w.write_record(&r)?;
                }
                w.flush()?;
            } else {
                let right = [false, false, false, false, false, true, true, true, false, true, false];
                write!(out, "{}", table(&headers, &rows, &right))?;
            }
        }
    }
    Ok(())
}

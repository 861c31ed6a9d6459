//! Helpers shared by the integration tests: a fresh database per test, files written into its
//! temporary folder, minimal valid IATI 2.03 documents, and lookups into an import report.

#![allow(dead_code)]

use rust_decimal::Decimal;
use senda::import::ImportReport;
use senda_core::report::{Dimension, Report, Row};
use senda_core::{Activity, Diagnostic, Severity};
use senda_store::{ActivityFilter, SqliteStore, Store};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The strategy every test reports with.
pub const STRATEGY: &str = "cmms-2021";

/// A fresh temporary folder and a new SQLite database inside it. Keep the `TempDir` alive for
/// the whole test (dropping it deletes the folder).
pub fn db() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(&dir.path().join("senda.db")).expect("open database");
    (dir, store)
}

/// A second, independent database in the same temporary folder.
pub fn db_in(dir: &Path, name: &str) -> SqliteStore {
    SqliteStore::open(&dir.join(name)).expect("open database")
}

/// Writes `content` to `dir/name` and returns its canonical path (the path diagnostics name).
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write test file");
    canonical(&p)
}

/// Canonical form of a path (as the importer reports it).
pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fixture under `tests/fixtures/bad/`, canonical.
pub fn fixture(name: &str) -> PathBuf {
    canonical(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad").join(name))
}

/// The text of a fixture.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture is UTF-8")
}

/// 1-based number of the first line of `text` containing `needle` (panics if none).
pub fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not found in the test file"))
        as u64
        + 1
}

/// A minimal valid `iati-activities` 2.03 document around `activities` (already XML).
pub fn doc(version: &str, activities: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"{version}\" generated-datetime=\"2024-01-01T00:00:00Z\">\n{activities}</iati-activities>\n"
    )
}

/// One `iati-activity` element (default currency USD, English) with identifier, reporting org
/// and `inner` (title, transactions...).
pub fn activity(id: &str, inner: &str) -> String {
    format!(
        " <iati-activity last-updated-datetime=\"2024-01-01T00:00:00Z\" default-currency=\"USD\" xml:lang=\"en\">\n  <iati-identifier>{id}</iati-identifier>\n  <reporting-org ref=\"XM-TEST\" type=\"10\"><narrative>Test Agency</narrative></reporting-org>\n{inner}\n </iati-activity>\n"
    )
}

/// A whole 2.03 document holding one activity.
pub fn activity_xml(id: &str, inner: &str) -> String {
    doc("2.03", &activity(id, inner))
}

/// A `transaction` element: type code, date, amount (currency from the activity).
pub fn transaction(type_code: &str, date: &str, amount: &str) -> String {
    format!(
        "  <transaction><transaction-type code=\"{type_code}\"/><transaction-date iso-date=\"{date}\"/><value value-date=\"{date}\">{amount}</value></transaction>"
    )
}

/// Imports `paths` (no `--force`, no progress bar).
pub fn import(store: &mut dyn Store, paths: &[PathBuf]) -> ImportReport {
    senda::import::import(store, paths, false, false).expect("import runs (bad files are rejected, not errors)")
}

/// Imports with `--force`.
pub fn import_force(store: &mut dyn Store, paths: &[PathBuf]) -> ImportReport {
    senda::import::import(store, paths, true, false).expect("import runs")
}

/// Every diagnostic with this code.
pub fn diags<'r>(r: &'r ImportReport, code: &str) -> Vec<&'r Diagnostic> {
    r.diagnostics.iter().filter(|d| d.code == code).collect()
}

/// The single diagnostic with this code; checks that it names `file` and a real position.
pub fn one_diag<'r>(r: &'r ImportReport, code: &str, file: &Path) -> &'r Diagnostic {
    let found = diags(r, code);
    assert_eq!(found.len(), 1, "expected exactly one [{code}] diagnostic, got:\n{}", dump(r));
    let d = found[0];
    assert_located(d, file);
    d
}

/// Checks that a diagnostic names `file` and a non-zero line and column.
pub fn assert_located(d: &Diagnostic, file: &Path) {
    assert_eq!(Path::new(&d.file), file, "diagnostic names the wrong file: {d}");
    assert!(d.line > 0 && d.column > 0, "diagnostic without a position: {d}");
}

/// Checks severity and element path of a diagnostic.
pub fn assert_diag(d: &Diagnostic, severity: Severity, element: &str) {
    assert_eq!(d.severity, severity, "{d}");
    assert_eq!(d.element.as_deref(), Some(element), "{d}");
}

/// All diagnostics, one a line (for assertion messages).
pub fn dump(r: &ImportReport) -> String {
    r.diagnostics.iter().map(|d| format!("  {d}\n")).collect()
}

/// The stored activity (transactions included).
pub fn stored(store: &dyn Store, id: &str) -> Activity {
    store.activity(id, STRATEGY).unwrap_or_else(|e| panic!("{id}: {e}")).activity
}

/// Whether an activity with this identifier is stored.
pub fn exists(store: &dyn Store, id: &str) -> bool {
    store.activity(id, STRATEGY).is_ok()
}

/// The stored English title.
pub fn title(store: &dyn Store, id: &str) -> String {
    stored(store, id).title_in("en").to_owned()
}

/// Every stored `(identifier, title)`, sorted by identifier.
pub fn ids_and_titles(store: &dyn Store) -> Vec<(String, String)> {
    store
        .list_activities(&ActivityFilter { strategy: STRATEGY.into(), ..Default::default() })
        .expect("list activities")
        .into_iter()
        .map(|r| (r.iati_identifier, r.title))
        .collect()
}

/// Number of stored activities.
pub fn count(store: &dyn Store) -> u64 {
    store.count_activities().expect("count")
}

/// The report grouped by `dims`, no filters.
pub fn report(store: &dyn Store, dims: Vec<Dimension>) -> Report {
    senda::commands::build_report(store, STRATEGY, dims, false, &senda::cli::Filters::default()).expect("report")
}

/// The by-country report.
pub fn by_country(store: &dyn Store) -> Report {
    report(store, vec![Dimension::Country])
}

/// The row whose (first) key is `key`.
pub fn row<'r>(r: &'r Report, key: &str) -> &'r Row {
    r.rows
        .iter()
        .find(|x| x.key.first().map(String::as_str) == Some(key))
        .unwrap_or_else(|| panic!("no row {key:?}; rows: {:?}", r.rows.iter().map(|x| &x.key).collect::<Vec<_>>()))
}

/// Checks that the rows of a report add up to its total, for every transaction type.
pub fn assert_reconciles(r: &Report) {
    let (sum, other) = r.rows_sum();
    assert_eq!(sum, r.total.usd, "rows do not add up to the total");
    assert_eq!(other, r.total.unconverted, "unconverted rows do not add up to the total");
}

/// An exact decimal.
pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

//! The conformance suite: the same scenarios run against every storage backend (issue 16,
//! point 3), through the real import pipeline (`senda::import`, `senda::values`) and the
//! [`Store`] trait only; never raw SQL on one backend's file.
//!
//! Each test gets fresh, empty databases from a [`Backend`]: SQLite, a file in a temporary
//! folder; PostgreSQL, a new database `senda_t_<random>` created on the server named by
//! `SENDA_TEST_POSTGRES_URL` and dropped (`WITH (FORCE)`) when the test ends, failed or not.
//! [`for_each_backend`] runs a test body on each backend and names the backend in every failure.
//! Without `SENDA_TEST_POSTGRES_URL`: with `CI=true` every test fails (CI must test both
//! backends); elsewhere the tests run on SQLite only and say once, on stderr, that PostgreSQL
//! was skipped and why.
//!
//! Run on both backends: `bash scripts/with-postgres.sh cargo test -p senda --test it conformance`
//! (the script starts a throw-away PostgreSQL server and exports the URL).
//!
//! Files: `import.rs` (atomicity, idempotence, duplicates, order independence, net change),
//! `reimport.rs` (removals, copies taking over, prune), `overrides.rs` (overrides and their
//! history, re-mapping), `values.rs` (statistics and results values), `paging.rs` (keyset
//! pages, the same on both backends), `reports.rs` (totals across groupings), `real_data.rs`
//! (`../shared/data/iati/` on both backends), `copy.rs` (`copy_database`), `segments.rs` (fact segments equal the facts), `opening.rs`
//! (PostgreSQL's connection errors; a newer schema refused on both), `text.rs` (text that
//! means something to a database comes back as published), `kept.rs` (every element of the
//! IATI schema's example activities is found again, modelled or kept), `accounts.rs` (organisations, people,
//! sessions, tokens, the audit trail), `interventions.rs` (interventions entered in Senda, read
//! through the policy's scope, their review workflow), `contributions.rs` (partner contributions: scope, filters, publication), `entered_reports.rs` (their money and counts
//! in reports beside the IATI data, once), `reporting.rs` (the reporting cycle: review, scope, locks,
//! approved actuals in indicator progress).

mod accounts;
mod contributions;
mod copy;
mod coverage;
mod entered_reports;
mod import;
mod intervention_edits;
mod interventions;
mod kept;
mod opening;
mod overrides;
mod paging;
mod reads;
mod real_data;
mod reimport;
mod reporting;
mod reports;
mod review;
mod segments;
mod text;
mod values;

use crate::support::{STRATEGY, activity, transaction};
use senda_core::report::{Dimension, Report};
use senda_store::tables::{Cell, TABLES};
use senda_store::{ActivityFilter, ActivityRow, OpenMode, Store};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use tempfile::TempDir;

/// The environment variable naming the PostgreSQL server the tests create databases on
/// (`scripts/with-postgres.sh` sets it): a superuser URL, e.g.
/// `postgres://senda:PASSWORD@127.0.0.1:PORT/postgres`.
pub const POSTGRES_ENV: &str = "SENDA_TEST_POSTGRES_URL";

/// A storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SQLite, a file.
    Sqlite,
    /// PostgreSQL, a database on a server.
    Postgres,
}

/// One backend for one test: it makes fresh, empty databases, each deleted when dropped.
pub struct Backend {
    /// Which backend.
    pub kind: Kind,
    /// PostgreSQL: the server's URL (a superuser, any database).
    server: Option<String>,
    /// SQLite: the folder of this test's database files (never a data folder).
    files: TempDir,
}

impl Backend {
    fn new(kind: Kind, server: Option<String>) -> Self {
        Self { kind, server, files: tempfile::tempdir().expect("temporary folder for databases") }
    }

    /// `sqlite` or `postgres`, as [`Store::backend`] says.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }

    /// A new, empty database (nothing created in it yet): its URL, and the guard that deletes
    /// it when dropped.
    pub fn empty_database(&self) -> Database {
        match self.kind {
            Kind::Sqlite => {
                let path = self.files.path().join(format!("senda-{:016x}.db", fastrand::u64(..)));
                Database { url: format!("sqlite://{}", path.display()), pg: None }
            }
            Kind::Postgres => {
                let server = self.server.as_deref().expect("a PostgreSQL backend has a server");
                let name = format!("senda_t_{:016x}", fastrand::u64(..));
                admin(server, &format!("CREATE DATABASE {name}"));
                Database { url: with_database(server, &name), pg: Some((server.to_owned(), name)) }
            }
        }
    }

    /// A fresh database, opened (schema created): what `senda import --db URL` starts from.
    pub fn db(&self) -> Db {
        let database = self.empty_database();
        let store = senda_store::open(&database.url, OpenMode::Create)
            .unwrap_or_else(|e| panic!("[{}] open a fresh database: {e}", self.name()));
        assert_eq!(store.backend(), self.name(), "the URL chose the backend");
        Db { store, database }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A database made for a test; dropping it deletes it (PostgreSQL: `DROP DATABASE ... WITH
/// (FORCE)`, which also ends connections left open; SQLite: the backend's folder goes).
pub struct Database {
    /// What `--db` takes.
    pub url: String,
    /// PostgreSQL: (server URL, database name).
    pg: Option<(String, String)>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            let dropped = postgres::Client::connect(server, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
            if let Err(e) = dropped {
                let _ = writeln!(std::io::stderr(), "conformance: could not drop the test database {name}: {e}");
            }
        }
    }
}

/// A fresh database and a store open on it. Dereferences to the [`Store`].
pub struct Db {
    // Declared first: the connection closes before the database is dropped.
    store: Box<dyn Store + Send>,
    /// The database (its URL, and its removal at the end).
    pub database: Database,
}

impl Db {
    /// The database's URL (what `--db` takes).
    pub fn url(&self) -> &str {
        &self.database.url
    }

    /// Closes the store, keeps the database.
    pub fn close(self) -> Database {
        let Db { store, database } = self;
        drop(store);
        database
    }
}

impl std::ops::Deref for Db {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut (dyn Store + 'static) {
        &mut *self.store
    }
}

/// Runs `statement` on the PostgreSQL server (as the superuser of the server URL).
pub fn admin(server: &str, statement: &str) {
    let mut c = postgres::Client::connect(server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to the PostgreSQL test server ({POSTGRES_ENV}): {e}"));
    c.batch_execute(statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// `url` naming database `name` instead of its own (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or_else(|| panic!("{POSTGRES_ENV} is not a postgres:// URL"));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

/// The PostgreSQL server to test on, if any. Unset: a failure with `CI=true`; otherwise `None`,
/// said once on stderr (written past the test harness's capture, so it is seen).
pub fn postgres_server() -> Option<String> {
    static SKIPPED: std::sync::Once = std::sync::Once::new();
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{POSTGRES_ENV} is not set and CI=true: the conformance suite must run on PostgreSQL too; \
             run the tests through scripts/with-postgres.sh (it starts a throw-away server and sets {POSTGRES_ENV})"
        ),
        _ => {
            SKIPPED.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "conformance: {POSTGRES_ENV} is not set: PostgreSQL skipped, these tests run on SQLite only \
                     (run them through scripts/with-postgres.sh to test both backends)"
                );
            });
            None
        }
    }
}

/// Every backend available: SQLite always, PostgreSQL when [`postgres_server`] gives one.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::new(Kind::Sqlite, None)];
    if let Some(server) = postgres_server() {
        v.push(Backend::new(Kind::Postgres, Some(server)));
    }
    v
}

/// Runs `test` on every backend, each with its own databases. Every backend runs even when
/// one fails; the failure names the backend(s).
pub fn for_each_backend(mut test: impl FnMut(&Backend)) {
    let mut failures = Vec::new();
    for b in backends() {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| test(&b))) {
            failures.push(format!("[{b}] {}", panic_text(&*p)));
        }
    }
    assert!(failures.is_empty(), "failed on {} backend(s):\n{}", failures.len(), failures.join("\n"));
}

/// The text of a panic payload.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// What a user checks, read through the Store trait.

/// Rows per table (every table of the schema).
pub fn counts(s: &dyn Store) -> Vec<(&'static str, u64)> {
    s.table_counts().expect("table counts")
}

/// Rows of one table.
pub fn rows_in(s: &dyn Store, table: &str) -> u64 {
    counts(s).into_iter().find(|(t, _)| *t == table).unwrap_or_else(|| panic!("no table {table}")).1
}

/// The whole list of activities for `filter` (no limit), without database ids.
pub fn list(s: &dyn Store, filter: &ActivityFilter) -> Vec<String> {
    s.list_activities(filter).expect("list activities").iter().map(row_text).collect()
}

/// Every field of a list row but its database id (which differs between databases).
pub fn row_text(r: &ActivityRow) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        r.iati_identifier,
        r.title,
        r.reporting_org,
        r.countries,
        r.lines_of_effort,
        r.overridden,
        r.status,
        r.start_date,
        r.end_date,
        r.commitments_usd,
        r.disbursements_usd,
        r.expenditures_usd,
        r.synthetic
    )
}

/// The default list filter for the test strategy.
pub fn all() -> ActivityFilter {
    ActivityFilter { strategy: STRATEGY.into(), ..Default::default() }
}

/// The report by `dims` as text (keys, counts and every exact amount).
pub fn report_text(s: &dyn Store, dims: Vec<Dimension>) -> String {
    format!("{:?}", report_of(s, dims))
}

/// The report by `dims`, no filter.
pub fn report_of(s: &dyn Store, dims: Vec<Dimension>) -> Report {
    senda_store::build_report(s, STRATEGY, dims, false, Default::default()).expect("report")
}

/// The groupings every report test checks.
pub fn groupings() -> Vec<Vec<Dimension>> {
    use Dimension as D;
    vec![
        vec![D::LineOfEffort],
        vec![D::Country],
        vec![D::FiscalYear],
        vec![D::Sector],
        vec![D::ImplementingOrg],
        vec![D::ReportingOrg],
        vec![D::Instrument],
        vec![D::LineOfEffort, D::Country, D::FiscalYear],
    ]
}

/// Every row of every table, as text, by table (see [`snapshot`]).
pub type Snapshot = BTreeMap<&'static str, Vec<String>>;

/// What a database holds, comparable between databases and backends: every row of every
/// table, with database-made numbers replaced by what they stand for (an activity's id by its
/// identifier) and times, run ids and the data generation left out; rows sorted. Two
/// databases with equal snapshots answer every question the same way.
pub fn snapshot(s: &dyn Store) -> Snapshot {
    // Database-made ids, by table, and what each stands for.
    let mut ident: HashMap<(&str, i64), String> = HashMap::new();
    let mut out: Snapshot = BTreeMap::new();
    for t in TABLES {
        let mut rows = Vec::new();
        s.read_table(t, &mut |cells| {
            let text_of = |c: &str| match t.columns.iter().position(|(n, _)| *n == c).map(|i| &cells[i]) {
                Some(Cell::Text(v)) => v.clone(),
                Some(Cell::Int(v)) => v.to_string(),
                _ => String::new(),
            };
            let id = match cells.first() {
                Some(Cell::Int(v)) if t.generated_id => Some(*v),
                _ => None,
            };
            if let Some(id) = id {
                let stands_for = match t.name {
                    "activity" => text_of("iati_identifier"),
                    "value_file" => format!("{}:{}", text_of("dataset"), text_of("path")),
                    "indicator_definition" => {
                        format!("{}/{} v{}", text_of("strategy"), text_of("code"), text_of("version"))
                    }
                    _ => String::new(),
                };
                ident.insert((t.name, id), stands_for);
            }
            let mut parts = Vec::new();
            for ((col, _), cell) in t.columns.iter().zip(cells) {
                // `source_file.activities` and `.transactions` record what the file's last
                // import stored; they go stale when another file's copy takes a row later, and
                // nothing reads them (`Store::file_state` counts the rows): left out.
                let skip = matches!(
                    (t.name, *col),
                    (_, "imported_at" | "started_at" | "finished_at" | "first_used" | "created_at" | "at")
                        | ("source_file", "activities" | "transactions")
                        | ("diagnostic", "run_id")
                        | ("import_run", "report")
                        | ("value_file", "report")
                        | ("store_generation", "generation")
                        // How many times a segment changed depends on the path taken, and its
                        // value holds row ids, which depend on it too: `segments.rs` checks
                        // that every segment equals the `fact` rows it stands for.
                        | ("fact_segment", "version" | "data")
                ) || (*col == "id" && t.generated_id);
                if skip {
                    continue;
                }
                let parent = match *col {
                    "activity_id" => Some("activity"),
                    "file_id" => Some("value_file"),
                    "definition_id" => Some("indicator_definition"),
                    _ => None,
                };
                let text = match (cell, parent) {
                    (Cell::Int(v), Some(p)) => ident.get(&(p, v)).cloned().unwrap_or_else(|| format!("(no {p} {v})")),
                    (Cell::Null, _) => "NULL".into(),
                    (Cell::Int(v), _) => v.to_string(),
                    (Cell::Text(v), _) => format!("{v:?}"),
                    (Cell::Bytes(b), _) => format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&b)),
                };
                parts.push(format!("{col}={text}"));
            }
            // The audit trail's import events record the run (how many files, created,
            // updated): they depend on the path taken, as `import_run` does, which is not
            // compared either.
            let import_event = t.name == "audit_event" && parts.iter().any(|p| p == "action=\"import.run\"");
            if !import_event {
                rows.push(parts.join(" "));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("read table {}: {e}", t.name));
        rows.sort();
        out.insert(t.name, rows);
    }
    out
}

/// Asserts two snapshots are equal, naming the first table and row that differ.
pub fn assert_same_database(a: &Snapshot, b: &Snapshot, what: &str) {
    for (table, rows_a) in a {
        let rows_b = &b[table];
        if rows_a != rows_b {
            let first = rows_a.iter().zip(rows_b).find(|(x, y)| x != y);
            panic!(
                "{what}: table {table} differs ({} rows vs {}); first difference:\n  {:?}\n  {:?}",
                rows_a.len(),
                rows_b.len(),
                first.map(|f| f.0),
                first.map(|f| f.1)
            );
        }
    }
}

/// Activities as stored: identifier -> (fingerprint, transactions), read from the `activity`
/// table through the trait.
pub fn fingerprints(s: &dyn Store) -> BTreeMap<String, (String, u64)> {
    let t = TABLES.iter().find(|t| t.name == "activity").expect("activity table");
    let col = |name: &str| t.columns.iter().position(|(c, _)| *c == name).expect("column");
    let (i, f, n) = (col("iati_identifier"), col("fingerprint"), col("n_transactions"));
    let mut out = BTreeMap::new();
    s.read_table(t, &mut |cells| {
        let text = |c: &Cell| match c {
            Cell::Text(t) => t.clone(),
            other => format!("{other:?}"),
        };
        let txs = match cells[n] {
            Cell::Int(v) => v as u64,
            _ => 0,
        };
        out.insert(text(&cells[i]), (text(&cells[f]), txs));
        Ok(())
    })
    .expect("read activities");
    out
}

/// The real change between two [`fingerprints`]: (created, updated, removed, transactions of
/// the created and updated activities).
pub fn net_change(
    before: &BTreeMap<String, (String, u64)>,
    after: &BTreeMap<String, (String, u64)>,
) -> (u64, u64, u64, u64) {
    let (mut created, mut updated, mut transactions) = (0, 0, 0);
    for (id, (fp, n)) in after {
        match before.get(id) {
            None => created += 1,
            Some((old, _)) if old != fp => updated += 1,
            Some(_) => continue,
        }
        transactions += n;
    }
    let removed = before.keys().filter(|id| !after.contains_key(*id)).count() as u64;
    (created, updated, removed, transactions)
}

/// An activity with a transaction in Guatemala, a keyword that maps it onto a line of effort,
/// a department location and a result indicator: a row in every per-activity table.
pub fn rich(id: &str, amount: &str) -> String {
    activity(
        id,
        &format!(
            r#"  <title><narrative>Reintegration of returned migrants</narrative></title>
  <recipient-country code="GT" percentage="100"/>
  <location><name><narrative>Huehuetenango</narrative></name><administrative vocabulary="G1" level="1" code="GT-HU"/></location>
  <result type="1"><title><narrative>Returnees assisted</narrative></title><indicator measure="1"><title><narrative>People</narrative></title></indicator></result>
{}"#,
            transaction("3", "2023-11-15", amount)
        ),
    )
}

/// One copy of `XM-DUP` dated `last_updated`, titled `title`, disbursing `amount` in Guatemala.
pub fn dated_copy(last_updated: &str, title: &str, amount: &str) -> String {
    activity(
        "XM-DUP",
        &format!(
            "  <title><narrative>{title}</narrative></title>\n  <recipient-country code=\"GT\" percentage=\"100\"/>\n{}",
            transaction("3", "2023-11-15", amount)
        ),
    )
    .replace("2024-01-01T00:00:00Z", last_updated)
}

/// A fresh temporary folder for a test's data files.
pub fn data_dir() -> TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// A folder `name` under `dir`, created.
pub fn folder(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(&p).expect("mkdir");
    p
}

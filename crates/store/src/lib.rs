//! Senda's storage boundary: the [`Store`] trait, and [`SqliteStore`], its SQLite backend.
//!
//! This is the only crate that knows SQL. The domain (`senda-core`) and the reader
//! (`senda-iati`) know nothing of it; the command line and, later, the web server talk to a
//! `dyn Store`. A PostgreSQL backend implements the same trait with its own migrations folder
//! (`migrations/postgres/`) and must pass the same conformance suite
//! (`crates/cli/tests/it/conformance/`: it drives the real import pipeline, which lives in the
//! `senda` crate).
//!
//! Invariant: [`Store::import_file`] is atomic. Everything from one file is written in one
//! database transaction; if the file's stream of activities ends in an error, nothing of it
//! stays.

pub mod accounts;
pub mod codec;
pub mod contributions;
pub mod coverage;
mod error;
pub mod interventions;
mod item;
mod open;
pub mod overrides;
mod pg;
pub mod plan;
pub mod query;
pub mod reporting;
mod reports;
pub mod review;
pub mod rules;
mod sqlite;
pub mod tables;
pub mod values;

pub use error::StoreError;
pub use item::{ImportItem, ItemParts};
pub use open::{OpenMode, Target, open, parse_target, redact};
pub use pg::PgStore;
pub use reports::{build_report, build_report_for, money_in_view};
pub use review::{ReviewEntry, ReviewFilter, ReviewSignal, review_queue};
pub use sqlite::SqliteStore;
pub use values::*;

use senda_core::mapping::{Evidence, Mapping, NearMiss};
use senda_core::report::{ActivityInfo, FactRef};
use senda_core::{Activity, Diagnostic};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The instrument of activities imported from IATI files.
pub const IATI_INSTRUMENT: &str = "foreign_assistance";

/// A file as the importer sees it.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// Canonical absolute path (the key; also the "document order" tie-breaker).
    pub path: String,
    /// xxh3-128 of the file's bytes, hex.
    pub content_hash: String,
    /// Size in bytes.
    pub size: u64,
    /// [`senda_iati::READER_VERSION`]-like number of the reader that read it.
    pub reader_version: u32,
}

/// An imported file as the coverage view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFileInfo {
    /// Canonical path.
    pub path: String,
    /// `iati-activities/@generated-datetime`, UTC RFC 3339; `None` when the file gives none (or
    /// it was imported before Senda recorded it and not read since).
    pub generated_datetime: Option<String>,
    /// When Senda last imported it (UTC RFC 3339).
    pub imported_at: String,
    /// Activities stored from it now.
    pub activities: u64,
    /// Reporting organisations of those activities: (ref, name, activities), by name.
    pub publishers: Vec<(Option<String>, String, u64)>,
}

/// What the store remembers of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Hash of the bytes imported.
    pub content_hash: String,
    /// Reader version.
    pub reader_version: u32,
    /// Activities stored from this file now (superseded duplicates not counted).
    pub activities: u64,
    /// Transactions of those activities.
    pub transactions: u64,
    /// Hash of the bytes imported without their timestamp values (`senda_iati::stamps`);
    /// `None` when not known.
    pub stable_hash: Option<String>,
}

/// What a file's import read (see [`Store::record_file_content`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileContent<'a> {
    /// Content hash of the bytes read.
    pub content_hash: &'a str,
    /// Their size.
    pub size: u64,
    /// `iati-activities/@generated-datetime` (UTC RFC 3339), when the file gives one.
    pub generated_datetime: Option<&'a str>,
    /// Their stable hash (`senda_iati::stamps`), when the scan could follow the file.
    pub stable_hash: Option<&'a str>,
}

/// The net change an import run made to the activities, identifier by identifier, from before
/// the run to after it (see [`Store::end_import_run`]): what the run's totals report, whatever
/// path the changes took (a row removed with its file and made again from another file's copy
/// is one update, or nothing if the content is the same).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetChange {
    /// Identifiers stored after the run and not before.
    pub created: u64,
    /// Identifiers stored before and after, whose activity differs (fingerprint).
    pub updated: u64,
    /// Identifiers stored before the run and not after.
    pub removed: u64,
    /// Transactions of the created and updated activities, as stored after the run.
    pub transactions: u64,
}

/// Why a file's import stopped (the store rolls the file back).
#[derive(Debug, Clone)]
pub struct FileAbort(pub Diagnostic);

/// What one file changed in the database. Counts equal the real change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOutcome {
    /// New identifiers.
    pub created: u64,
    /// Identifiers whose stored activity was replaced by a different one.
    pub updated: u64,
    /// Identifiers found identical to what was stored.
    pub unchanged: u64,
    /// Activities not stored because another activity with the same identifier wins
    /// (latest `last-updated-datetime`, then document order), or because they are identical
    /// to the stored copy of another file.
    pub superseded: u64,
    /// Activities of an earlier version of this file that are gone from it, deleted.
    pub removed: u64,
    /// Transactions stored (of created and updated activities).
    pub transactions: u64,
    /// Warnings about duplicate identifiers.
    pub diagnostics: Vec<Diagnostic>,
    /// Files holding another copy of an identifier this file no longer has (the copy that was
    /// stored came from this file): the caller reads them again, so that one of those copies
    /// becomes the activity (canonical paths, sorted).
    pub reread: Vec<String>,
}

/// An analyst's override of the rules' mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The activity.
    pub iati_identifier: String,
    /// Strategy id.
    pub strategy: String,
    /// The lines of effort the analyst decided (empty = not mapped).
    pub lines_of_effort: Vec<String>,
    /// Why.
    pub note: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
}

/// One entry of an activity's override history (`mapping_override_log`): what an analyst
/// decided, when and why. Kept for good: `map unset` adds an entry, it never deletes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideEvent {
    /// `"set"` (`senda map set`) or `"unset"` (`senda map unset`: the rules decide again).
    pub action: String,
    /// `set`: the lines of effort decided (empty = not mapped); `unset`: those the removed
    /// override held.
    pub lines_of_effort: Vec<String>,
    /// Why, as the analyst wrote it (`--note`; may be empty for `unset`).
    pub note: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// Filters for listing activities. `None` = any.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Strategy whose mapping is shown and filtered on.
    pub strategy: String,
    /// Line of effort id, or `NOT_MAPPED`.
    pub line_of_effort: Option<String>,
    /// ISO 3166-1 alpha-2 (activity or transaction level).
    pub country: Option<String>,
    /// Reporting organisation ref (exact) or name (case-insensitive substring).
    pub reporting_org: Option<String>,
    /// Words in the title or identifier (case-insensitive substring).
    pub text: Option<String>,
    /// `activity-status/@code`.
    pub status: Option<String>,
    /// Implementing organisations as attributed in the facts: an activity with money to any of
    /// these names (exact, ASCII letters in any case) matches; empty = no filter. Several
    /// names: the spellings one organisation is published under (`senda_core::orgs`).
    pub implementing_org: Vec<String>,
    /// U.S. fiscal years, inclusive (`(2022, 2024)` = FY2022 to FY2024): activities with a
    /// commitment, disbursement or expenditure dated in that range.
    pub fiscal_years: Option<(i32, i32)>,
    /// Only activities with a negative commitment or disbursement (U.S. de-obligations and
    /// returned funds: `transaction/value` below zero, transaction type 2 or 3).
    pub negative_money: bool,
    /// Order of the rows.
    pub sort: ActivitySort,
    /// Keyset pagination: only rows after this one in the chosen order.
    pub after: Option<ActivityCursor>,
    /// At most this many rows (`None` = all).
    pub limit: Option<u64>,
}

/// Orders of the activity list. Ties are broken by `iati-identifier`, so every order is total
/// and keyset pagination never skips or repeats a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivitySort {
    /// `iati-identifier`, ascending (default).
    #[default]
    Identifier,
    /// Title, ascending (case-insensitive).
    Title,
    /// Start date, newest first (activities without one last).
    StartDate,
    /// USD disbursements, largest first.
    Disbursements,
    /// USD commitments, largest first.
    Commitments,
}

impl ActivitySort {
    /// All orders, for help texts and the API schema.
    pub const ALL: [ActivitySort; 5] = [
        ActivitySort::Identifier,
        ActivitySort::Title,
        ActivitySort::StartDate,
        ActivitySort::Disbursements,
        ActivitySort::Commitments,
    ];
    /// The snake_case name used in URLs.
    pub fn name(self) -> &'static str {
        match self {
            ActivitySort::Identifier => "identifier",
            ActivitySort::Title => "title",
            ActivitySort::StartDate => "start_date",
            ActivitySort::Disbursements => "disbursements",
            ActivitySort::Commitments => "commitments",
        }
    }
    /// Parses a URL name; `None` when unknown.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
    /// The value of `row` this order sorts on (what a cursor keeps).
    pub fn value_of(self, row: &ActivityRow) -> String {
        match self {
            ActivitySort::Identifier => String::new(),
            // The key both backends sort titles on (see `rules::sort_key`).
            ActivitySort::Title => rules::sort_key::title_key(&row.title),
            ActivitySort::StartDate => row.start_date.clone(),
            ActivitySort::Disbursements => row.disbursements_usd.clone(),
            ActivitySort::Commitments => row.commitments_usd.clone(),
        }
    }
}

/// Where the previous page ended: the sort value and identifier of its last row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCursor {
    /// [`ActivitySort::value_of`] the last row.
    pub sort_value: String,
    /// `iati-identifier` of the last row.
    pub iati_identifier: String,
    /// Database id of the last row ([`ActivityRow::db_id`]), when known: finds the row in a
    /// cached list without a query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_id: Option<i64>,
}

/// Diagnostics of one publisher and severity.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// `reporting-org` name, else the file path.
    pub publisher: String,
    /// `warning` or `error`.
    pub severity: String,
    /// How many.
    pub count: u64,
}

/// Activities with an admin-1 location (department) in one country.
#[derive(Debug, Clone, Serialize)]
pub struct Department {
    /// `location/administrative[@level=1]/@vocabulary`.
    pub vocabulary: String,
    /// `location/administrative[@level=1]/@code`.
    pub code: String,
    /// Location names published for it (distinct, up to 3, `; `-separated).
    pub names: String,
    /// Distinct activities with a location there.
    pub activities: u64,
}

/// One row of the activity list.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityRow {
    /// `iati-identifier`.
    pub iati_identifier: String,
    /// Title (English or default language).
    pub title: String,
    /// `reporting-org` name.
    pub reporting_org: String,
    /// Countries named (activity or transaction level), `;`-separated.
    pub countries: String,
    /// Lines of effort after overrides, `;`-separated, empty when not mapped.
    pub lines_of_effort: String,
    /// True when an analyst's override decides the mapping.
    pub overridden: bool,
    /// `activity-status/@code`.
    pub status: String,
    /// Start date (actual, else planned), ISO.
    pub start_date: String,
    /// End date (actual, else planned), ISO.
    pub end_date: String,
    /// Sum of USD commitments (type 2), exact decimal.
    pub commitments_usd: String,
    /// Sum of USD disbursements (type 3).
    pub disbursements_usd: String,
    /// Sum of USD expenditures (type 4).
    pub expenditures_usd: String,
    /// Synthetic (demo) data.
    pub synthetic: bool,
    /// Row id in this database (not stable across databases; not exported).
    #[serde(skip)]
    pub db_id: i64,
}

/// Everything stored about one activity.
#[derive(Debug, Clone)]
pub struct ActivityDetail {
    /// The activity, transactions included.
    pub activity: Activity,
    /// The file it came from and its position there (0-based ordinal; readers are shown
    /// [`ActivityDetail::source_number`]).
    pub source: (String, u64),
    /// The rules' lines of effort for the strategy asked.
    pub rule_lines: Vec<String>,
    /// The rules' evidence.
    pub evidence: Vec<Evidence>,
    /// Rules that almost fired for lines the rules do not give (see
    /// [`senda_core::mapping::NearMiss`]).
    pub near_misses: Vec<senda_core::mapping::NearMiss>,
    /// The analyst's override, if any.
    pub override_: Option<Override>,
    /// Every override decision on this activity for the strategy asked, oldest first
    /// (including those since removed).
    pub override_log: Vec<OverrideEvent>,
    /// Synthetic (demo) data.
    pub synthetic: bool,
}

impl ActivityDetail {
    /// The activity's number in its file as every reader sees it (CLI `explain`, the activity
    /// page, the API's `source_position`, import messages' `activity #N`): 1 for the file's
    /// first `<iati-activity>`.
    pub fn source_number(&self) -> u64 {
        self.source.1 + 1
    }
}

/// A stored import run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: String,
    /// The report, as JSON.
    pub report: serde_json::Value,
}

/// The storage boundary. Every backend implements it; the conformance tests run on each.
/// Accounts (organisations, people, sessions, tokens, the audit trail) are its supertrait
/// [`accounts::AccountStore`], written once over both backends; interventions entered in
/// Senda are [`interventions::InterventionStore`], written the same way.
pub trait Store:
    accounts::AccountStore
    + interventions::InterventionStore
    + plan::PlanStore
    + overrides::OverrideStore
    + contributions::ContributionStore
    + reporting::ReportingStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Where the database is, for messages: a path, or `host:port/database` (never a password).
    fn location(&self) -> String;

    /// The schema version (number of migrations applied).
    fn schema_version(&self) -> Result<i64, StoreError>;

    /// The migrations that opening this store applied, oldest first (`senda migrate` says
    /// which); empty when the schema was up to date.
    fn applied_migrations(&self) -> &[String];

    /// Prepares a connection that a server keeps in its pool (SQLite: a smaller page cache per
    /// connection, the operating system caching the file for all of them).
    fn tune_for_pool(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Diagnostics of an import run, in the order they were saved.
    fn run_diagnostics(&self, run_id: i64) -> Result<Vec<Diagnostic>, StoreError>;

    /// Records that stored mappings of `strategy` were made with this definition fingerprint.
    fn set_strategy_fingerprint(&mut self, strategy: &str, fingerprint: &str) -> Result<(), StoreError>;

    /// Rows in each table of [`tables::TABLES`], in that order.
    fn table_counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError>;

    /// Streams every row of `table` to `f` (cells in the table's column order; diagnostics in
    /// the order they were saved).
    fn read_table(
        &self,
        table: &tables::Table,
        f: &mut dyn FnMut(Vec<tables::Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Fills the whole database from `fill` in one transaction (`senda copy`): refuses a
    /// database that holds any row ([`StoreError::NotEmpty`]) unless `replace`, which empties
    /// it first. Afterwards the data generation is past both the old one and the copied one,
    /// so no server serves a cached figure of what was there before.
    fn load_tables(
        &mut self,
        replace: bool,
        fill: &mut dyn FnMut(&mut dyn tables::RowSink) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// What was imported from this file before, if anything.
    fn file_state(&self, path: &str) -> Result<Option<StoredFile>, StoreError>;

    /// Starts an import run: the store notes, from here to [`Store::end_import_run`], the
    /// state before the run of every identifier the run's files change.
    fn begin_import_run(&mut self);

    /// Ends an import run: the net change since [`Store::begin_import_run`] (reads the
    /// activities the run changed once more).
    fn end_import_run(&mut self) -> Result<NetChange, StoreError>;

    /// Starts an import batch: the files imported until [`Store::end_import_batch`] are
    /// committed together (fewer commits: faster bulk imports). Each file stays atomic inside
    /// the batch: a rejected file is rolled back alone and the others of the batch are kept.
    /// A crash before the batch ends loses the whole batch (never part of a file); the next
    /// import reads those files again. Without a batch every file commits on its own.
    fn begin_import_batch(&mut self) -> Result<(), StoreError>;

    /// Commits the open import batch (no-op without one).
    fn end_import_batch(&mut self) -> Result<(), StoreError>;

    /// Ends the last batch of an import (commits it) and whatever the store runs during
    /// imports (the SQLite store checkpoints its write-ahead log on a thread of its own). Also
    /// ends the import's memory of which rows its files wrote.
    fn finish_import_batches(&mut self) -> Result<(), StoreError>;

    /// Imports one file atomically: pulls items until the iterator ends (commit) or yields a
    /// [`FileAbort`] (rollback; returns `Ok(None)`). Resolves duplicate identifiers.
    fn import_file(
        &mut self,
        file: &FileRecord,
        items: &mut dyn Iterator<Item = Result<ImportItem, FileAbort>>,
    ) -> Result<Option<FileOutcome>, StoreError>;

    /// Paths of every file imported so far (`source_file.path`: canonical, as given to
    /// [`Store::import_file`]), sorted.
    fn imported_files(&self) -> Result<Vec<String>, StoreError>;

    /// Forgets a file imported before (`senda import --prune`, for a file gone from its folder),
    /// atomically: the activities stored from it are deleted with all their rows (counted in
    /// [`FileOutcome::removed`]; [`FileOutcome::reread`] names the files holding another copy
    /// of one of them, to read again), and so are its record and its duplicate copies. Overrides
    /// stay (they are kept by identifier). A path never imported changes nothing.
    fn remove_file(&mut self, path: &str) -> Result<FileOutcome, StoreError>;

    /// Records the content hash and size of the bytes a file's import actually read (known only
    /// once the whole file is read: the import hashes a new file while parsing it). Call it
    /// after [`Store::import_file`] committed the file, inside the same batch. Until it is
    /// called the file's record holds the hash given to `import_file`; an empty hash never
    /// matches, so such a file is simply read again next time.
    fn record_file_content(&mut self, path: &str, content: &FileContent<'_>) -> Result<(), StoreError>;

    /// A known file whose bytes changed only in their timestamps (its stable hash is the one
    /// recorded): moves the stored timestamps and the file's record, nothing else, inside the
    /// current batch (see [`rules::restamp`]). `Ok(None)`: the shortcut does not apply and
    /// nothing was written; the caller imports the file in full. `Ok(Some(n))`: its `n`
    /// activities are unchanged.
    fn restamp_file(&mut self, r: &rules::restamp::Restamp) -> Result<Option<u64>, StoreError>;

    /// Every reporting organisation of the stored activities (`reporting-org/@ref` when
    /// published, and the name reports group by), sorted by name then ref.
    fn reporting_orgs(&self) -> Result<Vec<senda_core::orgs::KnownOrg>, StoreError>;

    /// Every imported file with its `generated-datetime`, import time and the reporting
    /// organisations of its stored activities (the coverage view), sorted by path.
    fn source_files(&self) -> Result<Vec<SourceFileInfo>, StoreError>;

    /// Stores an import run (report JSON and its diagnostics) and, in the same transaction,
    /// its audit event (`import.run` on `import_run:ID` by `actor`, the run's figures:
    /// `accounts::import_run_summary`); returns its id.
    fn save_run(
        &mut self,
        started_at: &str,
        finished_at: &str,
        report: &serde_json::Value,
        diagnostics: &[Diagnostic],
        actor: &accounts::Actor,
    ) -> Result<i64, StoreError>;

    /// Import runs, newest first.
    fn runs(&self, limit: u64) -> Result<Vec<RunRecord>, StoreError>;

    /// Report inputs, activity by activity: its key, reporting org and lines of effort
    /// (overrides applied) as stored, `;`-separated (`""`: not mapped).
    fn for_each_activity_info(&self, strategy: &str, f: &mut dyn FnMut(u32, &str, &str)) -> Result<(), StoreError>;

    /// Report inputs: per activity key, reporting org, lines of effort (overrides applied) and instrument.
    fn activity_infos(&self, strategy: &str) -> Result<HashMap<u32, ActivityInfo>, StoreError> {
        let mut out = HashMap::new();
        self.for_each_activity_info(strategy, &mut |id, org, lines| {
            let info = ActivityInfo {
                reporting_org: org.to_owned(),
                lines_of_effort: lines.split(';').filter(|l| !l.is_empty()).map(str::to_owned).collect(),
                instrument: IATI_INSTRUMENT.into(),
            };
            out.insert(id, info);
        })?;
        Ok(out)
    }

    /// Report inputs as a reader keeps them in memory (activities sharing their inputs share one entry).
    fn activity_classes(&self, strategy: &str) -> Result<senda_core::facts::ActivityClasses, StoreError> {
        let mut out = senda_core::facts::ActivityClasses::new();
        self.for_each_activity_info(strategy, &mut |id, org, lines| out.insert_raw(id, org, lines, IATI_INSTRUMENT))?;
        out.compact();
        Ok(out)
    }

    /// The review queue's inputs under `strategy` ([`review`]): every activity whose stored
    /// mapping has a weak line of effort or whose rules almost fired, as stored (the rules'
    /// result; overrides are not applied), by database id.
    fn for_each_review_signal(&self, strategy: &str, f: &mut dyn FnMut(ReviewSignal<'_>)) -> Result<(), StoreError>;

    /// The lines of effort of every mapped activity under `strategy` (overrides applied), as
    /// stored: `;`-separated, `""` for an activity an override says is not mapped.
    fn for_each_mapping(&self, strategy: &str, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError>;

    /// The reporting organisation (name) of every activity with an id in `lo..hi`.
    fn for_each_activity_org_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(u32, &str)) -> Result<(), StoreError>;

    /// Every fact segment: number, version, stale or not (see [`rules::segments`]), ascending.
    fn fact_segment_states(&self) -> Result<Vec<SegmentState>, StoreError>;

    /// The stored value of segment `segment`, if it has a row.
    fn fact_segment_bytes(&self, segment: u32) -> Result<Option<Vec<u8>>, StoreError>;

    /// Streams the facts of activities with ids in `lo..hi` to `f`, activity by activity.
    fn for_each_fact_between(&self, lo: u32, hi: u32, f: &mut dyn FnMut(FactRef<'_>)) -> Result<(), StoreError>;

    /// Rewrites every stale fact segment from the facts (one write transaction); returns how
    /// many. Run after writes that change facts (`senda import`, `remove`, `copy`, `migrate`);
    /// until it runs, readers build stale segments from the facts themselves, which is slower.
    fn refresh_fact_segments(&mut self) -> Result<u64, StoreError>;

    /// Streams every fact to `f`.
    /// `sector` and `implementing_org` are read only when asked (`with_sector`,
    /// `with_implementing_org`); otherwise they are `""`, which keeps big reports fast.
    fn for_each_fact(
        &self,
        with_sector: bool,
        with_implementing_org: bool,
        f: &mut dyn FnMut(FactRef<'_>),
    ) -> Result<(), StoreError>;

    /// Lists activities (sorted by identifier).
    fn list_activities(&self, filter: &ActivityFilter) -> Result<Vec<ActivityRow>, StoreError>;

    /// The database ids and identifiers of the activities matching `filter`, in its order
    /// (`after` honoured), at most `filter.limit` of them: what a reader keeps to page through
    /// a filtered list without re-running the filter.
    fn matching_activity_ids(&self, filter: &ActivityFilter) -> Result<Vec<i64>, StoreError>;

    /// The database id of the activity with this `iati-identifier`, if stored.
    fn activity_db_id(&self, iati_identifier: &str) -> Result<Option<i64>, StoreError>;

    /// List rows of the activities with these database ids, in the order given (ids that do not
    /// exist are skipped).
    fn activity_rows(&self, strategy: &str, ids: &[i64]) -> Result<Vec<ActivityRow>, StoreError>;

    /// How many activities match `filter` (its `after`, `sort` and `limit` are ignored).
    fn count_activities_matching(&self, filter: &ActivityFilter) -> Result<u64, StoreError>;

    /// A number that grows with every committed write (import, override, remap): equal numbers
    /// mean equal data, so readers may cache what they computed from it.
    fn generation(&self) -> Result<i64, StoreError>;

    /// Admin-1 locations (departments) of activities in `country` (ISO 3166-1 alpha-2), most
    /// activities first.
    fn departments(&self, country: &str) -> Result<Vec<Department>, StoreError>;

    /// Warnings and errors of all import runs by publisher and severity (a diagnostic repeated
    /// by several runs counts once), most first. The publisher is the `reporting-org` name of
    /// the activity the diagnostic names, else the file.
    fn data_quality(&self) -> Result<Vec<QualityRow>, StoreError>;

    /// One activity with its mapping for `strategy`.
    fn activity(&self, iati_identifier: &str, strategy: &str) -> Result<ActivityDetail, StoreError>;

    /// The fingerprint of the strategy definition the stored mappings were made with.
    fn strategy_fingerprint(&self, strategy: &str) -> Result<Option<String>, StoreError>;

    /// Re-maps every stored activity with `map` and records the strategy fingerprint.
    fn remap(
        &mut self,
        strategy: &str,
        fingerprint: &str,
        map: &dyn Fn(&Activity) -> Mapping,
    ) -> Result<u64, StoreError>;

    /// Number of activities stored.
    fn count_activities(&self) -> Result<u64, StoreError>;

    /// Whether the database holds `(any synthetic, any real)` activities.
    fn synthetic_presence(&self) -> Result<(bool, bool), StoreError>;

    /// Writes one file's (or API call's) statistics or indicator values atomically. For a
    /// file: values of its previous import that it no longer has are deleted; if the content
    /// hash is unchanged nothing is written (`same_file`). A key already stored from another
    /// file or the API is replaced, with a warning in `replaced`.
    fn import_values(&mut self, batch: &ValueBatch) -> Result<ValuesOutcome, StoreError>;

    /// The stored version of `def` (strategy, code, measurement fingerprint), created as the
    /// next version when its measurement fingerprint is new.
    fn ensure_indicator_definition(
        &mut self,
        strategy: &str,
        def: &senda_core::indicator::IndicatorDef,
    ) -> Result<DefinitionVersion, StoreError>;

    /// Every stored definition version of the strategy's indicators, by code, oldest first.
    fn indicator_versions(&self, strategy: &str) -> Result<HashMap<String, Vec<DefinitionVersion>>, StoreError>;

    /// Stored values, ordered by series, place, period.
    fn observations(&self, filter: &ObservationFilter) -> Result<Vec<StoredObservation>, StoreError>;

    /// Statistic series with counts and period range.
    fn stat_series(&self) -> Result<Vec<SeriesSummary>, StoreError>;

    /// Imported statistics/results files, newest first.
    fn value_files(&self) -> Result<Vec<ValueFileRecord>, StoreError>;

    /// `iati-identifier`s of activities with IATI results, mapped by `strategy` to
    /// `line_of_effort` (after overrides) when given and naming `country` when given.
    fn activities_with_results(
        &self,
        strategy: &str,
        line_of_effort: Option<&str>,
        country: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;
}

/// What [`copy_database`] moved and checked.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Rows per table in the source and the target after the copy (equal when the copy is good).
    pub tables: Vec<(String, u64, u64)>,
    /// Per built-in strategy: the report by line of effort, country and fiscal year, as CSV-like
    /// text, equal on both sides.
    pub reports_equal: Vec<(String, bool)>,
}

impl CopyReport {
    /// True when every count and every report is equal on both sides.
    pub fn ok(&self) -> bool {
        self.tables.iter().all(|(_, a, b)| a == b) && self.reports_equal.iter().all(|(_, e)| *e)
    }
}

/// Copies the whole database `from` into `to` (any backends), then proves it: rows per table
/// and the portfolio report of every built-in strategy (by line of effort, country and fiscal
/// year, every amount exact) equal on both sides. `to` must be empty unless `replace`.
pub fn copy_database(from: &dyn Store, to: &mut dyn Store, replace: bool) -> Result<CopyReport, StoreError> {
    to.load_tables(replace, &mut |sink| {
        for t in tables::TABLES {
            from.read_table(t, &mut |cells| sink.row(t, cells))?;
        }
        Ok(())
    })?;
    // Segments that were stale in the source are rebuilt in the target (the copy's reports
    // below do not read them; servers on the target do).
    to.refresh_fact_segments()?;
    let (a, b) = (from.table_counts()?, to.table_counts()?);
    let tables = a.iter().zip(&b).map(|((n, x), (_, y))| ((*n).to_owned(), *x, *y)).collect();
    let mut reports_equal = Vec::new();
    for st in senda_core::Strategy::all_builtin()
        .map_err(|e| StoreError::Corrupt { record: "built-in strategies".into(), message: e.to_string() })?
    {
        use senda_core::report::Dimension;
        let dims = || vec![Dimension::LineOfEffort, Dimension::Country, Dimension::FiscalYear];
        let ra = build_report(from, &st.id, dims(), false, Default::default())?;
        let rb = build_report(&*to, &st.id, dims(), false, Default::default())?;
        reports_equal.push((st.id.clone(), format!("{ra:?}") == format!("{rb:?}")));
    }
    Ok(CopyReport { tables, reports_equal })
}

/// Loads every fact of the store into memory, from its fact segments (see
/// [`rules::segments::load`], which also reuses a previous load), for readers that report many
/// times over the same data generation.
pub fn load_facts(store: &dyn Store) -> Result<senda_core::facts::FactTable, StoreError> {
    Ok(rules::segments::load(store, None)?.table)
}

/// What reports need of the activities with facts in `table` under `strategy`: organisations
/// from the segments, lines of effort from the mapping ([`Store::for_each_mapping`]). Reads no
/// activity row (a server at a million activities starts faster).
pub fn activity_classes_for(
    store: &dyn Store,
    strategy: &str,
    table: &senda_core::facts::FactTable,
) -> Result<senda_core::facts::ActivityClasses, StoreError> {
    let mut lines = senda_core::facts::LineSets::new();
    store.for_each_mapping(strategy, &mut |id, l| lines.set(id, l))?;
    lines.finish();
    Ok(senda_core::facts::ActivityClasses::from_table(table, &lines, IATI_INSTRUMENT))
}

/// One fact segment's state (see [`Store::fact_segment_states`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentState {
    /// Segment number: activity ids `segment * SEGMENT_SPAN ..`.
    pub segment: u32,
    /// Moves on with every change of the segment.
    pub version: i64,
    /// The facts changed since the stored value was written.
    pub stale: bool,
}

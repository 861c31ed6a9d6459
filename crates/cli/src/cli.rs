//! Command-line definitions (clap). Every option is explained in `senda --help` and in each
//! subcommand's help.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Senda: plan, coordinate and monitor a migration-management strategy. Loads published aid
/// data (IATI), maps it onto the strategy's lines of effort with the reason for each mapping,
/// and reports money by line of effort, country and fiscal year.
#[derive(Debug, Parser)]
#[command(name = "senda", version, about, long_about = None)]
pub struct Cli {
    /// The database: an SQLite file (a path, or sqlite://PATH) or a PostgreSQL database
    /// (postgres://USER@HOST:PORT/DATABASE; the password from the URL, PGPASSWORD or
    /// ~/.pgpass). Default: ./senda.db (./senda-demo.db for `senda demo`). Commands that only
    /// read refuse a database that does not exist. Not used by `strategy` and `generate`.
    #[arg(long, global = true, env = "SENDA_DB", value_name = "PATH_OR_URL")]
    pub db: Option<String>,
    /// Log more (debug level). `SENDA_LOG` accepts a tracing filter too.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned terminal table with thousands separators (money rounded to the dollar).
    Table,
    /// CSV with snake_case columns, exact amounts.
    Csv,
    /// JSON, exact amounts as strings.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import IATI activity files (2.01-2.03 and 1.0x). Each file is atomic; unchanged files are skipped.
    ///
    /// Exit status: 0 when every file and activity read imported (warnings allowed), 1 when a
    /// file or an activity was rejected or a folder could not be listed (the files found
    /// elsewhere still import), 2 on a usage or database error (e.g. another senda
    /// process holds the database). Unchanged files are not read again, so a second run over
    /// the same files exits 0 even if the first exited 1.
    Import(ImportArgs),
    /// Report commitments, disbursements, expenditures and activities, grouped and filtered.
    Report(ReportArgs),
    /// List activities with their lines of effort.
    Activities(ActivitiesArgs),
    /// Explain why an activity maps (or not) to lines of effort: rule, field, matched value.
    Explain(ExplainArgs),
    /// An analyst's override of the mapping rules (survives re-imports).
    #[command(subcommand)]
    Map(MapCommand),
    /// Strategies built into Senda.
    #[command(subcommand)]
    Strategy(StrategyCommand),
    /// Past import runs and their reports.
    Imports(ImportsArgs),
    /// Data coverage: which publishers have data for which focus country and fiscal years,
    /// the expected publishers a focus country lacks (from the strategy file), and each
    /// imported file's generated-datetime.
    Coverage(CoverageArgs),
    /// Serve the dashboard (English/Spanish) and the JSON API (/api/v1) over the database.
    Serve(ServeArgs),
    /// Create the database if it does not exist and apply pending schema migrations, saying
    /// which. Every other command refuses a database of a newer schema than it knows.
    Migrate,
    /// Copy a whole database to another (SQLite to PostgreSQL and back), then prove it: rows
    /// per table and the report of every strategy equal on both sides, printed.
    ///
    /// Exit status: 0 when the copy is proven equal, 1 when a count or a report differs,
    /// 2 on a usage or database error (a non-empty target without --replace: nothing written).
    Copy(CopyArgs),
    /// Build a demo database from a deterministic synthetic sample, print the portfolio report
    /// and serve the dashboard over it (until Ctrl-C; `--no-serve` to stop after the report).
    Demo(DemoArgs),
    /// Write a synthetic IATI file (labelled synthetic) for demos, tests and benchmarks.
    Generate(GenerateArgs),
    /// Migration statistics (CBP and DHS OHSS encounters, any HXL-tagged CSV): import, list, export.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Indicator values (baselines, targets, actuals) from CSV or HXL-tagged CSV: import, export.
    #[command(subcommand)]
    Results(ResultsCommand),
    /// Progress of the strategy's indicators (latest actual against baseline and target, on
    /// track or not) and their context statistics.
    Indicators(IndicatorsArgs),
    /// People and their roles (the first administrator is made here); passwords are read from
    /// standard input or a prompt, never from arguments.
    #[command(subcommand)]
    User(crate::accounts::UserCommand),
    /// Organisations: add, list, adopt those of imported IATI data by identifier.
    #[command(subcommand)]
    Organisation(crate::accounts::OrganisationCommand),
    /// API tokens for scripts: add (the secret is printed once), list, revoke.
    #[command(subcommand)]
    Token(crate::accounts::TokenCommand),
    /// The audit trail: who changed what, when, with the values before and after.
    Audit(crate::accounts::AuditArgs),
    /// Interventions entered in Senda, of every instrument (diplomacy, foreign assistance,
    /// public messaging, immigration initiatives): add from a JSON or TOML file, list, show,
    /// move through review (draft, submitted, approved, published).
    #[command(subcommand)]
    Intervention(crate::interventions::InterventionCommand),
    /// Partner contributions (informing, political will, resources mobilised) to a line of
    /// effort or an intervention: add from a JSON or TOML file, list, publish.
    #[command(subcommand)]
    Contribution(crate::contributions::ContributionCommand),
    /// The plan: requirements (money needed) per line of effort, country and fiscal year, and
    /// the funding gap against what is committed.
    #[command(subcommand)]
    Plan(crate::plan::PlanCommand),
    /// The reporting cycle: reporting periods, indicator actuals submitted by partners per
    /// period and department, approved or returned by a coordinator, locked periods, and what
    /// is due and overdue.
    #[command(subcommand)]
    Reporting(crate::reporting::ReportingCommand),
}

/// `senda stats ...`.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Import statistics files: the CBP southwest border encounters CSV, the CBP nationwide
    /// encounters CSV, the DHS OHSS encounters workbook (XLSX, sheet "Monthly Citizenship"), or
    /// an HXL-tagged CSV (#date, #country+code or +name, #adm1, #indicator+code, #indicator+value).
    /// The format is detected from the content. Each file is atomic; re-importing a changed
    /// file replaces its values. Exit status 1 when a file was refused.
    Import {
        /// Files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print the report as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// List the statistic series held: code, name, unit, number of values, period range, countries.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write stored statistics: CSV columns series, country (ISO 3166-1 alpha-2), admin1,
    /// place, period (2023-10, 2023-Q4, FY2024), period_start, disaggregation, kind, value,
    /// denominator, origin (file:row).
    Export {
        /// Only these series (comma-separated codes, see `senda stats list`).
        #[arg(long, value_delimiter = ',')]
        series: Vec<String>,
        /// Only this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// csv or json.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
}

/// Export formats of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CSV, exact values.
    Csv,
    /// JSON, exact values as strings.
    Json,
}

/// `senda results ...`.
#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Import baselines, targets and actuals of the strategy's indicators from CSV (columns
    /// indicator, country, admin1, period, kind, value, denominator, sex, age_group,
    /// population_group) or HXL-tagged CSV (#indicator+code, #country+code, #adm1+code, #date,
    /// #indicator+value+baseline / +target / +actual, disaggregation attributes +f +m
    /// +children +adults +returnees +refugees +asylum_seekers +idps +migrants). Values are tied
    /// to the indicator definition version they are reported under. Exit status 1 when a file
    /// was refused.
    Import {
        /// Files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Strategy whose indicators the values belong to.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// Print the report as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Write a CSV template of the strategy's result indicators (one row per indicator, focus
    /// country and kind: baseline, target, actual), in the columns `results import` reads: fill
    /// in period and value, then import it.
    Template {
        /// Strategy whose indicators are listed.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// File to write (default: standard output).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Write stored indicator values (same columns as `senda stats export`).
    Export {
        /// Only these indicators (comma-separated codes).
        #[arg(long, value_delimiter = ',')]
        indicator: Vec<String>,
        /// Only this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// csv or json.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
}

/// `senda indicators`.
#[derive(Debug, Args)]
pub struct IndicatorsArgs {
    /// Strategy whose indicators are shown.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// One country (ISO 3166-1 alpha-2); default: the strategy's focus countries together.
    #[arg(long)]
    pub country: Option<String>,
    /// One department (ISO 3166-2, e.g. GT-GU).
    #[arg(long, conflicts_with = "country")]
    pub department: Option<String>,
    /// Only this line of effort.
    #[arg(long)]
    pub line_of_effort: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `senda import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders (searched recursively for *.xml).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Re-read files even when their content is unchanged since the last import.
    #[arg(long)]
    pub force: bool,
    /// Also forget the files imported before from under the folders given that no longer
    /// exist (deleted, moved, renamed): their activities are deleted, so the database mirrors
    /// the folders. Files under a folder that cannot be read are kept.
    #[arg(long)]
    pub prune: bool,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar (plain log lines instead).
    #[arg(long)]
    pub no_progress: bool,
}

/// Filters shared by reports and lists.
#[derive(Debug, Args, Default, Clone)]
pub struct Filters {
    /// Only these lines of effort (comma-separated ids, or NOT_MAPPED).
    #[arg(long, value_delimiter = ',')]
    pub line_of_effort: Vec<String>,
    /// Only these countries (ISO 3166-1 alpha-2, REGIONAL or UNKNOWN; comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub country: Vec<String>,
    /// Only these fiscal years (or calendar years with --calendar-year): `2023`, `2020..2024`, or a comma list.
    #[arg(long)]
    pub fiscal_year: Option<String>,
    /// Only these reporting organisations, comma-separated: IATI organisation identifier
    /// (US-GOV-1), name as published, or acronym (USAID, State, DoD, MCC...). An unknown one is
    /// an error with suggestions.
    #[arg(long, value_delimiter = ',')]
    pub reporting_org: Vec<String>,
    /// Only these implementing organisations, comma-separated: name as published or acronym
    /// (IOM, UNHCR, WFP...).
    #[arg(long, value_delimiter = ',')]
    pub implementing_org: Vec<String>,
    /// Only these instruments (e.g. foreign_assistance).
    #[arg(long, value_delimiter = ',')]
    pub instrument: Vec<String>,
    /// Only these DAC 5-digit sectors.
    #[arg(long, value_delimiter = ',')]
    pub sector: Vec<String>,
    /// Only records of this source: `iati` (imported activities) or `entered` (interventions
    /// entered in Senda); comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub source: Vec<String>,
    /// Reports also count entered interventions that are not published yet (drafts, submitted,
    /// approved). By default a report shows what the public may see: published ones only.
    #[arg(long)]
    pub include_unpublished: bool,
}

/// `senda report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Group by: line_of_effort, country, fiscal_year, reporting_org, implementing_org, instrument, sector, source (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "line_of_effort")]
    pub by: Vec<String>,
    /// Strategy whose lines of effort are used.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// Years are calendar years instead of U.S. fiscal years (October-September).
    #[arg(long)]
    pub calendar_year: bool,
    /// Gross parts beside the net: obligations and de-obligations (negative commitments),
    /// gross disbursements and returns (negative disbursements), in separate columns that
    /// add up to the net `commitments_usd` and `disbursements_usd`.
    #[arg(long)]
    pub gross: bool,
    /// Output format. `html`, `pdf` and `xlsx` write the printable progress report (a fixed
    /// layout: `--by`, `--calendar-year` and the filters do not apply) to `--output`.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// File the printable report is written to (html, pdf, xlsx). Default:
    /// senda-report.html, senda-report.pdf or senda-report.xlsx.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Language of the printable report: en or es (es-GT, es-HN, es-SV write 1,234.5 as their
    /// CLDR locales do; es writes 1.234,5).
    #[arg(long, default_value = "en", value_name = "LANG")]
    pub lang: String,
    /// Filters.
    #[command(flatten)]
    pub filters: Filters,
}

/// Output formats of `senda report`: the tables of [`Format`], and the printable report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned terminal table with thousands separators (money rounded to the dollar).
    Table,
    /// CSV with snake_case columns, exact amounts.
    Csv,
    /// JSON, exact amounts as strings.
    Json,
    /// The printable progress report: one self-contained HTML file.
    Html,
    /// The printable progress report as PDF (A4), printed by headless Chromium.
    Pdf,
    /// The report's tables as an Excel workbook (Summary, Money, Indicators, Context, Activities).
    Xlsx,
}

impl ReportFormat {
    /// The table format, for `table`, `csv` and `json`; `None` for the printable formats.
    pub fn table_format(self) -> Option<Format> {
        match self {
            ReportFormat::Table => Some(Format::Table),
            ReportFormat::Csv => Some(Format::Csv),
            ReportFormat::Json => Some(Format::Json),
            ReportFormat::Html | ReportFormat::Pdf | ReportFormat::Xlsx => None,
        }
    }
}

/// `senda activities`.
#[derive(Debug, Args)]
pub struct ActivitiesArgs {
    /// Strategy whose lines of effort are shown.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// Only this line of effort (or NOT_MAPPED).
    #[arg(long)]
    pub line_of_effort: Option<String>,
    /// Only activities naming this country (activity or transaction level).
    #[arg(long)]
    pub country: Option<String>,
    /// Only this reporting organisation: IATI organisation identifier (US-GOV-1), name as
    /// published, or acronym (USAID). An unknown one is an error with suggestions.
    #[arg(long)]
    pub reporting_org: Option<String>,
    /// Only activities with money in these U.S. fiscal years: `2023`, `FY2023` or
    /// `2020..2024` (years in full: `23` is an error).
    #[arg(long)]
    pub fiscal_year: Option<String>,
    /// Only activities whose title or identifier contains this text.
    #[arg(long)]
    pub text: Option<String>,
    /// Only this activity-status code (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled, 6 suspended).
    #[arg(long)]
    pub status: Option<String>,
    /// Only activities with a negative commitment or disbursement (U.S. de-obligations and
    /// returned funds).
    #[arg(long)]
    pub negative_money: bool,
    /// At most this many rows. Default: 50 for the table, all for CSV and JSON.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `senda explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The activity's iati-identifier.
    pub identifier: String,
    /// Strategy.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// Language of the explanation: en or es (es-GT and the like are accepted).
    #[arg(long, default_value = "en", value_name = "LANG")]
    pub lang: String,
}

/// `senda map`.
#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Decide an activity's lines of effort (replaces the rules' result). `--none` = not mapped.
    Set {
        /// The activity's iati-identifier.
        identifier: String,
        /// Line-of-effort ids (e.g. LOE5 LOE6).
        lines_of_effort: Vec<String>,
        /// Decide that the activity maps to no line of effort.
        #[arg(long, conflicts_with = "lines_of_effort")]
        none: bool,
        /// Why (required: kept as evidence).
        #[arg(long, required = true)]
        note: String,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// The review queue: weak-only mappings and activities the rules almost mapped (a veto that
    /// fired, a phrase in a field its rule does not search), largest money at stake first
    /// (the larger of USD commitments and disbursements). Activities an analyst decided are
    /// left out. Each entry shows its evidence and the `senda map set` command that decides it.
    Review(ReviewArgs),
    /// Remove the override: the rules decide again. The removal is kept in the activity's
    /// override history (`senda explain` shows it).
    Unset {
        /// The activity's iati-identifier.
        identifier: String,
        /// Why (optional; kept in the override history).
        #[arg(long, default_value = "")]
        note: String,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
}

/// `senda map review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Only entries about this line of effort (a weak mapping to it, or a near miss for it).
    #[arg(long)]
    pub line_of_effort: Option<String>,
    /// Only activities naming this country (ISO 3166-1 alpha-2, activity or transaction level).
    #[arg(long)]
    pub country: Option<String>,
    /// Strategy.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// At most this many entries. Default: 20 for the table, all for CSV and JSON.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output format (the table shows each entry's evidence and command).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `senda strategy`.
#[derive(Debug, Subcommand)]
pub enum StrategyCommand {
    /// List built-in strategies.
    List,
    /// Show a strategy: lines of effort with scope notes, instruments, partners, rules.
    Show {
        /// Strategy id (cmms-2021, rc-2021).
        id: String,
    },
}

/// `senda coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Strategy whose focus countries and expected publishers are used.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// Output format (CSV: one row per publisher and country, gaps as rows with 0 activities).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `senda imports`.
#[derive(Debug, Args)]
pub struct ImportsArgs {
    /// Show this run's report and every diagnostic (as text; JSON with --json).
    #[arg(long)]
    pub run: Option<i64>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// With --run: print one JSON object (run id, start and end, report, diagnostics).
    #[arg(long, requires = "run")]
    pub json: bool,
}

/// `senda demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of synthetic activities.
    #[arg(long, default_value_t = 400)]
    pub activities: u64,
    /// Random seed (the sample is deterministic for a given seed and size).
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Address to serve the dashboard on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Build the database and print the report, but do not serve it.
    #[arg(long)]
    pub no_serve: bool,
    /// A host name (or IP address) browsers may use to reach the dashboard, besides the listen
    /// address and `localhost` (repeatable). Requests naming another host in `Host` are refused
    /// (400), which keeps hostile web pages out through DNS rebinding.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
}

/// `senda serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port). Senda has no
    /// accounts yet: bind to a public address only behind an authenticating proxy.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// A host name (or IP address) browsers may use to reach the dashboard, besides the listen
    /// address and `localhost` (repeatable; the port is not compared). Requests naming another
    /// host in `Host`, or none, are refused (400), which keeps hostile web pages out through
    /// DNS rebinding. Behind a proxy, give the name users type.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
}

/// `senda copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The database to copy (a path, sqlite://PATH or postgres://...). Default: --db.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub from: Option<String>,
    /// The database to copy into (created and migrated if needed). It must be empty unless
    /// --replace.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub to: String,
    /// Empty the target first (everything in it is replaced by the copy).
    #[arg(long)]
    pub replace: bool,
}

/// `senda generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output file (IATI 2.03 XML).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Number of activities.
    #[arg(long, default_value_t = 1000)]
    pub activities: u64,
    /// Transactions per activity (default: 2 to 12, varying).
    #[arg(long)]
    pub transactions_per_activity: Option<u64>,
    /// Random seed.
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

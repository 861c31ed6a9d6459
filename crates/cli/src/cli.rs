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
    /// SQLite database file. Default: ./senda.db (./senda-demo.db for `senda demo`). Commands
    /// that only read refuse a path that does not exist. Not used by `strategy` and `generate`.
    #[arg(long, global = true, env = "SENDA_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
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
    /// Exit status: 0 when every file imported (warnings allowed), 1 when any file was rejected.
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
    /// Serve the dashboard (English/Spanish) and the JSON API (/api/v1) over the database.
    Serve(ServeArgs),
    /// Build a demo database from a deterministic synthetic sample, print the portfolio report
    /// and serve the dashboard over it (until Ctrl-C; `--no-serve` to stop after the report).
    Demo(DemoArgs),
    /// Write a synthetic IATI file (labelled synthetic) for demos, tests and benchmarks.
    Generate(GenerateArgs),
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
    /// Only these reporting organisations (names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub reporting_org: Vec<String>,
    /// Only these implementing organisations (names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub implementing_org: Vec<String>,
    /// Only these instruments (e.g. foreign_assistance).
    #[arg(long, value_delimiter = ',')]
    pub instrument: Vec<String>,
    /// Only these DAC 5-digit sectors.
    #[arg(long, value_delimiter = ',')]
    pub sector: Vec<String>,
}

/// `senda report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Group by: line_of_effort, country, fiscal_year, reporting_org, implementing_org, instrument, sector (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "line_of_effort")]
    pub by: Vec<String>,
    /// Strategy whose lines of effort are used.
    #[arg(long, default_value = "cmms-2021")]
    pub strategy: String,
    /// Years are calendar years instead of U.S. fiscal years (October-September).
    #[arg(long)]
    pub calendar_year: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Filters.
    #[command(flatten)]
    pub filters: Filters,
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
    /// Only this reporting organisation (ref, or part of the name).
    #[arg(long)]
    pub reporting_org: Option<String>,
    /// Only activities whose title or identifier contains this text.
    #[arg(long)]
    pub text: Option<String>,
    /// Only this activity-status code (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled, 6 suspended).
    #[arg(long)]
    pub status: Option<String>,
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
    /// Remove the override: the rules decide again.
    Unset {
        /// The activity's iati-identifier.
        identifier: String,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
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

/// `senda imports`.
#[derive(Debug, Args)]
pub struct ImportsArgs {
    /// Show this run's full report and diagnostics.
    #[arg(long)]
    pub run: Option<i64>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
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
}

/// `senda serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port). Senda has no
    /// accounts yet: bind to a public address only behind an authenticating proxy.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
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

//! `senda plan` (issue 18, item 4): the plan's requirements (money needed per line of effort ×
//! country × fiscal year) and its funding gap. Each requirement is checked by
//! `senda_core::plan::parse_requirement`, the one check of every way in; a CSV file is imported
//! whole or not at all, every problem named with its file, line and column.

use crate::commands::{open_existing_store, open_store};
use crate::format::table;
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::plan::{GapGrouping, GapRow, Requirement, RequirementInput, funding_gap, parse_requirement};
use senda_core::report::{Dimension, Filters};
use senda_store::accounts::Actor;
use senda_store::plan::SetOutcome;
use std::path::{Path, PathBuf};

/// Largest requirements file read (bytes).
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// The columns of a requirements CSV file, in this order (a header row names them).
pub const CSV_COLUMNS: [&str; 7] = ["line_of_effort", "country", "fiscal_year", "amount", "currency", "source", "note"];

/// One requirement on the command line.
#[derive(Debug, Args)]
pub struct RequirementArgs {
    /// Line of effort id (e.g. LOE1).
    #[arg(long)]
    pub line_of_effort: String,
    /// Country: ISO 3166-1 alpha-2 (GT, HN, SV).
    #[arg(long)]
    pub country: String,
    /// U.S. fiscal year: 2024 or FY2024.
    #[arg(long)]
    pub fiscal_year: String,
    /// Money needed: a plain decimal number (1500000.50).
    #[arg(long)]
    pub amount: String,
    /// ISO 4217 currency.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Where the figure comes from (a plan, a budget request, an assessment).
    #[arg(long)]
    pub source: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

/// Output formats of `senda plan list` and `senda plan gap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Aligned table.
    Table,
    /// CSV, exact amounts.
    Csv,
    /// JSON, exact amounts as strings.
    Json,
}

/// `senda plan ...`.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Set the requirement of one line of effort, country and fiscal year (replaces the one
    /// there; audited with the value before).
    Set {
        /// The requirement.
        #[command(flatten)]
        requirement: RequirementArgs,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// Import requirements from a CSV file with the columns line_of_effort, country,
    /// fiscal_year, amount, currency, source, note (a header row first): all rows or none.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// Remove the requirement of one cell.
    Remove {
        /// Line of effort id.
        #[arg(long)]
        line_of_effort: String,
        /// Country code.
        #[arg(long)]
        country: String,
        /// Fiscal year.
        #[arg(long)]
        fiscal_year: i32,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// List the requirements.
    List {
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
        format: PlanFormat,
    },
    /// The funding gap: requirement, committed, disbursed, gap and percent funded, by line of
    /// effort, country and/or fiscal year; money in cells without a requirement apart.
    Gap {
        /// Group by: any of line_of_effort, country, fiscal_year (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "line_of_effort")]
        by: Vec<String>,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// Also count entered interventions that are not published yet.
        #[arg(long)]
        include_unpublished: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
        format: PlanFormat,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn check(input: &RequirementInput<'_>, st: &Strategy, place: &str) -> Result<Requirement, Vec<String>> {
    parse_requirement(input, st).map_err(|e| e.0.iter().map(|f| format!("{place}{}: {}", f.field, f)).collect())
}

/// Reads a requirements CSV file: every requirement, or every problem (file, line, column,
/// field).
pub fn read_csv(path: &Path, st: &Strategy) -> Result<Vec<Requirement>> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!("{name}: {} bytes; a requirements file may hold at most {MAX_FILE_BYTES}", meta.len());
    }
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| anyhow::anyhow!("{name}: line 1: not CSV: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |c: &str| header.iter().position(|h| h == c);
    let missing: Vec<&str> = CSV_COLUMNS[..6].iter().copied().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        bail!(
            "{name}: line 1: the header lacks the column(s) {} (expected: {})",
            missing.join(", "),
            CSV_COLUMNS.join(",")
        );
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{name}: line {line}: not CSV: {e}"));
                continue;
            }
        };
        let get = |c: &str| col(c).and_then(|i| rec.get(i)).unwrap_or("");
        let input = RequirementInput {
            line_of_effort: get("line_of_effort"),
            country: get("country"),
            fiscal_year: get("fiscal_year"),
            amount: get("amount"),
            currency: get("currency"),
            source: get("source"),
            note: get("note"),
        };
        match parse_requirement(&input, st) {
            Ok(r) => {
                let cell = (r.line_of_effort.clone(), r.country, r.fiscal_year);
                if let Some(first) = seen.insert(cell, line) {
                    problems.push(format!(
                        "{name}: line {line}: {} {} FY{} is already set on line {first}",
                        r.line_of_effort,
                        r.country.as_str(),
                        r.fiscal_year
                    ));
                } else {
                    out.push(r);
                }
            }
            Err(e) => {
                for f in e.0 {
                    let column = col(&f.field).map_or(0, |c| c + 1);
                    problems.push(format!(
                        "{name}: line {line}, column {column} ({}): {}",
                        f.field,
                        f.message(senda_core::intervention::Lang::En)
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        bail!("{} problem(s), nothing imported:\n{}", problems.len(), problems.join("\n"));
    }
    Ok(out)
}

/// The funding gap grouped by `grouping`, over what `scope` sees.
pub fn gap(
    store: &dyn senda_store::Store,
    st: &Strategy,
    scope: ReadScope,
    grouping: GapGrouping,
) -> Result<Vec<GapRow>> {
    let reqs: Vec<Requirement> = store.requirements(&st.id)?.into_iter().map(|r| r.requirement).collect();
    let report = senda_store::build_report_for(
        store,
        &st.id,
        scope,
        vec![Dimension::LineOfEffort, Dimension::Country, Dimension::FiscalYear],
        false,
        Filters::new(),
    )?;
    Ok(funding_gap(&reqs, &report, grouping))
}

fn grouping_of(by: &[String]) -> Result<(GapGrouping, Vec<&'static str>)> {
    let mut g = GapGrouping::default();
    let mut names = Vec::new();
    for b in by.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        match b {
            "line_of_effort" if !g.line_of_effort => g.line_of_effort = true,
            "country" if !g.country => g.country = true,
            "fiscal_year" if !g.fiscal_year => g.fiscal_year = true,
            _ => bail!("--by: {b:?} is not one of line_of_effort, country, fiscal_year (each once)"),
        }
    }
    for (on, n) in [(g.line_of_effort, "line_of_effort"), (g.country, "country"), (g.fiscal_year, "fiscal_year")] {
        if on {
            names.push(n);
        }
    }
    Ok((g, names))
}

fn print_gap(rows: &[GapRow], dims: &[&str], format: PlanFormat) -> Result<()> {
    let head: Vec<String> = dims
        .iter()
        .map(|d| (*d).to_owned())
        .chain(
            ["currency", "requirement", "committed", "disbursed", "gap", "percent_funded", "committed_outside_plan"]
                .map(str::to_owned),
        )
        .collect();
    let cells = |r: &GapRow| -> Vec<String> {
        let mut k = r.key.clone();
        if r.key.first().map(String::as_str) == Some("TOTAL") {
            k = std::iter::once("TOTAL".to_owned())
                .chain(std::iter::repeat_n(String::new(), dims.len().saturating_sub(1)))
                .collect();
        }
        k.into_iter()
            .chain([
                r.currency.clone(),
                r.requirement.to_string(),
                r.committed.to_string(),
                r.disbursed.to_string(),
                r.gap.to_string(),
                r.percent_funded.map(|p| p.to_string()).unwrap_or_default(),
                r.committed_outside_plan.to_string(),
            ])
            .collect()
    };
    match format {
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(rows)?),
        PlanFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(&head)?;
            for r in rows {
                w.write_record(cells(r))?;
            }
            w.flush()?;
        }
        PlanFormat::Table => {
            let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
            let right: Vec<bool> = (0..head.len()).map(|i| i > dims.len()).collect();
            print!("{}", table(&head, &body, &right));
        }
    }
    Ok(())
}

/// Runs `senda plan`.
pub fn cmd_plan(db: &str, c: PlanCommand) -> Result<()> {
    match c {
        PlanCommand::Set { requirement: a, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let input = RequirementInput {
                line_of_effort: &a.line_of_effort,
                country: &a.country,
                fiscal_year: &a.fiscal_year,
                amount: &a.amount,
                currency: &a.currency,
                source: &a.source,
                note: &a.note,
            };
            let r = check(&input, &st, "--").map_err(|p| anyhow::anyhow!("{}", p.join("; ")))?;
            let outcome = open_store(db)?.set_requirement(&Actor::cli(), &r, now())?;
            let verb = match outcome {
                SetOutcome::Created => "set",
                SetOutcome::Replaced => "replaced",
                SetOutcome::Unchanged => "unchanged",
            };
            println!(
                "{} {} FY{}: {} {} ({verb})",
                r.line_of_effort,
                r.country.as_str(),
                r.fiscal_year,
                r.amount,
                r.currency.as_str()
            );
        }
        PlanCommand::Import { file, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let rs = read_csv(&file, &st)?;
            let outcomes = open_store(db)?.set_requirements(&Actor::cli(), &rs, now())?;
            let n = |o: SetOutcome| outcomes.iter().filter(|x| **x == o).count();
            println!(
                "{}: {} requirement(s): {} set, {} replaced, {} unchanged",
                file.display(),
                rs.len(),
                n(SetOutcome::Created),
                n(SetOutcome::Replaced),
                n(SetOutcome::Unchanged)
            );
        }
        PlanCommand::Remove { line_of_effort, country, fiscal_year, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let line = st
                .lines_of_effort
                .iter()
                .find(|l| l.id.eq_ignore_ascii_case(&line_of_effort))
                .map(|l| l.id.clone())
                .ok_or_else(|| anyhow::anyhow!("unknown line of effort {line_of_effort:?} in {strategy}"))?;
            let country = country.trim().to_ascii_uppercase();
            if !open_store(db)?.delete_requirement(&Actor::cli(), &st.id, &line, &country, fiscal_year, now())? {
                bail!("no requirement for {line} {country} FY{fiscal_year}");
            }
            println!("removed {line} {country} FY{fiscal_year}");
        }
        PlanCommand::List { strategy, format } => {
            let st = Strategy::builtin(&strategy)?;
            let rows = open_existing_store(db)?.requirements(&st.id)?;
            match format {
                PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                _ => {
                    let head: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
                    let body: Vec<Vec<String>> = rows
                        .iter()
                        .map(|r| {
                            let q = &r.requirement;
                            vec![
                                q.line_of_effort.clone(),
                                q.country.as_str().to_owned(),
                                q.fiscal_year.to_string(),
                                q.amount.to_string(),
                                q.currency.as_str().to_owned(),
                                q.source.clone(),
                                q.note.clone().unwrap_or_default(),
                            ]
                        })
                        .collect();
                    if format == PlanFormat::Csv {
                        let mut w = csv::Writer::from_writer(std::io::stdout().lock());
                        w.write_record(&head)?;
                        for b in &body {
                            w.write_record(b)?;
                        }
                        w.flush()?;
                    } else {
                        let right: Vec<bool> = (0..head.len()).map(|i| i == 3).collect();
                        print!("{}", table(&head, &body, &right));
                    }
                }
            }
        }
        PlanCommand::Gap { by, strategy, include_unpublished, format } => {
            let st = Strategy::builtin(&strategy)?;
            let (grouping, dims) = grouping_of(&by)?;
            let scope = if include_unpublished { ReadScope::Everything } else { ReadScope::PublishedOnly };
            let store = open_existing_store(db)?;
            let rows = gap(&*store, &st, scope, grouping)?;
            if rows.is_empty() {
                eprintln!("no requirements for {}: set them with `senda plan set` or `senda plan import`", st.id);
            }
            print_gap(&rows, &dims, format)?;
        }
    }
    Ok(())
}

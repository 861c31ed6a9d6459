//! `senda contribution` (issue 18, item 2): partner contributions from the command line.
//! Whoever can open the database is trusted here, as for interventions: the audit trail
//! records `cli`, and every contribution is listed, published or not.
//!
//! `add FILE` reads a JSON or TOML file and checks it with the same function as the API
//! (`senda_core::contribution::parse_value`); every problem is printed with its file and
//! field, in English or, with `--lang es`, Spanish, and nothing is saved.

use crate::commands::{open_existing_store, open_store};
use crate::interventions::LangArg;
use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::contribution::{Context, Contribution, parse_json, parse_toml};
use senda_core::intervention::{Invalid, Lang};
use senda_store::accounts::Actor;
use senda_store::contributions::{ContributionFilter, Published};

/// Largest contribution file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// `senda contribution ...`.
#[derive(Debug, Subcommand)]
pub enum ContributionCommand {
    /// Record a partner contribution from a JSON or TOML file (checked as the API checks it);
    /// it is saved unpublished. Every problem is printed with its field and nothing is saved.
    Add {
        /// The file: `*.json` or `*.toml`.
        file: std::path::PathBuf,
        /// Language of the messages: en or es.
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
    },
    /// List contributions, latest first.
    List {
        /// Only those to this line of effort (given, or through the intervention contributed to).
        #[arg(long)]
        line_of_effort: Option<String>,
        /// Only those concerning this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publish a contribution (make it public), or with `--unpublish` take it back.
    Publish {
        /// Its id.
        id: i64,
        /// Take it out of the public view instead.
        #[arg(long)]
        unpublish: bool,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses a contribution file (`.json` or `.toml`) against the built-in strategies: the same
/// check as `POST /api/v1/contributions`.
pub fn parse_file(path: &std::path::Path, strategies: &[Strategy]) -> Result<Result<Contribution, Invalid>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!("{}: {} bytes; a contribution file has at most {MAX_FILE_BYTES}", path.display(), meta.len());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read as UTF-8 text", path.display()))?;
    let ctx = Context { strategies: strategies.iter().collect() };
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("json") => parse_json(&text, &ctx),
        Some("toml") => parse_toml(&text, &ctx),
        _ => bail!("{}: name the file *.json or *.toml so that Senda knows how to read it", path.display()),
    })
}

/// `senda contribution ...`.
pub fn cmd_contribution(db: &str, c: ContributionCommand) -> Result<i32> {
    let cli = Actor::cli();
    match c {
        ContributionCommand::Add { file, lang } => {
            let strategies = Strategy::all_builtin()?;
            let lang = Lang::from(lang);
            let c = match parse_file(&file, &strategies)? {
                Ok(c) => c,
                Err(Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}: {}: {}", file.display(), e.field, e.message(lang));
                    }
                    eprintln!(
                        "{}",
                        match lang {
                            Lang::En => format!("{} problem(s); nothing saved", errors.len()),
                            Lang::Es => format!("{} problema(s); no se guardó nada", errors.len()),
                        }
                    );
                    return Ok(1);
                }
            };
            let id = match open_store(db)?.create_contribution(&cli, &c, now()) {
                Ok(id) => id,
                Err(senda_store::StoreError::Account { field, message }) => {
                    eprintln!("{}: {field}: {message}", file.display());
                    eprintln!("nothing saved");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            };
            outln!("{id}");
            eprintln!("recorded contribution {id} ({}, {}, unpublished)", c.kind.as_str(), c.form.as_str());
        }
        ContributionCommand::List { line_of_effort, country, limit, json } => {
            let filter = ContributionFilter {
                line_of_effort,
                country: country
                    .as_deref()
                    .map(|c| {
                        senda_core::CountryCode::parse(c)
                            .map_err(|_| anyhow::anyhow!("--country: {c:?} is not an ISO 3166-1 alpha-2 code"))
                    })
                    .transpose()?,
                organisation_id: None,
                limit: limit.clamp(1, 1000),
            };
            let rows = open_existing_store(db)?.contributions(&filter, ReadScope::Everything)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                outln!(
                    "{:>5}  {:<10} {:<20} {:<13} {:<6} {:<9} {:<24} {:>22}  description",
                    "id",
                    "date",
                    "kind",
                    "form",
                    "target",
                    "published",
                    "organisation",
                    "money"
                );
                for r in rows {
                    let c = &r.contribution;
                    let target = match (&c.line_of_effort, c.intervention) {
                        (Some(l), _) => l.clone(),
                        (None, Some(i)) => format!("#{i}"),
                        (None, None) => "-".into(),
                    };
                    let money = c.money.as_ref().map(|m| format!("{} {}", m.amount, m.currency)).unwrap_or_default();
                    outln!(
                        "{:>5}  {:<10} {:<20} {:<13} {:<6} {:<9} {:<24} {:>22}  {}",
                        r.id,
                        c.date.to_string(),
                        c.kind.as_str(),
                        c.form.as_str(),
                        target,
                        if r.published { "yes" } else { "no" },
                        r.organisation_name,
                        money,
                        c.description.get(Lang::En).replace('\n', " ")
                    );
                }
            }
        }
        ContributionCommand::Publish { id, unpublish } => {
            match open_existing_store(db)?.publish_contribution(&cli, id, !unpublish, now())? {
                Published::Done(r) | Published::Unchanged(r) => eprintln!(
                    "contribution {id} is {} (version {})",
                    if r.published { "published" } else { "unpublished" },
                    r.version
                ),
                Published::NotFound => bail!("no contribution with id {id}"),
            }
        }
    }
    Ok(0)
}

//! `senda intervention` (issue 18, item 1): interventions entered in Senda, of every
//! instrument, from the command line. Whoever can open the database is trusted here, as for
//! accounts: the audit trail records them as `cli`, and they see every record, published or
//! not.
//!
//! `add --file` reads a JSON or TOML file and checks it with the same function as the API
//! (`senda_core::intervention::parse_value`); every problem is printed with its field, in
//! English or, with `--lang es`, Spanish, and nothing is saved.

use crate::commands::{open_existing_store, open_store};
use anyhow::{Context as _, Result, bail};
use clap::{Subcommand, ValueEnum};
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::intervention::{
    Context, Details, Instrument, Intervention, Invalid, Lang, Sight, Workflow, parse_json, parse_toml,
};
use senda_store::accounts::Actor;
use senda_store::interventions::{InterventionFilter, InterventionRecord, Moved};

/// Largest intervention file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The language of messages.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// English.
    En,
    /// Spanish.
    Es,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::En => Lang::En,
            LangArg::Es => Lang::Es,
        }
    }
}

/// `senda intervention ...`.
#[derive(Debug, Subcommand)]
pub enum InterventionCommand {
    /// Enter an intervention from a JSON or TOML file (checked as the API checks it); it is
    /// saved as a draft. Every problem is printed with its field and nothing is saved.
    Add {
        /// The file: `*.json` or `*.toml`.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Language of the messages: en or es.
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
    },
    /// List interventions, newest first.
    List {
        /// Only this instrument: diplomacy, foreign_assistance, public_messaging, immigration_initiatives.
        #[arg(long)]
        instrument: Option<String>,
        /// Only this workflow state: draft, submitted, approved, published.
        #[arg(long)]
        workflow: Option<String>,
        /// Only this organisation (id).
        #[arg(long)]
        organisation: Option<i64>,
        /// Only this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one intervention in full.
    Show {
        /// Its id.
        id: i64,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Move an intervention in its review: draft -> submitted -> approved -> published
    /// (and back: submitted -> draft, approved -> draft, published -> approved).
    SetWorkflow {
        /// Its id.
        id: i64,
        /// The new state: draft, submitted, approved, published.
        workflow: String,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses an intervention file (`.json` or `.toml`) with the strategies built in and the
/// departments Senda knows: the same check as `POST /api/v1/interventions`.
pub fn parse_file(path: &std::path::Path, strategies: &[Strategy]) -> Result<Result<Intervention, Invalid>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!("{}: {} bytes; an intervention file has at most {MAX_FILE_BYTES}", path.display(), meta.len());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read as UTF-8 text", path.display()))?;
    let ctx = Context { strategies: strategies.iter().collect(), admin1: senda_stats::countries::canonical_admin1 };
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("json") => parse_json(&text, &ctx),
        Some("toml") => parse_toml(&text, &ctx),
        _ => bail!("{}: name the file *.json or *.toml so that Senda knows how to read it", path.display()),
    })
}

fn word<T>(field: &str, raw: Option<&str>, parse: fn(&str) -> Option<T>, words: &[&str]) -> Result<Option<T>> {
    match raw {
        None => Ok(None),
        Some(r) => match parse(r) {
            Some(v) => Ok(Some(v)),
            None => bail!("--{field}: {r:?} is not one of {}", words.join(", ")),
        },
    }
}

/// `senda intervention ...`.
pub fn cmd_intervention(db: &str, c: InterventionCommand) -> Result<i32> {
    let cli = Actor::cli();
    match c {
        InterventionCommand::Add { file, lang } => {
            let strategies = Strategy::all_builtin()?;
            let lang = Lang::from(lang);
            let i = match parse_file(&file, &strategies)? {
                Ok(i) => i,
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
            let created = open_store(db)?.create_intervention(&cli, &i, now())?;
            for w in &created.warnings {
                eprintln!("{}: warning: {}: {}", file.display(), w.field, w.message(lang));
            }
            outln!("{}", created.id);
            eprintln!("created intervention {} ({}, draft): {}", created.id, i.instrument.as_str(), i.title.get(lang));
        }
        InterventionCommand::List { instrument, workflow, organisation, country, limit, json } => {
            let filter = InterventionFilter {
                instrument: word(
                    "instrument",
                    instrument.as_deref(),
                    Instrument::parse,
                    &["diplomacy", "foreign_assistance", "public_messaging", "immigration_initiatives"],
                )?,
                workflow: word(
                    "workflow",
                    workflow.as_deref(),
                    Workflow::parse,
                    &["draft", "submitted", "approved", "published"],
                )?,
                organisation_id: organisation,
                country: country
                    .as_deref()
                    .map(|c| {
                        senda_core::CountryCode::parse(c)
                            .map_err(|_| anyhow::anyhow!("--country: {c:?} is not an ISO 3166-1 alpha-2 code"))
                    })
                    .transpose()?,
                limit: limit.clamp(1, 1000),
            };
            let rows = open_existing_store(db)?.interventions(&filter, ReadScope::Everything)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                outln!(
                    "{:>5}  {:<24} {:<10} {:<10} {:<12} {:<24} title",
                    "id",
                    "instrument",
                    "workflow",
                    "countries",
                    "lines",
                    "organisation"
                );
                for r in rows {
                    let i = &r.intervention;
                    let countries: Vec<&str> = i.countries.iter().map(|c| c.as_str()).collect();
                    outln!(
                        "{:>5}  {:<24} {:<10} {:<10} {:<12} {:<24} {}",
                        r.id,
                        i.instrument.as_str(),
                        r.workflow.as_str(),
                        countries.join(","),
                        i.line_ids().join(","),
                        r.organisation_name,
                        i.title.get(Lang::En)
                    );
                }
            }
        }
        InterventionCommand::Show { id, json } => {
            let Some(r) = open_existing_store(db)?.intervention_seen(id, ReadScope::Everything, Sight::All)? else {
                bail!("no intervention with id {id}");
            };
            if json {
                outln!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                show(&r)?;
            }
        }
        InterventionCommand::SetWorkflow { id, workflow } => {
            let Some(to) = Workflow::parse(&workflow) else {
                bail!("workflow: {workflow:?} is not one of draft, submitted, approved, published");
            };
            let store = open_existing_store(db)?;
            let Some(r) = store.intervention(id, ReadScope::Everything)? else {
                bail!("no intervention with id {id}");
            };
            r.workflow.action_to(to)?;
            match store.move_intervention(&cli, id, r.workflow, to, now())? {
                Moved::Done(r) => eprintln!("intervention {id} is {} (version {})", r.workflow, r.version),
                Moved::NotFound => bail!("no intervention with id {id}"),
                Moved::Conflict { workflow, version } => {
                    bail!("intervention {id} changed meanwhile: it is {workflow} (version {version}); nothing written")
                }
            }
        }
    }
    Ok(0)
}

fn show(r: &InterventionRecord) -> Result<()> {
    let i = &r.intervention;
    outln!("intervention {} ({}, version {})", r.id, r.workflow, r.version);
    outln!("  organisation:     {} ({})", r.organisation_name, r.organisation_id);
    outln!("  instrument:       {}", i.instrument.as_str());
    if let Some(t) = &i.title.en {
        outln!("  title (en):       {t}");
    }
    if let Some(t) = &i.title.es {
        outln!("  title (es):       {t}");
    }
    for l in &i.lines_of_effort {
        outln!("  line of effort:   {} ({})", l.line_of_effort, l.reason);
    }
    let countries: Vec<&str> = i.countries.iter().map(|c| c.as_str()).collect();
    outln!("  countries:        {}", countries.join(", "));
    if !i.departments.is_empty() {
        outln!("  departments:      {}", i.departments.join(", "));
    }
    outln!("  when:             {} to {}", i.start, i.end.map(|d| d.to_string()).unwrap_or_else(|| "-".into()));
    outln!("  status:           {}", i.status.as_str());
    if !i.implementing_partners.is_empty() {
        outln!("  implementers:     {}", i.implementing_partners.join("; "));
    }
    if !i.population_groups.is_empty() {
        outln!("  for whom:         {}", i.population_groups.join(", "));
    }
    for m in &i.money {
        outln!("  money:            {} {} {} on {}", m.kind.as_str(), m.amount, m.currency, m.date);
    }
    match &i.details {
        Details::ForeignAssistance(l) => {
            let state = if r.iati_linked == Some(true) { "imported" } else { "not imported yet" };
            outln!("  IATI activity:    {} ({state})", l.iati_identifier);
        }
        Details::Diplomacy(d) => {
            outln!("  counterpart:      {} ({})", d.counterpart, d.counterpart_kind.as_str());
            outln!("  ask:              {}", d.ask);
            for e in &d.history {
                outln!(
                    "  history:          {} {}{}",
                    e.date,
                    e.status.as_str(),
                    e.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
                );
            }
        }
        Details::PublicMessaging(m) => {
            outln!("  channels:         {}", m.channels.join(", "));
            outln!("  languages:        {}", m.languages.join(", "));
            outln!("  audiences:        {}", m.audiences.join("; "));
            for x in &m.reach {
                outln!(
                    "  reach:            {} {}{} people {} impressions {}",
                    x.period,
                    x.country,
                    x.department.as_deref().map(|d| format!(" {d}")).unwrap_or_default(),
                    x.people_reached.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                    x.impressions.map(|n| n.to_string()).unwrap_or_else(|| "-".into())
                );
            }
        }
        Details::ImmigrationInitiatives(p) => {
            outln!("  programme:        {}", p.programme);
            for x in &p.figures {
                let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
                outln!(
                    "  figures:          {} {} applications {} approvals {} arrivals {}",
                    x.period,
                    x.country,
                    n(x.applications),
                    n(x.approvals),
                    n(x.arrivals)
                );
            }
        }
    }
    Ok(())
}

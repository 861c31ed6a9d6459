//! `senda reporting` (issue 18, item 5): the reporting cycle from the command line. The
//! reporting periods come from the strategy file (`[reporting]`); each actual is checked by
//! `senda_core::reporting::parse_actual`, the one check of every way in, and every problem is
//! printed with its field (in English or, with `--lang es`, Spanish), nothing saved. Whoever
//! can open the database is trusted, as for `senda plan` and `senda intervention`: the audit
//! trail records the operating-system user (`cli:ana`).

use crate::commands::{open_existing_store, open_store};
use crate::format::table;
use crate::interventions::LangArg;
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use senda_core::Period;
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::intervention::Lang;
use senda_core::reporting::{ActualContext, ActualInput, DueStatus, ReportState, Step, check_text, parse_actual};
use senda_store::reporting::{DueEntry, ReportFilter, ReportWrite, Written, due_list};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportingFormat {
    /// Aligned table.
    Table,
    /// CSV.
    Csv,
    /// JSON.
    Json,
}

/// One actual on the command line.
#[derive(Debug, Args)]
pub struct ActualArgs {
    /// The intervention reported on (its id).
    #[arg(long)]
    pub intervention: i64,
    /// Indicator code of one of the intervention's lines of effort (e.g. LOE7-1).
    #[arg(long)]
    pub indicator: String,
    /// Reporting period: 2024-Q1 (quarterly) or 2024-03 (monthly), as the strategy says.
    #[arg(long)]
    pub period: String,
    /// Department: ISO 3166-2 (HN-CR, GT-16), in one of the intervention's countries.
    #[arg(long)]
    pub department: String,
    /// The actual: a plain number (1500, 12.5).
    #[arg(long, allow_hyphen_values = true)]
    pub value: String,
    /// Ratio indicators only: the denominator.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub denominator: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

/// `senda reporting ...`.
#[derive(Debug, Subcommand)]
pub enum ReportingCommand {
    /// The strategy's reporting periods that have ended: start, end, due date, locked.
    Periods {
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// As of this date (YYYY-MM-DD; default: today, UTC).
        #[arg(long)]
        as_of: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportingFormat::Table)]
        format: ReportingFormat,
    },
    /// Submit an indicator actual of an intervention for a period and department (or, with
    /// --draft, save it unsent). A returned report is submitted again the same way.
    Submit {
        /// The actual.
        #[command(flatten)]
        actual: ActualArgs,
        /// Save as a draft, do not send for review.
        #[arg(long)]
        draft: bool,
        /// As of this date (YYYY-MM-DD; default: today, UTC): periods must have ended.
        #[arg(long)]
        as_of: Option<String>,
        /// Language of the messages: en or es.
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
    },
    /// Approve a submitted report (its values then feed indicator progress).
    Approve {
        /// The report's id.
        id: i64,
    },
    /// Return a submitted or approved report to its partner, with a comment.
    Return {
        /// The report's id.
        id: i64,
        /// What to fix (required).
        #[arg(long)]
        comment: String,
    },
    /// Lock a period: no report of it changes until a coordinator reopens it.
    Lock {
        /// The period (2024-Q1).
        period: String,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// Reopen a locked period.
    Reopen {
        /// The period (2024-Q1).
        period: String,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
    },
    /// List reports.
    List {
        /// Only this partner (organisation id or name).
        #[arg(long)]
        partner: Option<String>,
        /// Only this period.
        #[arg(long)]
        period: Option<String>,
        /// Only this state: draft, submitted, approved, returned.
        #[arg(long)]
        state: Option<String>,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportingFormat::Table)]
        format: ReportingFormat,
    },
    /// What is due and overdue, by partner and period: every approved or published
    /// intervention in each ended period it ran, with its status (overdue, returned, due,
    /// submitted; approved too with --all).
    Overdue {
        /// Only this partner (organisation id or name).
        #[arg(long)]
        partner: Option<String>,
        /// Only this period.
        #[arg(long)]
        period: Option<String>,
        /// Also the periods whose reports are all approved.
        #[arg(long)]
        all: bool,
        /// As of this date (YYYY-MM-DD; default: today, UTC).
        #[arg(long)]
        as_of: Option<String>,
        /// Strategy.
        #[arg(long, default_value = "cmms-2021")]
        strategy: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportingFormat::Table)]
        format: ReportingFormat,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn today(as_of: Option<&str>) -> Result<time::Date> {
    match as_of {
        None => Ok(time::OffsetDateTime::now_utc().date()),
        Some(d) => senda_core::codes::parse_iso_date(d)
            .map_err(|_| anyhow::anyhow!("--as-of: {d:?} is not an ISO 8601 date such as 2024-05-10")),
    }
}

fn period_arg(raw: &str, st: &Strategy) -> Result<Period> {
    let rules = st.reporting_def();
    let p = Period::parse(raw).map_err(|_| anyhow::anyhow!("{raw:?} is not a period such as 2024-Q1 or 2024-03"))?;
    if rules.period_of(p.start()) != p || p < rules.first_period() {
        bail!(
            "{raw:?} is not a reporting period of {} (reported {} from {})",
            st.id,
            rules.frequency.as_str(),
            rules.first_period()
        );
    }
    Ok(p)
}

/// The organisation `raw` names: its id, or its name (any case).
fn partner_id(store: &dyn senda_store::Store, raw: &str) -> Result<i64> {
    let orgs = store.organisations()?;
    let t = raw.trim();
    let found = match t.parse::<i64>() {
        Ok(id) => orgs.iter().find(|o| o.id == id),
        Err(_) => orgs.iter().find(|o| o.name.eq_ignore_ascii_case(t)),
    };
    found.map(|o| o.id).ok_or_else(|| anyhow::anyhow!("--partner: no organisation has the id or name {t:?}"))
}

fn write_rows(head: &[&str], body: Vec<Vec<String>>, right: &[usize], format: ReportingFormat) -> Result<()> {
    let head: Vec<String> = head.iter().map(|h| (*h).to_owned()).collect();
    if format == ReportingFormat::Csv {
        let mut w = csv::Writer::from_writer(std::io::stdout().lock());
        w.write_record(&head)?;
        for b in &body {
            w.write_record(b)?;
        }
        w.flush()?;
    } else {
        let r: Vec<bool> = (0..head.len()).map(|i| right.contains(&i)).collect();
        print!("{}", table(&head, &body, &r));
    }
    Ok(())
}

fn say_written(w: Written, lang: Lang) -> Result<i32> {
    let es = lang == Lang::Es;
    match w {
        Written::Done(r) | Written::Replayed(r) => {
            outln!("{}", r.id);
            eprintln!(
                "report {}: {} {} {} = {} ({})",
                r.id,
                r.actual.indicator,
                r.actual.period,
                r.actual.department,
                r.actual.value,
                r.state.as_str()
            );
            Ok(0)
        }
        Written::Locked(p) => {
            let e = senda_core::intervention::Problem::PeriodLocked(p.to_string());
            eprintln!("period: {}", e.message(lang));
            eprintln!("{}", if es { "no se guardó nada" } else { "nothing saved" });
            Ok(1)
        }
        Written::Refused(e) => {
            eprintln!("{}: {}", e.field, e.message(lang));
            eprintln!("{}", if es { "no se guardó nada" } else { "nothing saved" });
            Ok(1)
        }
        Written::Conflict(r) => {
            eprintln!("report {} changed meanwhile (version {}); nothing saved", r.id, r.version);
            Ok(1)
        }
        Written::NotFound => {
            eprintln!("no such report; nothing saved");
            Ok(1)
        }
    }
}

/// Runs `senda reporting`; the exit code (1: refused, nothing saved).
pub fn cmd_reporting(db: &str, c: ReportingCommand) -> Result<i32> {
    let actor = crate::accounts::cli_actor();
    match c {
        ReportingCommand::Periods { strategy, as_of, format } => {
            let st = Strategy::builtin(&strategy)?;
            let rules = st.reporting_def();
            let locked = open_existing_store(db)?.locked_periods(&st.id)?;
            let periods = rules.ended_periods(today(as_of.as_deref())?);
            if format == ReportingFormat::Json {
                let v: Vec<serde_json::Value> = periods
                    .iter()
                    .map(|p| {
                        serde_json::json!({"period": p.to_string(), "start": p.start().to_string(), "end": p.end().to_string(),
                            "due_date": rules.due_date(*p).to_string(), "locked": locked.contains(p)})
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(0);
            }
            let body = periods
                .iter()
                .map(|p| {
                    vec![
                        p.to_string(),
                        p.start().to_string(),
                        p.end().to_string(),
                        rules.due_date(*p).to_string(),
                        if locked.contains(p) { "locked".into() } else { String::new() },
                    ]
                })
                .collect();
            write_rows(&["period", "start", "end", "due_date", "locked"], body, &[], format)?;
        }
        ReportingCommand::Submit { actual: a, draft, as_of, lang } => {
            let lang = Lang::from(lang);
            let store = open_store(db)?;
            let Some(rec) = store.intervention(a.intervention, ReadScope::Everything)? else {
                bail!("--intervention: no intervention has id {}", a.intervention);
            };
            let st = Strategy::builtin(&rec.intervention.strategy)?;
            let locked = store.locked_periods(&st.id)?;
            let ctx = ActualContext {
                strategy: &st,
                intervention: &rec.intervention,
                today: today(as_of.as_deref())?,
                locked: &locked,
                admin1: senda_stats::countries::canonical_admin1,
            };
            let input = ActualInput {
                indicator: &a.indicator,
                period: &a.period,
                department: &a.department,
                value: &a.value,
                denominator: &a.denominator,
                note: &a.note,
            };
            let actual = match parse_actual(&input, &ctx) {
                Ok(x) => x,
                Err(e) => {
                    for f in &e.0 {
                        eprintln!("--{}: {}", f.field, f.message(lang));
                    }
                    eprintln!(
                        "{}",
                        match lang {
                            Lang::En => format!("{} problem(s); nothing saved", e.0.len()),
                            Lang::Es => format!("{} problema(s); no se guardó nada", e.0.len()),
                        }
                    );
                    return Ok(1);
                }
            };
            let w = ReportWrite {
                strategy: &st.id,
                intervention_id: rec.id,
                organisation_id: rec.organisation_id,
                actual: &actual,
                step: if draft { Step::Save } else { Step::Submit },
                form_token: None,
                expected_version: None,
            };
            return say_written(store.write_report(&actor, &w, now())?, lang);
        }
        ReportingCommand::Approve { id } => {
            let w = open_store(db)?.review_report(&actor, id, Step::Approve, None, None, now())?;
            return say_written(w, Lang::En);
        }
        ReportingCommand::Return { id, comment } => {
            let comment = match check_text("comment", &comment, true) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("--comment: {}", e.message(Lang::En));
                    eprintln!("nothing saved");
                    return Ok(1);
                }
            };
            let w = open_store(db)?.review_report(&actor, id, Step::Return, comment.as_deref(), None, now())?;
            return say_written(w, Lang::En);
        }
        ReportingCommand::Lock { period, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let p = period_arg(&period, &st)?;
            if open_store(db)?.lock_period(&actor, &st.id, p, now())? {
                outln!("{p}: locked");
            } else {
                outln!("{p}: already locked");
            }
        }
        ReportingCommand::Reopen { period, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let p = period_arg(&period, &st)?;
            if !open_store(db)?.reopen_period(&actor, &st.id, p, now())? {
                bail!("{p} is not locked");
            }
            outln!("{p}: reopened");
        }
        ReportingCommand::List { partner, period, state, strategy, format } => {
            let st = Strategy::builtin(&strategy)?;
            let store = open_existing_store(db)?;
            let filter = ReportFilter {
                strategy: Some(st.id.clone()),
                organisation_id: partner.as_deref().map(|p| partner_id(&*store, p)).transpose()?,
                period: period.as_deref().map(|p| period_arg(p, &st)).transpose()?,
                state: state
                    .as_deref()
                    .map(|s| {
                        ReportState::parse(s).ok_or_else(|| {
                            anyhow::anyhow!("--state: {s:?} is not one of draft, submitted, approved, returned")
                        })
                    })
                    .transpose()?,
                intervention_id: None,
            };
            let rows = store.reports(&filter, ReadScope::Everything)?;
            if format == ReportingFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(0);
            }
            let body = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.organisation_name.clone(),
                        r.intervention_id.to_string(),
                        r.actual.period.to_string(),
                        r.actual.indicator.clone(),
                        r.actual.department.clone(),
                        r.actual.value.to_string(),
                        r.state.as_str().to_owned(),
                        r.comment.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            write_rows(
                &["id", "partner", "intervention", "period", "indicator", "department", "actual", "state", "comment"],
                body,
                &[0, 2, 6],
                format,
            )?;
        }
        ReportingCommand::Overdue { partner, period, all, as_of, strategy, format } => {
            let st = Strategy::builtin(&strategy)?;
            let store = open_existing_store(db)?;
            let org = partner.as_deref().map(|p| partner_id(&*store, p)).transpose()?;
            let period = period.as_deref().map(|p| period_arg(p, &st)).transpose()?;
            let rows: Vec<DueEntry> =
                due_list(&*store, &st, today(as_of.as_deref())?, ReadScope::Everything, Lang::En)?
                    .into_iter()
                    .filter(|e| org.is_none_or(|o| o == e.row.organisation_id))
                    .filter(|e| period.is_none_or(|p| p == e.row.period))
                    .filter(|e| all || e.row.status != DueStatus::Approved)
                    .collect();
            if format == ReportingFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(0);
            }
            let body = rows
                .iter()
                .map(|e| {
                    vec![
                        e.organisation_name.clone(),
                        e.row.period.to_string(),
                        e.row.due_date.to_string(),
                        e.row.intervention_id.to_string(),
                        e.intervention_title.clone(),
                        e.row.status.as_str().to_owned(),
                        e.row.days_overdue.to_string(),
                        if e.row.locked { "locked".into() } else { String::new() },
                    ]
                })
                .collect();
            write_rows(
                &["partner", "period", "due_date", "intervention", "title", "status", "days_overdue", "locked"],
                body,
                &[3, 6],
                format,
            )?;
        }
    }
    Ok(0)
}

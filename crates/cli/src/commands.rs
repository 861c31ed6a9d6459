//! One function per subcommand. Each opens the store, calls the libraries and prints.

use crate::cli::*;
use crate::format::{count, table};
use crate::import::{ImportReport, import};
use crate::report_cmd::cmd_report;
pub use crate::report_cmd::{MoneyColumns, build_report, report_filters, write_report, write_report_with};
use anyhow::{Context, Result, bail};
use senda_core::Strategy;
use senda_core::mapping::Mapper;
use senda_core::report::Dimension;
use senda_store::{OpenMode, Override, Store};
use std::io::Write;
use std::path::PathBuf;

fn db_path(cli_db: &Option<String>, default: &str) -> String {
    cli_db.clone().unwrap_or_else(|| default.to_owned())
}

/// A store of any backend.
pub type DynStore = Box<dyn Store + Send>;

/// Opens (creating if needed) the store and brings stored mappings up to date with the
/// built-in strategies. For commands that write (`import`, `demo`).
pub fn open_store(db: &str) -> Result<DynStore> {
    let mut s = senda_store::open(db, OpenMode::Create)?;
    ensure_mappings(&mut *s)?;
    Ok(s)
}

/// Opens an existing store (commands that read: a mistyped `--db` is an error, not a new
/// empty database).
pub fn open_existing_store(db: &str) -> Result<DynStore> {
    let mut s = senda_store::open(db, OpenMode::Existing)?;
    ensure_mappings(&mut *s)?;
    Ok(s)
}

/// Re-maps stored activities when a strategy definition changed since they were mapped.
pub fn ensure_mappings(s: &mut dyn Store) -> Result<()> {
    let empty = s.count_activities()? == 0;
    for st in Strategy::all_builtin()? {
        let fp = format!("{:016x}", st.fingerprint());
        if s.strategy_fingerprint(&st.id)?.as_deref() == Some(fp.as_str()) {
            continue;
        }
        if empty {
            s.set_strategy_fingerprint(&st.id, &fp)?;
        } else {
            let m = Mapper::new(&st);
            let n = s.remap(&st.id, &fp, &|a| m.map(a))?;
            tracing::info!(strategy = %st.id, activities = n, "strategy definition changed: activities re-mapped");
        }
    }
    Ok(())
}

/// Runs a parsed command line.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Import(a) => cmd_import(&db_path(&cli.db, "senda.db"), a),
        Command::Report(a) => cmd_report(&db_path(&cli.db, "senda.db"), a).map(|_| 0),
        Command::Activities(a) => crate::activities::cmd_activities(&db_path(&cli.db, "senda.db"), a).map(|_| 0),
        Command::Explain(a) => cmd_explain(&db_path(&cli.db, "senda.db"), a).map(|_| 0),
        Command::Map(m) => cmd_map(&db_path(&cli.db, "senda.db"), m).map(|_| 0),
        Command::Strategy(s) => cmd_strategy(s).map(|_| 0),
        Command::Imports(a) => cmd_imports(&db_path(&cli.db, "senda.db"), a).map(|_| 0),
        Command::Coverage(a) => crate::coverage::cmd_coverage(
            &db_path(&cli.db, "senda.db"),
            &a.strategy,
            a.format,
            &mut std::io::stdout().lock(),
        )
        .map(|_| 0),
        Command::Demo(a) => cmd_demo(&db_path(&cli.db, "senda-demo.db"), a).map(|_| 0),
        Command::Serve(a) => cmd_serve(&db_path(&cli.db, "senda.db"), a.listen, &a.allowed_hosts).map(|_| 0),
        Command::Migrate => cmd_migrate(&db_path(&cli.db, "senda.db")).map(|_| 0),
        Command::Copy(a) => cmd_copy(&a.from.clone().unwrap_or_else(|| db_path(&cli.db, "senda.db")), &a.to, a.replace),
        Command::Stats(c) => cmd_stats(&db_path(&cli.db, "senda.db"), c),
        Command::Results(c) => cmd_results(&db_path(&cli.db, "senda.db"), c),
        Command::Indicators(a) => {
            let st = Strategy::builtin(&a.strategy)?;
            let scope = crate::values::scope_of(&st, a.country.as_deref(), a.department.as_deref())?;
            let db = db_path(&cli.db, "senda.db");
            let mut out = std::io::stdout().lock();
            crate::values::cmd_indicators(&db, &st, &scope, a.line_of_effort.as_deref(), a.format, &mut out)?;
            Ok(0)
        }
        Command::User(c) => crate::accounts::cmd_user(&db_path(&cli.db, "senda.db"), c),
        Command::Organisation(c) => crate::accounts::cmd_organisation(&db_path(&cli.db, "senda.db"), c),
        Command::Token(c) => crate::accounts::cmd_token(&db_path(&cli.db, "senda.db"), c),
        Command::Audit(a) => crate::accounts::cmd_audit(&db_path(&cli.db, "senda.db"), a),
        Command::Intervention(c) => crate::interventions::cmd_intervention(&db_path(&cli.db, "senda.db"), c),
        Command::Contribution(c) => crate::contributions::cmd_contribution(&db_path(&cli.db, "senda.db"), c),
        Command::Plan(c) => crate::plan::cmd_plan(&db_path(&cli.db, "senda.db"), c).map(|_| 0),
        Command::Reporting(c) => crate::reporting::cmd_reporting(&db_path(&cli.db, "senda.db"), c),
        Command::Generate(a) => {
            if a.out.exists() && !a.force {
                bail!("{} exists: give --force to overwrite it", a.out.display());
            }
            crate::generate::write_file(&a.out, a.activities, a.transactions_per_activity, a.seed)?;
            eprintln!("wrote {} synthetic activities to {}", a.activities, a.out.display());
            Ok(0)
        }
    }
}

fn cmd_import(db: &str, a: ImportArgs) -> Result<i32> {
    let mut store = open_store(db)?;
    let report = if a.prune {
        crate::import::import_and_prune(&mut *store, &a.paths, a.force, !a.no_progress)?
    } else {
        import(&mut *store, &a.paths, a.force, !a.no_progress)?
    };
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_import_report(&report, &mut std::io::stderr())?;
    }
    // 1 when anything was refused: a whole file, or activities inside a file.
    Ok(if report.files_rejected > 0 || report.rejected > 0 { 1 } else { 0 })
}

/// Prints an import report: summary, per-file problems and every diagnostic.
pub fn print_import_report(r: &ImportReport, out: &mut dyn Write) -> Result<()> {
    for d in &r.diagnostics {
        writeln!(out, "{d}")?;
    }
    writeln!(
        out,
        "import run {}: {} files ({} imported, {} unchanged{}, {} rejected), {:.1} MB in {:.2} s ({:.1} MB/s)",
        r.run_id,
        r.files,
        r.files_imported,
        r.files_unchanged,
        restamped_note(r.files_restamped),
        r.files_rejected,
        r.bytes as f64 / 1e6,
        r.seconds,
        r.bytes as f64 / 1e6 / r.seconds.max(1e-9)
    )?;
    writeln!(
        out,
        "activities: {} created, {} updated, {} unchanged, {} rejected, {} superseded duplicates, {} removed; transactions stored: {}; {} warnings, {} errors",
        count(r.created),
        count(r.updated),
        count(r.unchanged),
        count(r.rejected),
        count(r.superseded),
        count(r.removed),
        count(r.transactions),
        count(r.warnings),
        count(r.errors)
    )?;
    if r.created + r.updated + r.removed == 0 && r.files_rejected == 0 {
        if r.files_restamped > 0 {
            writeln!(out, "no activity changed; only the stored timestamps of {} files moved", r.files_restamped)?;
        } else {
            writeln!(out, "nothing changed in the database")?;
        }
    }
    for f in r.file_reports.iter().filter(|f| f.error.is_some()) {
        writeln!(out, "rejected: {}", f.error.as_deref().unwrap_or_default())?;
    }
    for f in r.file_reports.iter().filter(|f| f.status == crate::import::FileStatus::Removed) {
        writeln!(out, "pruned: {} (no longer there): {} activities removed", f.path, count(f.removed))?;
    }
    Ok(())
}

/// Writes the explanation of one activity's mapping (in English).
pub fn explain(store: &dyn Store, identifier: &str, strategy: &str, out: &mut dyn Write) -> Result<()> {
    explain_in(store, identifier, strategy, senda_core::explain::Lang::En, out)
}

/// Writes the explanation of one activity's mapping in `lang`: the facts of the activity, the
/// analyst's override and its history, then the rules' mapping in words (each line of effort
/// with its confidence and its evidence, strongest first; then the lines that almost applied),
/// each rule's note after it.
pub fn explain_in(
    store: &dyn Store,
    identifier: &str,
    strategy: &str,
    lang: senda_core::explain::Lang,
    out: &mut dyn Write,
) -> Result<()> {
    use senda_core::explain::Lang;
    let es = lang == Lang::Es;
    let st = Strategy::builtin(strategy)?;
    let d = store.activity(identifier, &st.id)?;
    let a = &d.activity;
    if d.synthetic {
        writeln!(out, "{}", if es { "DATOS SINTÉTICOS DE DEMOSTRACIÓN" } else { "SYNTHETIC DEMO DATA" })?;
    }
    writeln!(out, "{}  {}", a.iati_identifier, a.title_in(if es { "es" } else { "en" }))?;
    writeln!(
        out,
        "reporting-org: {} ({})",
        a.reporting_org.display_name(),
        a.reporting_org.r#ref.as_deref().unwrap_or(if es { "sin ref" } else { "no ref" })
    )?;
    let countries: Vec<String> = a.all_countries().iter().map(|c| c.to_string()).collect();
    let none = if es { "ninguno (REGIONAL)" } else { "none (REGIONAL)" };
    writeln!(
        out,
        "{}: {}",
        if es { "países" } else { "countries" },
        if countries.is_empty() { none.into() } else { countries.join(", ") }
    )?;
    writeln!(
        out,
        "{}: {} ({} #{})",
        if es { "origen" } else { "source" },
        d.source.0,
        if es { "actividad" } else { "activity" },
        d.source_number()
    )?;
    writeln!(out, "{}: {} ({})\n", if es { "estrategia" } else { "strategy" }, st.title, st.id)?;
    if es {
        return explain_rules_es(&st, &d, out);
    }
    if let Some(o) = &d.override_ {
        let lines = if o.lines_of_effort.is_empty() { "not mapped".to_owned() } else { o.lines_of_effort.join(", ") };
        writeln!(
            out,
            "ANALYST'S OVERRIDE (wins over the rules): {lines}\n  note: {}\n  set: {}\n",
            o.note, o.created_at
        )?;
    }
    if !d.override_log.is_empty() {
        writeln!(out, "Override history (oldest first):")?;
        for e in &d.override_log {
            let lines =
                if e.lines_of_effort.is_empty() { "not mapped".to_owned() } else { e.lines_of_effort.join(", ") };
            let what = if e.action == "set" { format!("set to {lines}") } else { format!("removed ({lines})") };
            let note = if e.note.is_empty() { String::new() } else { format!(": {}", e.note) };
            writeln!(out, "  {}  {what}{note}", e.at)?;
        }
        writeln!(out)?;
    }
    if d.override_.is_some() {
        writeln!(out, "What the rules alone say:")?;
    }
    let words = senda_core::explain::explain(&st, &d.rule_lines, &d.evidence, &d.near_misses, lang);
    write!(out, "{}", words.to_text(lang))?;
    write_rule_notes(&st, &d, false, out)
}

/// The notes of the rules an explanation names (matched or almost), once each.
fn write_rule_notes(st: &Strategy, d: &senda_store::ActivityDetail, es: bool, out: &mut dyn Write) -> Result<()> {
    let mut named: Vec<&str> = d.evidence.iter().map(|e| e.rule.as_str()).collect();
    named.extend(d.near_misses.iter().map(|n| n.rule.as_str()));
    let mut seen = std::collections::HashSet::new();
    named.retain(|r| seen.insert(*r));
    if named.is_empty() {
        return Ok(());
    }
    if es {
        writeln!(out, "\nNotas de las reglas (strategies/{}.toml, escritas en inglés):", st.id)?;
    } else {
        writeln!(out, "\nRule notes (strategies/{}.toml):", st.id)?;
    }
    for r in named {
        if let Some(rule) = st.rules.iter().find(|x| x.id == r) {
            writeln!(out, "  {r} ({}): {}", rule.strength().as_str(), rule.note)?;
        }
    }
    Ok(())
}

/// The Spanish half of [`explain_in`]: override, history, the rules' mapping in words.
fn explain_rules_es(st: &Strategy, d: &senda_store::ActivityDetail, out: &mut dyn Write) -> Result<()> {
    use senda_core::explain::Lang;
    let lines_es = |l: &[String]| if l.is_empty() { "sin asignar".to_owned() } else { l.join(", ") };
    if let Some(o) = &d.override_ {
        writeln!(
            out,
            "DECISIÓN DE ANALISTA (prevalece sobre las reglas): {}\n  nota: {}\n  fecha: {}\n",
            lines_es(&o.lines_of_effort),
            o.note,
            o.created_at
        )?;
    }
    if !d.override_log.is_empty() {
        writeln!(out, "Historial de decisiones (la más antigua primero):")?;
        for e in &d.override_log {
            let what = if e.action == "set" {
                format!("fijada en {}", lines_es(&e.lines_of_effort))
            } else {
                format!("retirada ({})", lines_es(&e.lines_of_effort))
            };
            let note = if e.note.is_empty() { String::new() } else { format!(": {}", e.note) };
            writeln!(out, "  {}  {what}{note}", e.at)?;
        }
        writeln!(out)?;
    }
    if d.override_.is_some() {
        writeln!(out, "Lo que dicen las reglas por sí solas:")?;
    }
    let words = senda_core::explain::explain(st, &d.rule_lines, &d.evidence, &d.near_misses, Lang::Es);
    write!(out, "{}", words.to_text(Lang::Es))?;
    write_rule_notes(st, d, true, out)
}

fn cmd_explain(db: &str, a: ExplainArgs) -> Result<()> {
    let store = open_existing_store(db)?;
    let Some(lang) = senda_core::explain::Lang::parse(&a.lang) else {
        bail!("--lang {:?}: give en or es", a.lang);
    };
    explain_in(&*store, &a.identifier, &a.strategy, lang, &mut std::io::stdout().lock())
}

fn cmd_map(db: &str, m: MapCommand) -> Result<()> {
    let store = open_existing_store(db)?;
    match m {
        MapCommand::Set { identifier, lines_of_effort, none, note, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            if lines_of_effort.is_empty() && !none {
                bail!("give line-of-effort ids (e.g. LOE5) or --none");
            }
            let mut lines = Vec::new();
            for l in &lines_of_effort {
                let Some(x) = st.lines_of_effort.iter().find(|x| x.id.eq_ignore_ascii_case(l)) else {
                    bail!(
                        "unknown line of effort {l:?} in {} (known: {})",
                        st.id,
                        st.lines_of_effort.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                    );
                };
                if !lines.contains(&x.id) {
                    lines.push(x.id.clone());
                }
            }
            if note.trim().is_empty() {
                bail!("--note must say why");
            }
            let o = Override {
                iati_identifier: identifier.clone(),
                strategy: st.id.clone(),
                lines_of_effort: lines.clone(),
                note,
                created_at: crate::import::now(),
            };
            store.set_override(&crate::accounts::cli_actor(), &o, crate::accounts::unix_now())?;
            outln!(
                "{identifier}: {} now maps to {} (analyst's override)",
                st.id,
                if lines.is_empty() { "no line of effort".into() } else { lines.join(", ") }
            );
        }
        MapCommand::Review(a) => {
            let (st, entries) = crate::review::queue(&*store, &a)?;
            crate::review::write_queue(&st, &entries, a.format, &mut std::io::stdout().lock())?;
        }
        MapCommand::Unset { identifier, note, strategy } => {
            let st = Strategy::builtin(&strategy)?;
            let (actor, now) = (crate::accounts::cli_actor(), crate::accounts::unix_now());
            if store.remove_override(&actor, &identifier, &st.id, note.trim(), &crate::import::now(), now)? {
                outln!("{identifier}: override removed; the rules decide again");
            } else {
                outln!("{identifier}: had no override in {}", st.id);
            }
        }
    }
    Ok(())
}

fn cmd_strategy(s: StrategyCommand) -> Result<()> {
    match s {
        StrategyCommand::List => {
            for st in Strategy::all_builtin()? {
                outln!(
                    "{:<10} {} ({}), {} lines of effort, {} rules, published {}",
                    st.id,
                    st.title,
                    st.short_title,
                    st.lines_of_effort.len(),
                    st.rules.len(),
                    st.published
                );
            }
        }
        StrategyCommand::Show { id } => {
            let st = Strategy::builtin(&id)?;
            outln!(
                "{} ({}), {}\nsource: {}\nfocus countries: {}\n",
                st.title,
                st.id,
                st.published,
                st.source,
                st.focus_countries.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
            );
            for l in &st.lines_of_effort {
                outln!("{}  {}\n    scope: {}", l.id, l.title, l.scope);
                for r in st.rules.iter().filter(|r| r.line_of_effort == l.id) {
                    outln!("    rule {} ({}): {}", r.id, r.kind, r.note);
                }
            }
            outln!("\ninstruments: {}", st.instruments.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", "));
            outln!(
                "partner categories: {}",
                st.partner_categories.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(())
}

fn cmd_imports(db: &str, a: ImportsArgs) -> Result<()> {
    let store = open_existing_store(db)?;
    if let Some(id) = a.run {
        let run = store
            .runs(u64::MAX >> 1)?
            .into_iter()
            .find(|r| r.id == id)
            .with_context(|| format!("no import run {id}"))?;
        let diagnostics = store.run_diagnostics(id)?;
        if a.json {
            let out = serde_json::json!({
                "run": run.id,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "report": run.report,
                "diagnostics": diagnostics,
            });
            outln!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        let g = |k: &str| run.report.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        let mb = run.report.get("bytes").and_then(|v| v.as_f64()).unwrap_or(0.0) / 1e6;
        let seconds = run.report.get("seconds").and_then(|v| v.as_f64()).unwrap_or(0.0);
        outln!("import run {id}: started {}, finished {}", run.started_at, run.finished_at);
        outln!(
            "files: {} ({} imported, {} unchanged{}, {} rejected), {mb:.1} MB in {seconds:.2} s",
            g("files"),
            g("files_imported"),
            g("files_unchanged"),
            restamped_note(g("files_restamped")),
            g("files_rejected")
        );
        if g("files_removed") > 0 {
            outln!("files pruned (gone from their folder): {}", g("files_removed"));
        }
        outln!(
            "activities: {} created, {} updated, {} unchanged, {} rejected, {} superseded duplicates, {} removed; transactions stored: {}; {} warnings, {} errors",
            count(g("created")),
            count(g("updated")),
            count(g("unchanged")),
            count(g("rejected")),
            count(g("superseded")),
            count(g("removed")),
            count(g("transactions")),
            count(g("warnings")),
            count(g("errors"))
        );
        for d in diagnostics {
            outln!("{d}");
        }
        return Ok(());
    }
    for r in store.runs(a.limit)? {
        let g = |k: &str| r.report.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        outln!(
            "run {:>4}  {}  files {} (rejected {}, pruned {})  created {} updated {} unchanged {} rejected {} removed {}  warnings {} errors {}",
            r.id,
            r.started_at,
            g("files"),
            g("files_rejected"),
            g("files_removed"),
            g("created"),
            g("updated"),
            g("unchanged"),
            g("rejected"),
            g("removed"),
            g("warnings"),
            g("errors")
        );
    }
    Ok(())
}

fn cmd_demo(db: &str, a: DemoArgs) -> Result<()> {
    let dir = tempfile_dir()?;
    let file = dir.join("senda-synthetic-demo.xml");
    let target = senda_store::parse_target(db)?;
    let exists = match &target {
        senda_store::Target::Sqlite(p) => p.exists(),
        senda_store::Target::Postgres(_) => true,
    };
    if exists {
        let store = senda_store::open(db, OpenMode::Create)?;
        let (_, real) = store.synthetic_presence()?;
        if real {
            bail!(
                "{} holds real (non-synthetic) activities: `senda demo` writes synthetic data only into a demo database (default ./senda-demo.db); give another --db",
                target.display()
            );
        }
        // A demo database holds nothing but an earlier demo: an SQLite file is rebuilt from
        // scratch, so every run gives the same database and the same report (a PostgreSQL
        // database is imported into again: the same synthetic files change nothing).
        drop(store);
        if let senda_store::Target::Sqlite(path) = &target {
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", path.display()));
                if p.exists() {
                    std::fs::remove_file(&p).with_context(|| format!("cannot replace {}", p.display()))?;
                }
            }
        }
    }
    let mut store = open_store(db)?;
    crate::generate::write_file(&file, a.activities, None, a.seed)?;
    let report = import(&mut *store, std::slice::from_ref(&file), false, false)?;
    let _ = std::fs::remove_file(&file);
    // Synthetic statistics and indicator values, through the same importers as real files.
    let stats = dir.join("senda-synthetic-statistics.hxl.csv");
    let results = dir.join("senda-synthetic-results.csv");
    let cmms = Strategy::builtin("cmms-2021")?;
    crate::generate::write_demo_stats(&stats, a.seed)?;
    crate::generate::write_demo_results(&results, &cmms, a.seed)?;
    for (path, dataset) in [(&stats, crate::values::Dataset::Stats), (&results, crate::values::Dataset::Results(&cmms))]
    {
        let r = crate::values::import_values(&mut *store, std::slice::from_ref(path), &dataset)?;
        if r.files_rejected() > 0 || !r.diagnostics.is_empty() {
            let mut msg = Vec::new();
            crate::values::print_values_report(&r, &mut msg)?;
            bail!("synthetic demo values did not import cleanly: {}", String::from_utf8_lossy(&msg));
        }
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir(&dir);
    let entered = crate::demo_entered::enter(&*store, &cmms, time::OffsetDateTime::now_utc().unix_timestamp())?;
    eprintln!(
        "entered (synthetic): {} partner organisations, {} published interventions (one of each instrument), {} requirements of the plan, {} published partner contributions, reporting-cycle reports: {} approved, {} submitted, {} returned",
        entered.organisations,
        entered.interventions,
        entered.requirements,
        entered.contributions,
        entered.reports.0,
        entered.reports.1,
        entered.reports.2
    );
    eprintln!(
        "demo database {}: {} synthetic activities ({} created, {} updated, {} unchanged), {} warnings",
        target.display(),
        a.activities,
        report.created,
        report.updated,
        report.unchanged,
        report.warnings
    );
    let st = Strategy::builtin("cmms-2021")?;
    let r =
        build_report(&*store, &st.id, vec![Dimension::LineOfEffort, Dimension::Country], false, &Filters::default())?;
    let mut out = std::io::stdout().lock();
    write_report(&r, &st, Format::Table, true, &mut out)?;
    let by_fy = build_report(&*store, &st.id, vec![Dimension::FiscalYear], false, &Filters::default())?;
    writeln!(out)?;
    write_report(&by_fy, &st, Format::Table, true, &mut out)?;
    writeln!(
        out,
        "\nNext: `senda --db {} activities`, `senda --db {} explain IDENTIFIER`, `senda --db {} report --by line_of_effort,fiscal_year`.",
        senda_store::redact(db),
        senda_store::redact(db),
        senda_store::redact(db)
    )?;
    drop(out);
    if a.no_serve {
        return Ok(());
    }
    drop(store);
    cmd_serve(db, a.listen, &a.allowed_hosts)
}

/// Serves the dashboard and API over `db` until Ctrl-C.
pub fn cmd_serve(db: &str, listen: std::net::SocketAddr, allowed_hosts: &[String]) -> Result<()> {
    // Settings are checked before the database is touched.
    let mut opts = senda_web::ServeOptions::new(listen);
    opts.allowed_hosts = allowed_hosts.to_vec();
    senda_web::guard::AllowedHosts::for_listen(listen, allowed_hosts).map_err(|e| anyhow::anyhow!("{e}"))?;
    senda_web::check_write_token(std::env::var("SENDA_API_TOKEN").ok().as_deref())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    {
        // Check the database and bring stored mappings up to date before serving.
        let mut store = open_existing_store(db)?;
        ensure_mappings(&mut *store)?;
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the server runtime")?;
    let location = senda_store::parse_target(db)?.display();
    rt.block_on(senda_web::serve(db.to_owned(), opts, |addr| {
        // A closed standard output must not stop the server.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Senda is serving {location} on http://{addr}/ (Ctrl-C to stop)");
        let _ = out.flush();
    }))
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// `senda migrate`: creates the database if needed and applies pending migrations.
fn cmd_migrate(db: &str) -> Result<()> {
    let mut store = senda_store::open(db, OpenMode::Create)?;
    let version = store.schema_version()?;
    let mut out = std::io::stdout().lock();
    // Fact segments a migration (or an interrupted writer) left stale are rebuilt now, so
    // that servers start from them.
    let segments = store.refresh_fact_segments()?;
    if segments > 0 {
        writeln!(out, "{}: rebuilt {segments} fact segment(s)", store.location())?;
    }
    let applied = store.applied_migrations();
    if applied.is_empty() {
        writeln!(out, "{} ({}): schema version {version}, up to date", store.location(), store.backend())?;
    } else {
        writeln!(
            out,
            "{} ({}): applied {} migration(s): {}; schema version {version}",
            store.location(),
            store.backend(),
            applied.len(),
            applied.join(", ")
        )?;
    }
    Ok(())
}

/// `senda copy`: the whole database `from` into `to`, then the proof.
fn cmd_copy(from: &str, to: &str, replace: bool) -> Result<i32> {
    if senda_store::parse_target(from)? == senda_store::parse_target(to)? {
        bail!("--from and --to name the same database ({})", senda_store::redact(to));
    }
    let source = open_existing_store(from)?;
    let mut target = senda_store::open(to, OpenMode::Create)?;
    // Both sides at the same schema: the source is migrated by opening it, the target too.
    let (sv, tv) = (source.schema_version()?, target.schema_version()?);
    if sv != tv {
        bail!("schema versions differ ({} has {sv}, {} has {tv})", source.location(), target.location());
    }
    let started = std::time::Instant::now();
    let report = senda_store::copy_database(&*source, &mut *target, replace)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "copied {} ({}) to {} ({}) in {:.2} s",
        source.location(),
        source.backend(),
        target.location(),
        target.backend(),
        started.elapsed().as_secs_f64()
    )?;
    let rows: Vec<Vec<String>> = report
        .tables
        .iter()
        .map(|(t, a, b)| {
            vec![t.clone(), count(*a), count(*b), if a == b { "equal".into() } else { "DIFFERENT".into() }]
        })
        .collect();
    let headers: Vec<String> = ["table", "rows in source", "rows in copy", "check"].map(String::from).to_vec();
    write!(out, "{}", table(&headers, &rows, &[false, true, true, false]))?;
    for (strategy, equal) in &report.reports_equal {
        writeln!(
            out,
            "report {strategy} by line_of_effort, country, fiscal_year: {}",
            if *equal { "equal" } else { "DIFFERENT" }
        )?;
    }
    if report.ok() {
        writeln!(out, "the copy is proven equal")?;
        Ok(0)
    } else {
        writeln!(out, "the copy DIFFERS from its source (see above)")?;
        Ok(1)
    }
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("senda-demo-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn cmd_stats(db: &str, c: StatsCommand) -> Result<i32> {
    use crate::values::*;
    let mut out = std::io::stdout().lock();
    match c {
        StatsCommand::Import { files, json } => cmd_import_values(db, &files, &Dataset::Stats, json),
        StatsCommand::List { json } => cmd_stats_list(db, json, &mut out).map(|_| 0),
        StatsCommand::Export { series, country, format } => {
            let country = country.map(|c| country_arg(&c).map(|c| c.as_str().to_owned())).transpose()?;
            let filter =
                senda_store::ObservationFilter { series, country, kinds: vec![senda_core::ValueKind::Observed] };
            cmd_export(db, &filter, format == ExportFormat::Json, &mut out).map(|_| 0)
        }
    }
}

fn cmd_results(db: &str, c: ResultsCommand) -> Result<i32> {
    use crate::values::*;
    match c {
        ResultsCommand::Import { files, strategy, json } => {
            let st = Strategy::builtin(&strategy)?;
            cmd_import_values(db, &files, &Dataset::Results(&st), json)
        }
        ResultsCommand::Template { strategy, output, force } => {
            crate::results_template::cmd_template(&strategy, output.as_deref(), force).map(|_| 0)
        }
        ResultsCommand::Export { indicator, country, format } => {
            let country = country.map(|c| country_arg(&c).map(|c| c.as_str().to_owned())).transpose()?;
            let filter = senda_store::ObservationFilter {
                series: indicator,
                country,
                kinds: vec![
                    senda_core::ValueKind::Baseline,
                    senda_core::ValueKind::Target,
                    senda_core::ValueKind::Actual,
                ],
            };
            let mut out = std::io::stdout().lock();
            cmd_export(db, &filter, format == ExportFormat::Json, &mut out).map(|_| 0)
        }
    }
}

/// " (N with new timestamps only)" after the unchanged files of an import summary, when any.
fn restamped_note(n: u64) -> String {
    if n == 0 { String::new() } else { format!(" ({n} with new timestamps only)") }
}

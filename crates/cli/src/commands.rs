//! One function per subcommand. Each opens the store, calls the libraries and prints.

use crate::cli::*;
use crate::format::{clip, count, table, thousands};
use crate::import::{ImportReport, import};
use anyhow::{Context, Result, bail};
use rust_decimal::Decimal;
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::mapping::Mapper;
use senda_core::report::{Dimension, Filters as ReportFilters, Report, SOURCE_ENTERED, SOURCE_IATI, Totals};
use senda_store::{ActivityFilter, OpenMode, Override, Store};
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
        Command::Activities(a) => cmd_activities(&db_path(&cli.db, "senda.db"), a).map(|_| 0),
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
        writeln!(out, "nothing changed in the database")?;
    }
    for f in r.file_reports.iter().filter(|f| f.error.is_some()) {
        writeln!(out, "rejected: {}", f.error.as_deref().unwrap_or_default())?;
    }
    for f in r.file_reports.iter().filter(|f| f.status == crate::import::FileStatus::Removed) {
        writeln!(out, "pruned: {} (no longer there): {} activities removed", f.path, count(f.removed))?;
    }
    Ok(())
}

fn parse_years(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim().trim_start_matches("FY").trim_start_matches("fy");
        if let Some((a, b)) = part.split_once("..") {
            let (a, b) = (full_year(a, part)?, full_year(b, part)?);
            if b < a {
                bail!("bad year range {part:?}: the end comes before the start");
            }
            if b - a > 200 {
                bail!("bad year range {part:?}: more than 200 years");
            }
            out.extend((a..=b).map(|y| y.to_string()));
        } else if !part.is_empty() {
            out.push(full_year(part, part)?.to_string());
        }
    }
    Ok(out)
}

/// A year written in full (four digits, `FY` allowed): `23` is refused rather than read as
/// year 23, which matches nothing.
fn full_year(s: &str, part: &str) -> Result<i32> {
    let t = s.trim().trim_start_matches("FY").trim_start_matches("fy");
    match t.parse::<i32>() {
        Ok(y) if t.len() == 4 && (1000..=9999).contains(&y) => Ok(y),
        Ok(_) => bail!("bad year {part:?}: write years in full, with four digits (e.g. 2023 or 2020..2024)"),
        Err(_) => bail!("bad year {part:?} (expected e.g. 2023 or 2020..2024)"),
    }
}

/// Builds a report from the store.
pub fn build_report(
    store: &dyn Store,
    strategy: &str,
    dims: Vec<Dimension>,
    calendar_year: bool,
    f: &Filters,
) -> Result<Report> {
    let st = Strategy::builtin(strategy)?;
    let f = &crate::orgs::resolve_filters(store, &st.id, f)?;
    let mut filters = ReportFilters::new();
    let mut put = |d: Dimension, v: &Vec<String>| {
        if !v.is_empty() {
            filters.insert(d, v.clone());
        }
    };
    put(Dimension::LineOfEffort, &f.line_of_effort);
    put(Dimension::Country, &f.country);
    put(Dimension::ReportingOrg, &f.reporting_org);
    put(Dimension::ImplementingOrg, &f.implementing_org);
    put(Dimension::Instrument, &f.instrument);
    put(Dimension::Sector, &f.sector);
    for v in &f.source {
        if ![SOURCE_IATI, SOURCE_ENTERED].iter().any(|k| k.eq_ignore_ascii_case(v.trim())) {
            bail!(
                "unknown source {v:?}: give {SOURCE_IATI} (imported activities) or {SOURCE_ENTERED} (interventions entered in Senda)"
            );
        }
    }
    put(Dimension::Source, &f.source.iter().map(|v| v.trim().to_ascii_lowercase()).collect());
    if let Some(y) = &f.fiscal_year {
        filters.insert(Dimension::FiscalYear, parse_years(y)?);
    }
    if let Some(lines) = filters.get_mut(&Dimension::LineOfEffort) {
        for l in lines.iter_mut() {
            if l.eq_ignore_ascii_case(senda_core::report::NOT_MAPPED) {
                *l = senda_core::report::NOT_MAPPED.to_owned();
                continue;
            }
            match st.lines_of_effort.iter().find(|x| x.id.eq_ignore_ascii_case(l)) {
                Some(x) => *l = x.id.clone(),
                None => bail!(
                    "unknown line of effort {l:?} in strategy {strategy} (known: {}, NOT_MAPPED)",
                    st.lines_of_effort.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    }
    if let Some(countries) = filters.get_mut(&Dimension::Country) {
        for c in countries.iter_mut() {
            *c = country_filter_value(c)?;
        }
    }
    let scope = if f.include_unpublished { ReadScope::Everything } else { ReadScope::PublishedOnly };
    Ok(senda_store::build_report_for(store, &st.id, scope, dims, calendar_year, filters)?)
}

/// A `--country` value as reports and lists hold it: an IATI country code (any case),
/// `REGIONAL` or `UNKNOWN`. Anything else is an error, as an unknown line of effort is (an
/// empty report would look like a country without money).
fn country_filter_value(raw: &str) -> Result<String> {
    let t = raw.trim();
    for special in [senda_core::attribution::REGIONAL, senda_core::attribution::UNKNOWN] {
        if t.eq_ignore_ascii_case(special) {
            return Ok(special.to_owned());
        }
    }
    match senda_core::codes::CountryCode::parse(t) {
        Ok(c) => Ok(c.to_string()),
        Err(_) => {
            bail!("unknown country {raw:?}: give an ISO 3166-1 alpha-2 code (e.g. GT, HN, SV), REGIONAL or UNKNOWN")
        }
    }
}

fn cmd_report(db: &str, a: ReportArgs) -> Result<()> {
    let Some(format) = a.format.table_format() else {
        return crate::printable::write(db, &a);
    };
    let mut dims: Vec<Dimension> = Vec::new();
    for s in a.by.iter().filter(|s| !s.trim().is_empty()) {
        let d = s.parse::<Dimension>().map_err(anyhow::Error::msg)?;
        if dims.contains(&d) {
            bail!("--by names {d} twice");
        }
        dims.push(d);
    }
    if dims.is_empty() {
        bail!("--by needs at least one of: {}", Dimension::ALL.map(|d| d.name()).join(", "));
    }
    let store = open_existing_store(db)?;
    let r = build_report(&*store, &a.strategy, dims, a.calendar_year, &a.filters)?;
    let st = Strategy::builtin(&a.strategy)?;
    let mut out = std::io::stdout().lock();
    let money = if a.gross { MoneyColumns::Gross } else { MoneyColumns::Net };
    write_report_with(&r, &st, format, store.synthetic_presence()?.0, money, &mut out)
}

/// Which money columns a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyColumns {
    /// Commitments, disbursements and expenditures, net of de-obligations and returns.
    Net,
    /// Also obligations and de-obligations, gross disbursements and returns (`--gross`).
    Gross,
}

/// A money column: its name and its value in a row's totals.
type MoneyColumn = (&'static str, fn(&Totals) -> Decimal);

impl MoneyColumns {
    /// Column names and the value of each for a row's totals.
    fn columns(self) -> Vec<MoneyColumn> {
        match self {
            MoneyColumns::Net => vec![
                ("commitments_usd", |t| t.commitments),
                ("disbursements_usd", |t| t.disbursements),
                ("expenditures_usd", |t| t.expenditures),
            ],
            MoneyColumns::Gross => vec![
                ("obligations_usd", |t| t.gross_commitments()),
                ("deobligations_usd", |t| t.deobligations),
                ("commitments_usd", |t| t.commitments),
                ("gross_disbursements_usd", |t| t.gross_disbursements()),
                ("returns_usd", |t| t.returns),
                ("disbursements_usd", |t| t.disbursements),
                ("expenditures_usd", |t| t.expenditures),
            ],
        }
    }
}

/// Writes a report in the chosen format.
pub fn write_report(r: &Report, st: &Strategy, format: Format, synthetic: bool, out: &mut dyn Write) -> Result<()> {
    write_report_with(r, st, format, synthetic, MoneyColumns::Net, out)
}

/// Writes a report in the chosen format with the chosen money columns. In JSON, `--gross`
/// adds a `gross` object to each row and the total (the same names as the CSV columns).
pub fn write_report_with(
    r: &Report,
    st: &Strategy,
    format: Format,
    synthetic: bool,
    money: MoneyColumns,
    out: &mut dyn Write,
) -> Result<()> {
    let cols = money.columns();
    let year_col = if r.calendar_year { "calendar_year" } else { "fiscal_year" };
    let mut headers: Vec<String> = r
        .dimensions
        .iter()
        .map(|d| if *d == Dimension::FiscalYear { year_col.to_owned() } else { d.name().to_owned() })
        .collect();
    headers.push("activities".into());
    headers.extend(cols.iter().map(|(n, _)| (*n).to_owned()));
    let has_other = !r.total.unconverted.is_empty();
    if has_other {
        headers.push("unconverted".into());
    }
    let other = |row: &senda_core::report::Row| {
        row.unconverted
            .iter()
            .map(|(c, t)| {
                format!(
                    "{c} commitments {} disbursements {} expenditures {}",
                    t.commitments, t.disbursements, t.expenditures
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&headers)?;
            for row in &r.rows {
                // Group values come from the data (organisation names): one that a spreadsheet
                // would run as a formula gets a leading `'`, as in the dashboard's downloads.
                let mut rec: Vec<String> = row.key.iter().map(|k| senda_web::api::csv_text(k)).collect();
                rec.push(row.activities.to_string());
                rec.extend(cols.iter().map(|(_, f)| f(&row.usd).to_string()));
                if has_other {
                    rec.push(other(row));
                }
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        Format::Json => {
            let gross = |row: &senda_core::report::Row| -> serde_json::Value {
                let mut v = serde_json::to_value(row).unwrap_or_default();
                if money == MoneyColumns::Gross {
                    let g: serde_json::Map<String, serde_json::Value> =
                        cols.iter().map(|(n, f)| ((*n).to_owned(), f(&row.usd).to_string().into())).collect();
                    v["gross"] = g.into();
                }
                v
            };
            let v = serde_json::json!({
                "strategy": st.id,
                "synthetic": synthetic,
                "dimensions": r.dimensions,
                "calendar_year": r.calendar_year,
                "rows": r.rows.iter().map(gross).collect::<Vec<_>>(),
                "total": gross(&r.total),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Table => {
            if synthetic {
                writeln!(
                    out,
                    "SYNTHETIC DEMO DATA: this database holds activities generated by `senda demo`, not real ones.\n"
                )?;
            }
            writeln!(
                out,
                "{} ({}): amounts in USD, rounded to the dollar (CSV and JSON are exact); years are {}.\n",
                st.title,
                st.short_title,
                if r.calendar_year { "calendar years" } else { "U.S. fiscal years (October-September)" }
            )?;
            let mut rows: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|row| {
                    let mut v: Vec<String> = row.key.iter().map(|k| clip(k, 48)).collect();
                    v.push(count(row.activities));
                    v.extend(cols.iter().map(|(_, f)| thousands(f(&row.usd))));
                    if has_other {
                        v.push(other(row));
                    }
                    v
                })
                .collect();
            let mut total: Vec<String> = vec![String::new(); r.dimensions.len()];
            if let Some(f) = total.first_mut() {
                *f = "TOTAL".into();
            }
            total.push(count(r.total.activities));
            total.extend(cols.iter().map(|(_, f)| thousands(f(&r.total.usd))));
            if has_other {
                total.push(other(&r.total));
            }
            rows.push(total);
            let right: Vec<bool> = headers.iter().enumerate().map(|(i, _)| i >= r.dimensions.len()).collect();
            write!(out, "{}", table(&headers, &rows, &right))?;
            if r.dimensions.contains(&Dimension::LineOfEffort) {
                writeln!(out)?;
                for l in &st.lines_of_effort {
                    if r.rows.iter().any(|row| row.key.contains(&l.id)) {
                        writeln!(out, "{:<10} {}", l.id, l.title)?;
                    }
                }
                writeln!(
                    out,
                    "{:<10} activities no rule maps to this strategy (still counted with their money)",
                    "NOT_MAPPED"
                )?;
                writeln!(out, "Money of an activity mapped to several lines of effort is split equally between them.")?;
            }
            if has_other {
                writeln!(
                    out,
                    "\nUnconverted amounts (no exchange rates yet; reported in their own currency, not in the USD columns): {}",
                    other(&r.total)
                )?;
            }
            let negative = |t: &Totals| t.commitments.is_sign_negative() || t.disbursements.is_sign_negative();
            if r.rows.iter().any(|row| negative(&row.usd)) || negative(&r.total.usd) {
                writeln!(
                    out,
                    "\nNegative amounts are net: U.S. files hold de-obligations (negative commitments) and returned \
                     disbursements whose original obligation is under another identifier or in an earlier year. \
                     `senda report --gross` shows them apart; `senda activities --negative-money` lists the activities."
                )?;
            }
            writeln!(
                out,
                "\nGrand total: commitments {} USD, disbursements {} USD, expenditures {} USD, {} activities.",
                thousands(r.total.usd.commitments),
                thousands(r.total.usd.disbursements),
                thousands(r.total.usd.expenditures),
                count(r.total.activities)
            )?;
        }
    }
    Ok(())
}

fn cmd_activities(db: &str, a: ActivitiesArgs) -> Result<()> {
    let store = open_existing_store(db)?;
    Strategy::builtin(&a.strategy)?;
    let limit = a.limit.or(if a.format == Format::Table { Some(50) } else { None });
    let country = a.country.as_deref().map(country_filter_value).transpose()?;
    let rows = store.list_activities(&ActivityFilter {
        strategy: a.strategy.clone(),
        line_of_effort: a.line_of_effort,
        country,
        reporting_org: a.reporting_org.as_deref().map(|o| crate::orgs::list_reporting_org(&*store, o)).transpose()?,
        text: a.text,
        status: a.status,
        negative_money: a.negative_money,
        limit,
        ..Default::default()
    })?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            // The same columns as the dashboard's CSV download.
            w.write_record(senda_web::api::CSV_COLUMNS)?;
            for r in &rows {
                // The dashboard's record: text cells a spreadsheet would run as a formula get a
                // leading `'`.
                w.write_record(senda_web::api::csv_record(r))?;
            }
            w.flush()?;
        }
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        Format::Table => {
            let headers: Vec<String> =
                ["iati_identifier", "title", "reporting_org", "countries", "lines_of_effort", "disbursements_usd"]
                    .map(String::from)
                    .to_vec();
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let d: rust_decimal::Decimal = r.disbursements_usd.parse().unwrap_or_default();
                    vec![
                        clip(&r.iati_identifier, 40),
                        clip(&r.title, 50),
                        clip(&r.reporting_org, 28),
                        r.countries.clone(),
                        if r.overridden { format!("{}*", r.lines_of_effort) } else { r.lines_of_effort.clone() },
                        thousands(d),
                    ]
                })
                .collect();
            write!(out, "{}", table(&headers, &body, &[false, false, false, false, false, true]))?;
            writeln!(
                out,
                "{} {} shown{}. * = analyst's override. Use --format csv for every row and column.",
                rows.len(),
                if rows.len() == 1 { "activity" } else { "activities" },
                if limit.is_some_and(|l| l > 0 && rows.len() as u64 >= l) { " (limit reached)" } else { "" }
            )?;
        }
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
        d.source.1 + 1
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
    let mut store = open_existing_store(db)?;
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
            let before = override_in_force(&*store, &identifier, &st.id)?;
            let o = Override {
                iati_identifier: identifier.clone(),
                strategy: st.id.clone(),
                lines_of_effort: lines.clone(),
                note,
                created_at: crate::import::now(),
            };
            store.set_override(&o)?;
            audit_override(&*store, "mapping_override.set", &identifier, before.as_ref(), Some(&o))?;
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
            let before = override_in_force(&*store, &identifier, &st.id)?;
            if store.remove_override(&identifier, &st.id, note.trim(), &crate::import::now())? {
                audit_override(&*store, "mapping_override.unset", &identifier, before.as_ref(), None)?;
                outln!("{identifier}: override removed; the rules decide again");
            } else {
                outln!("{identifier}: had no override in {}", st.id);
            }
        }
    }
    Ok(())
}

/// The analyst's override of an activity in force, if any (an unknown activity has none; the
/// write that follows then says it is unknown).
fn override_in_force(store: &dyn Store, identifier: &str, strategy: &str) -> Result<Option<Override>> {
    match store.activity(identifier, strategy) {
        Ok(d) => Ok(d.override_),
        Err(senda_store::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records an override decision in the audit trail (record `activity:IDENTIFIER`, the
/// override before and after as JSON), after the decision committed.
fn audit_override(
    store: &dyn Store,
    action: &str,
    identifier: &str,
    before: Option<&Override>,
    after: Option<&Override>,
) -> Result<()> {
    let json = |o: Option<&Override>| o.map(serde_json::to_string).transpose();
    store
        .record_audit(
            &crate::accounts::cli_actor(),
            action,
            &format!("activity:{identifier}"),
            json(before)?.as_deref(),
            json(after)?.as_deref(),
            None,
            crate::accounts::unix_now(),
        )
        .context("the override was written, but its audit event could not be recorded")?;
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

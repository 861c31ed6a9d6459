//! `senda report --format html|pdf|xlsx`: the printable progress report of
//! [`senda_web::printable`] written to a file.
//!
//! - `html`: the self-contained document as rendered.
//! - `pdf`: the same document printed by headless Chromium (found through `SENDA_CHROMIUM`,
//!   then `chromium`, `chromium-browser`, `google-chrome` on `PATH`), with a temporary profile,
//!   stdin closed and a time limit; the output must start with `%PDF`.
//! - `xlsx`: the report's tables as a workbook (sheets Summary, Money, Indicators, Context,
//!   Activities). Column headers are snake_case English whatever `--lang` (machine-readable);
//!   only the Summary sheet carries a translated title row. Amounts are numbers, not text.

use crate::cli::{ReportArgs, ReportFormat};
use crate::commands::open_existing_store;
use anyhow::{Context, Result, anyhow, bail};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format as XFormat, Workbook, Worksheet};
use senda_core::Strategy;
use senda_core::indicator::{Combined, IndicatorKind, SeriesPoint};
use senda_web::i18n::{Catalogs, Locale};
use senda_web::printable::{self, PrintData, PrintOptions, status_counts};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest time Chromium may take to print the report.
pub const PDF_TIMEOUT: Duration = Duration::from_secs(120);

/// Writes the printable report of `db` in the format, language and file `a` asks for.
pub fn write(db: &str, a: &ReportArgs) -> Result<()> {
    let loc = Locale::from_tag(&a.lang)
        .ok_or_else(|| anyhow!("--lang {:?}: expected en or es (or es-GT, es-HN, es-SV, es-MX)", a.lang))?;
    let st = Strategy::builtin(&a.strategy)?;
    let ext = match a.format {
        ReportFormat::Pdf => "pdf",
        ReportFormat::Xlsx => "xlsx",
        _ => "html",
    };
    let out = a.output.clone().unwrap_or_else(|| PathBuf::from(format!("senda-report.{ext}")));
    let store = open_existing_store(db)?;
    let opts = PrintOptions::default();
    let data = printable::collect(&*store, &st, loc.lang, &opts)?;
    let cat = Catalogs::load()?;
    match a.format {
        ReportFormat::Xlsx => write_xlsx(&data, &st, &cat, loc, &out)?,
        ReportFormat::Pdf => {
            let html = printable::render(&data, &st, &cat, loc, &opts);
            let chromium = find_chromium()?;
            html_to_pdf(&chromium, &html, &out)?;
        }
        _ => {
            let html = printable::render(&data, &st, &cat, loc, &opts);
            std::fs::write(&out, html).with_context(|| format!("cannot write {}", out.display()))?;
        }
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// The browser that prints PDFs: `SENDA_CHROMIUM` (must exist), else the first of
/// `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable` on `PATH`.
pub fn find_chromium() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SENDA_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!("SENDA_CHROMIUM={} is not a file: point it at a Chromium or Chrome executable", p.display());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    bail!(
        "PDF needs Chromium, which was not found (SENDA_CHROMIUM, or chromium, chromium-browser, google-chrome on PATH): install it (Debian/Ubuntu: `apt-get install chromium`) or write --format html and print it from a browser"
    )
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!("senda-report-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
        Ok(Self(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `file://` URL of an absolute path (bytes outside the unreserved set percent-encoded).
fn file_url(p: &Path) -> String {
    let mut s = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Prints `html` to `out` (A4, no browser header or footer) with headless `chromium`.
pub fn html_to_pdf(chromium: &Path, html: &str, out: &Path) -> Result<()> {
    let tmp = TempDir::new()?;
    let page = tmp.0.join("report.html");
    std::fs::write(&page, html).with_context(|| format!("cannot write {}", page.display()))?;
    let pdf = tmp.0.join("report.pdf");
    let log = tmp.0.join("chromium.log");
    let log_file = std::fs::File::create(&log)?;
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
        ])
        .arg(format!("--user-data-dir={}", tmp.0.join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(file_url(&page))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file))
        .spawn()
        .with_context(|| format!("cannot start {}", chromium.display()))?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > PDF_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} did not print the PDF within {} s", chromium.display(), PDF_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    if !bytes.starts_with(b"%PDF") {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        bail!(
            "{} did not write a PDF (exit status {status}); its last messages: {}",
            chromium.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn num(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

struct Sheet<'a> {
    ws: &'a mut Worksheet,
    row: u32,
    bold: &'a XFormat,
    money: &'a XFormat,
}

/// A cell of a sheet row.
enum Cell {
    Text(String),
    Number(f64),
    Money(Decimal),
    Empty,
}

impl Sheet<'_> {
    fn header(&mut self, cols: &[&str]) -> Result<()> {
        for (i, c) in cols.iter().enumerate() {
            self.ws.write_string_with_format(self.row, i as u16, *c, self.bold)?;
            self.ws.set_column_width(i as u16, (c.len() as f64 + 4.0).max(12.0))?;
        }
        self.ws.set_freeze_panes(self.row + 1, 0)?;
        self.row += 1;
        Ok(())
    }
    fn row(&mut self, cells: Vec<Cell>) -> Result<()> {
        for (i, c) in cells.into_iter().enumerate() {
            let col = i as u16;
            match c {
                Cell::Text(s) => {
                    self.ws.write_string(self.row, col, s)?;
                }
                Cell::Number(n) => {
                    self.ws.write_number(self.row, col, n)?;
                }
                Cell::Money(d) => {
                    self.ws.write_number_with_format(self.row, col, num(d), self.money)?;
                }
                Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// A combined value: a number, `not_aggregable`, or empty.
fn point_cell(p: &Option<SeriesPoint>) -> Cell {
    match p.as_ref().map(|p| &p.value) {
        Some(Combined::Value(v)) => Cell::Number(num(*v)),
        Some(Combined::NotAggregable) => text("not_aggregable"),
        None => Cell::Empty,
    }
}

/// `fiscal_year` as a number when it is a year (`unknown` stays text).
fn year_cell(y: &str) -> Cell {
    match y.parse::<u16>() {
        Ok(n) if y.len() == 4 => Cell::Number(f64::from(n)),
        _ => text(y),
    }
}

/// Writes the workbook: Summary (translated title row, then snake_case columns), Money,
/// Indicators, Context, Activities.
pub fn write_xlsx(data: &PrintData, st: &Strategy, cat: &Catalogs, loc: Locale, out: &Path) -> Result<()> {
    let lang = loc.lang;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let title_fmt = XFormat::new().set_bold().set_font_size(14);
    let money = XFormat::new().set_num_format("#,##0.00");

    // Summary.
    let ws = wb.add_worksheet();
    ws.set_name("Summary")?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} · {} ({})", cat.t(lang, "print-title"), st.title, st.short_title),
        &title_fmt,
    )?;
    let as_of = match &data.data_as_of {
        Some(d) => cat.t_args(lang, "print-data-as-of", &[("date", cat.date(lang, d))]),
        None => cat.t(lang, "print-data-as-of-none"),
    };
    ws.write_string(1, 0, as_of)?;
    if data.synthetic {
        ws.write_string_with_format(2, 0, cat.t(lang, "synthetic-banner"), &bold)?;
    }
    let mut s = Sheet { ws, row: 4, bold: &bold, money: &money };
    s.header(&[
        "line_of_effort",
        "title",
        "activities",
        "commitments_usd",
        "disbursements_usd",
        "expenditures_usd",
        "indicators_achieved",
        "indicators_on_track",
        "indicators_off_track",
        "indicators_not_assessable",
        "indicators_no_data",
    ])?;
    let loes = st.lines_of_effort.iter().map(|l| l.id.as_str()).chain([senda_core::report::NOT_MAPPED]);
    for id in loes {
        let Some(r) = data.by_loe.rows.iter().find(|r| r.key[0] == id) else {
            if id == senda_core::report::NOT_MAPPED {
                continue;
            }
            let mut cells = vec![text(id), text(loe_title(st, id, lang)), Cell::Number(0.0)];
            cells.extend([Cell::Money(Decimal::ZERO), Cell::Money(Decimal::ZERO), Cell::Money(Decimal::ZERO)]);
            cells.extend(status_counts(data, id).map(|n| Cell::Number(n as f64)));
            s.row(cells)?;
            continue;
        };
        let mut cells = vec![
            text(id),
            text(loe_title(st, id, lang)),
            Cell::Number(r.activities as f64),
            Cell::Money(r.usd.commitments),
            Cell::Money(r.usd.disbursements),
            Cell::Money(r.usd.expenditures),
        ];
        if id != senda_core::report::NOT_MAPPED {
            cells.extend(status_counts(data, id).map(|n| Cell::Number(n as f64)));
        }
        s.row(cells)?;
    }
    let t = &data.by_loe.total;
    s.row(vec![
        text("TOTAL"),
        Cell::Empty,
        Cell::Number(t.activities as f64),
        Cell::Money(t.usd.commitments),
        Cell::Money(t.usd.disbursements),
        Cell::Money(t.usd.expenditures),
    ])?;
    if !t.unconverted.is_empty() {
        s.row = s.row.saturating_add(1);
        s.header(&["unconverted_currency", "commitments", "disbursements", "expenditures"])?;
        for (c, x) in &t.unconverted {
            s.row(vec![
                text(c),
                Cell::Money(x.commitments),
                Cell::Money(x.disbursements),
                Cell::Money(x.expenditures),
            ])?;
        }
    }
    // The first page's coverage flag: focus countries lacking an expected publisher.
    if !data.coverage.gaps.is_empty() {
        s.row = s.row.saturating_add(1);
        s.ws.write_string_with_format(
            s.row,
            0,
            format!("{} {}", cat.t(lang, "coverage-gaps-title"), cat.t(lang, "coverage-gaps-why")),
            &bold,
        )?;
        s.row += 1;
        s.header(&["coverage_gap_country", "expected_publisher_ref", "expected_publisher"])?;
        for g in &data.coverage.gaps {
            s.row(vec![text(g.country.as_str()), text(&g.publisher.r#ref), text(g.publisher.label())])?;
        }
    }
    s.ws.set_column_width(1, 48)?;

    // Money.
    let ws = wb.add_worksheet();
    ws.set_name("Money")?;
    let mut s = Sheet { ws, row: 0, bold: &bold, money: &money };
    s.header(&[
        "line_of_effort",
        "country",
        "fiscal_year",
        "activities",
        "commitments_usd",
        "disbursements_usd",
        "expenditures_usd",
    ])?;
    for r in &data.by_loe_country_fy.rows {
        s.row(vec![
            text(&r.key[0]),
            text(&r.key[1]),
            year_cell(&r.key[2]),
            Cell::Number(r.activities as f64),
            Cell::Money(r.usd.commitments),
            Cell::Money(r.usd.disbursements),
            Cell::Money(r.usd.expenditures),
        ])?;
    }
    let last = s.row.saturating_sub(1).max(1);
    s.ws.autofilter(0, 0, last, 6)?;

    // Indicators: the focus countries together, then each focus country.
    let ws = wb.add_worksheet();
    ws.set_name("Indicators")?;
    let mut s = Sheet { ws, row: 0, bold: &bold, money: &money };
    s.header(&[
        "scope",
        "code",
        "line_of_effort",
        "name",
        "unit",
        "direction",
        "baseline",
        "target",
        "latest_actual",
        "period",
        "percent_of_target",
        "status",
    ])?;
    let region = st.focus_countries.iter().map(|c| c.as_str()).collect::<Vec<_>>().join("+");
    let scopes = std::iter::once((region, &data.regional)).chain(data.per_country.iter().map(|(c, v)| (c.clone(), v)));
    for (scope, views) in scopes {
        for v in views.iter().filter(|v| v.def.kind == IndicatorKind::Result) {
            let p = &v.progress;
            s.row(vec![
                text(&scope),
                text(&v.def.code),
                text(&v.def.line_of_effort),
                text(v.def.name_in(lang.code())),
                text(&v.def.unit),
                text(match v.def.direction {
                    senda_core::indicator::Direction::Up => "up",
                    senda_core::indicator::Direction::Down => "down",
                }),
                point_cell(&p.baseline),
                point_cell(&p.target),
                point_cell(&p.latest_actual),
                p.latest_actual.as_ref().map_or(Cell::Empty, |a| text(a.period.to_string())),
                p.percent_of_target.map_or(Cell::Empty, |x| Cell::Number(num(x))),
                text(p.status.as_str()),
            ])?;
        }
    }
    s.ws.set_column_width(3, 60)?;

    // Context: the statistic per period and focus country.
    let ws = wb.add_worksheet();
    ws.set_name("Context")?;
    let mut s = Sheet { ws, row: 0, bold: &bold, money: &money };
    s.header(&["indicator", "series", "country", "period", "value"])?;
    for (c, views) in &data.per_country {
        for v in views.iter().filter(|v| v.def.kind == IndicatorKind::Context) {
            for p in &v.progress.actuals {
                s.row(vec![
                    text(&v.def.code),
                    text(v.def.series.clone().unwrap_or_default()),
                    text(c),
                    text(p.period.to_string()),
                    point_cell(&Some(p.clone())),
                ])?;
            }
        }
    }

    // Activities: the main interventions per line of effort.
    let ws = wb.add_worksheet();
    ws.set_name("Activities")?;
    let mut s = Sheet { ws, row: 0, bold: &bold, money: &money };
    s.header(&[
        "line_of_effort",
        "iati_identifier",
        "title",
        "reporting_org",
        "countries",
        "commitments_usd",
        "disbursements_usd",
    ])?;
    for (loe, rows) in &data.top_activities {
        for r in rows {
            s.row(vec![
                text(loe),
                text(&r.iati_identifier),
                text(&r.title),
                text(&r.reporting_org),
                text(&r.countries),
                Cell::Money(r.commitments_usd.parse().unwrap_or_default()),
                Cell::Money(r.disbursements_usd.parse().unwrap_or_default()),
            ])?;
        }
    }
    s.ws.set_column_width(2, 60)?;

    // Coverage: publishers by country with their fiscal years, then every file's
    // generated-datetime.
    let ws = wb.add_worksheet();
    ws.set_name("Coverage")?;
    let mut s = Sheet { ws, row: 0, bold: &bold, money: &money };
    s.header(&[
        "publisher_ref",
        "publisher",
        "country",
        "activities",
        "first_fiscal_year",
        "last_fiscal_year",
        "fiscal_years",
    ])?;
    for p in &data.coverage.publishers {
        for (country, c) in &p.countries {
            let fy = |y: Option<&i32>| y.map_or(Cell::Empty, |y| Cell::Number(f64::from(*y)));
            s.row(vec![
                text(p.r#ref.clone().unwrap_or_default()),
                text(p.names.join(" / ")),
                text(country),
                Cell::Number(c.activities as f64),
                fy(c.fiscal_years.first()),
                fy(c.fiscal_years.last()),
                Cell::Number(c.fiscal_years.len() as f64),
            ])?;
        }
    }
    s.row = s.row.saturating_add(1);
    s.header(&["file", "publishers", "activities", "generated_datetime", "imported_at"])?;
    for f in &data.files {
        s.row(vec![
            text(senda_web::paths::shown(&f.path)),
            text(
                f.publishers
                    .iter()
                    .map(|(r, n, _)| r.clone().unwrap_or_else(|| n.clone()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::Number(f.activities as f64),
            f.generated_datetime.as_deref().map_or(Cell::Empty, text),
            text(&f.imported_at),
        ])?;
    }
    s.ws.set_column_width(1, 48)?;

    wb.save(out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn loe_title(st: &Strategy, id: &str, lang: senda_web::i18n::Lang) -> String {
    match st.line_of_effort(id) {
        Some(l) if lang == senda_web::i18n::Lang::Es => l.title_es.clone().unwrap_or_else(|| l.title.clone()),
        Some(l) => l.title.clone(),
        None => id.to_owned(),
    }
}

//! The printable progress report (`senda report --format html|pdf|xlsx`, `GET /report`): what a
//! reader checks in it. The demo database for the HTML, PDF and XLSX; hand-made indicator
//! values for statuses and "not aggregable".

use crate::support::*;
use rust_decimal::Decimal;
use senda_core::indicator::Scope;
use senda_core::{Observation, Period, Place, Strategy, ValueKind};
use senda_store::{Store, ValueBatch};
use senda_web::i18n::Locale;
use senda_web::printable::{PrintOptions, render_report_html};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn senda(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SENDA_DB")
        .output()
        .expect("run senda")
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "senda failed: {}", String::from_utf8_lossy(&o.stderr));
    o
}

/// A demo database (synthetic activities and indicator values) in a temporary folder.
fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    ok(senda(&db, &["demo", "--no-serve"]));
    (dir, db)
}

/// The grand total of `senda report --format json` (what the printed totals must equal).
fn json_total(db: &Path) -> senda_core::report::Totals {
    let o = ok(senda(db, &["report", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let d =
        |k: &str| -> Decimal { v["total"]["usd"][k].as_str().expect("exact amount as text").parse().expect("decimal") };
    senda_core::report::Totals {
        commitments: d("commitments"),
        disbursements: d("disbursements"),
        expenditures: d("expenditures"),
        ..Default::default()
    }
}

fn html_report(db: &Path, lang: &str) -> String {
    let out = db.with_file_name(format!("report-{lang}.html"));
    ok(senda(db, &["report", "--format", "html", "--lang", lang, "--output", out.to_str().expect("utf8")]));
    std::fs::read_to_string(&out).expect("html written")
}

/// The text of the element whose opening tag carries `id="{id}"`, up to the next section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    let end = rest[1..].find("<section").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Attribute values of `src=` and `href=` (quoted), to find external references.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\"", "src='", "href='"] {
        let quote = attr.chars().last().unwrap_or('"');
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            out.push(rest.split(quote).next().unwrap_or("").to_owned());
        }
    }
    out
}

fn check_self_contained(html: &str) {
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("<link"), "no linked stylesheet or font");
    assert!(!html.contains("@import") && !html.contains("@font-face"), "no CSS fetch");
    assert!(!html.contains("url(http") && !html.contains("url(//") && !html.contains("url(\"http"), "no CSS fetch");
    let external: Vec<String> =
        references(html).into_iter().filter(|r| r.starts_with("http") || r.starts_with("//")).collect();
    assert!(external.is_empty(), "external references: {external:?}");
    assert!(html.contains("<style>"), "inline styles");
    let svgs = html.matches("<svg").count();
    assert!(svgs >= 8, "{svgs} charts");
    assert_eq!(html.matches("<svg role=\"img\"").count(), svgs, "every chart is an image with a name");
    assert!(html.matches("<details class=\"chart-data\" open>").count() >= svgs, "each chart's table is open");
}

#[test]
fn html_report_of_the_demo_in_english_and_spanish() {
    let (_dir, db) = demo();
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    let total = json_total(&db);
    for (lang, loc) in [("en", Locale::EN), ("es", Locale::ES)] {
        let html = html_report(&db, lang);
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"") && html.contains(&format!("<html lang=\"{lang}\">")));
        check_self_contained(&html);
        assert_eq!(html.matches("class=\"part loe-section\"").count(), st.lines_of_effort.len());
        for l in &st.lines_of_effort {
            assert!(html.contains(&format!("<section class=\"part loe-section\" id=\"loe-{}\"", l.id)), "{}", l.id);
        }
        assert_eq!(html.matches("class=\"part country-section\"").count(), st.focus_countries.len());
        for c in &st.focus_countries {
            assert!(html.contains(&format!("id=\"country-{}\"", c.as_str())), "{c:?}");
        }
        // The printed grand totals are `senda report`'s, in the reader's number format.
        let summary = &html[..html.find("<section").expect("sections")];
        for amount in [total.commitments, total.disbursements, total.expenditures] {
            let printed = format!("<span class=\"value\">{}</span>", loc.usd(amount));
            assert!(summary.contains(&printed), "{lang}: {printed} not in the summary");
        }
        assert!(summary.contains("class=\"banner\""), "synthetic-data banner");
    }
    let es = html_report(&db, "es");
    for heading in ["Resumen", "Indicadores frente a sus metas", "Intervenciones principales", "Tendencias de contexto"]
    {
        assert!(es.contains(heading), "Spanish heading {heading:?}");
    }
    assert!(!es.contains("Indicators against targets"), "no English heading in the Spanish report");
    // CLDR `es`: US$ with a no-break space, `.` between thousands.
    let d = Locale::ES.usd(total.disbursements);
    assert!(d.starts_with("US$\u{a0}") && d.contains('.') && !d.contains(','), "{d}");
}

fn obs(code: &str, place: &str, period: &str, kind: ValueKind, v: i64) -> Observation {
    Observation {
        series: code.into(),
        place: Place::parse(place).expect("place"),
        period: Period::parse(period).expect("period"),
        disaggregation: Default::default(),
        kind,
        value: Decimal::from(v),
        denominator: None,
        row: 0,
    }
}

#[test]
fn indicator_statuses_and_not_aggregable_values_are_printed_as_words() {
    let (_dir, mut store) = db();
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    let mut observations = Vec::new();
    for code in ["LOE5-1", "LOE6-2"] {
        let def = st.indicator(code).expect("indicator");
        let version = store.ensure_indicator_definition(STRATEGY, def).expect("definition").id;
        let rows = if code == "LOE5-1" {
            // GT: 60 % of the way half-way in time (on track); HN: 20 % (off track);
            // together (sum): 800 of 2,000, 40 % (off track).
            vec![
                obs(code, "GT", "FY2021", ValueKind::Baseline, 0),
                obs(code, "GT", "FY2025", ValueKind::Target, 1000),
                obs(code, "GT", "FY2023", ValueKind::Actual, 600),
                obs(code, "HN", "FY2021", ValueKind::Baseline, 0),
                obs(code, "HN", "FY2025", ValueKind::Target, 1000),
                obs(code, "HN", "FY2023", ValueKind::Actual, 200),
            ]
        } else {
            // A median (not_additive) in two countries: never combined.
            vec![obs(code, "GT", "FY2023", ValueKind::Actual, 31), obs(code, "HN", "FY2023", ValueKind::Actual, 45)]
        };
        observations.extend(rows.into_iter().map(|o| (o, Some(version))));
    }
    store
        .import_values(&ValueBatch {
            dataset: "results",
            path: Some("results.csv".into()),
            format: "results-csv".into(),
            content_hash: "test".into(),
            series: vec![],
            observations,
            report: serde_json::json!({}),
            actor: senda_store::accounts::Actor::cli(),
            audit_record: "values:results:cmms-2021".into(),
        })
        .expect("values");
    // The regional view itself says what the report must print.
    let region =
        senda_store::indicator_views(&store, &st, &Scope::Countries(st.focus_countries.clone())).expect("views");
    let median = region.iter().find(|v| v.def.code == "LOE6-2").expect("LOE6-2");
    assert_eq!(
        median.progress.latest_actual.as_ref().map(|p| p.value.clone()),
        Some(senda_core::indicator::Combined::NotAggregable)
    );

    let html = render_report_html(&store, &st, &Locale::EN, &PrintOptions::default()).expect("report");
    let row = |sec: &str, code: &str| -> String {
        let s = section(&html, sec);
        let i = s.find(&format!("<strong>{code}</strong>")).unwrap_or_else(|| panic!("{code} in {sec}"));
        s[i..].split("</tr>").next().unwrap_or("").to_owned()
    };
    let loe5 = row("loe-LOE5", "LOE5-1");
    assert!(
        loe5.contains(">off track<") && loe5.contains("40.0%") && loe5.contains(">800<") && loe5.contains("2,000"),
        "{loe5}"
    );
    let gt = row("country-GT", "LOE5-1");
    assert!(gt.contains(">on track<") && gt.contains("60.0%") && gt.contains("600"), "{gt}");
    let hn = row("country-HN", "LOE5-1");
    assert!(hn.contains(">off track<") && hn.contains("20.0%"), "{hn}");
    let loe6 = row("loe-LOE6", "LOE6-2");
    assert!(loe6.contains("not aggregable"), "{loe6}");
    assert!(!loe6.contains(">76<") && !loe6.contains(">38<"), "never a sum or a mean: {loe6}");
    assert!(row("country-GT", "LOE6-2").contains("31"), "one country alone has its value");
    // Summary counts: LOE5 has one result indicator, off track.
    let summary = &html[..html.find("<section").expect("sections")];
    let loe5_sum = summary[summary.find("href=\"#loe-LOE5\"").expect("LOE5 row")..].split("</tr>").next().unwrap_or("");
    let cells: Vec<&str> =
        loe5_sum.split("<td class=\"num\">").skip(4).map(|c| c.split('<').next().unwrap_or("")).collect();
    assert_eq!(cells, ["0", "0", "1", "0", "0"], "achieved, on track, off track, not assessable, no data");

    let es = render_report_html(&store, &st, &Locale::ES, &PrintOptions::default()).expect("informe");
    assert!(es.contains(">con retraso<") && es.contains("40,0\u{a0}%") && es.contains("no agregable"));
}

/// Page objects of a PDF (`/Type /Page`, not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(pos) = pdf[i..].windows(5).position(|w| w == b"/Type") {
        let mut j = i + pos + 5;
        while pdf.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if pdf[j..].starts_with(b"/Page") && pdf.get(j + 5) != Some(&b's') {
            n += 1;
        }
        i = j;
    }
    n
}

#[test]
fn pdf_report_has_pages_when_chromium_is_installed() {
    if let Err(e) = senda::printable::find_chromium() {
        eprintln!("skipped (CI installs chromium): {e}");
        return;
    }
    let (dir, db) = demo();
    let out = dir.path().join("report.pdf");
    ok(senda(&db, &["report", "--format", "pdf", "--lang", "es", "-o", out.to_str().expect("utf8")]));
    let pdf = std::fs::read(&out).expect("pdf written");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let pages = pdf_pages(&pdf);
    assert!(pages >= 2 + 8 + 3, "cover, a page per line of effort and country at least: {pages} pages");
}

#[test]
fn pdf_without_chromium_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    ok(senda(
        &db,
        &["import", "--no-progress", write(dir.path(), "a.xml", activity_xml("XM-T-1", "")).to_str().expect("utf8")],
    ));
    let out = dir.path().join("r.pdf");
    let run = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_senda"));
        c.arg("--db").arg(&db).args(["report", "--format", "pdf", "-o"]).arg(&out).env_remove("SENDA_DB");
        c.env_remove("SENDA_CHROMIUM");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run")
    };
    let o = run(&[("PATH", "")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("apt-get install chromium") && !err.contains("panicked"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    let o = run(&[("SENDA_CHROMIUM", "/nonexistent/chromium")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("SENDA_CHROMIUM=/nonexistent/chromium is not a file"));
    assert!(!out.exists(), "no file written");
}

#[test]
fn xlsx_report_has_its_sheets_and_money_adds_up_to_the_json_total() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let (dir, db) = demo();
    let total = json_total(&db);
    let out = dir.path().join("report.xlsx");
    ok(senda(&db, &["report", "--format", "xlsx", "--lang", "es", "-o", out.to_str().expect("utf8")]));
    let mut wb: Xlsx<_> = open_workbook(&out).expect("xlsx readable");
    assert_eq!(wb.sheet_names(), ["Summary", "Money", "Indicators", "Context", "Activities", "Coverage"]);
    // Coverage: the demo lacks DoD, USDA and MCC (issue 21 item 3), on the summary and its sheet.
    let summary = wb.worksheet_range("Summary").expect("Summary");
    let gaps: Vec<(String, String)> = summary
        .rows()
        .skip_while(|r| r.first().map(|c| c.to_string()).as_deref() != Some("coverage_gap_country"))
        .skip(1)
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    assert!(
        gaps.contains(&("HN".into(), "US-GOV-7".into())) && gaps.contains(&("GT".into(), "US-GOV-18".into())),
        "{gaps:?}"
    );
    assert!(!gaps.contains(&("HN".into(), "US-GOV-18".into())), "MCC is expected in SV and GT only: {gaps:?}");
    let cov = wb.worksheet_range("Coverage").expect("Coverage");
    let text: Vec<String> = cov.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(text.iter().any(|c| c == "US-GOV-19") && text.iter().any(|c| c == "2026-01-01T00:00:00Z"), "{text:?}");
    let money = wb.worksheet_range("Money").expect("Money sheet");
    let header: Vec<String> = money.rows().next().expect("header").iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "line_of_effort",
            "country",
            "fiscal_year",
            "activities",
            "commitments_usd",
            "disbursements_usd",
            "expenditures_usd"
        ]
    );
    let mut sum = 0.0;
    for row in money.rows().skip(1) {
        match &row[5] {
            Data::Float(f) => sum += f,
            other => panic!("disbursement is not a number: {other:?}"),
        }
        assert!(matches!(row[2], Data::Float(_) | Data::String(_)));
    }
    let expected: f64 = total.disbursements.to_string().parse().expect("f64");
    assert!((sum - expected).abs() < 0.01, "Money sheet {sum} vs JSON {expected}");
    let summary = wb.worksheet_range("Summary").expect("Summary");
    let title = summary.get((0, 0)).map(|c| c.to_string()).unwrap_or_default();
    assert!(title.starts_with("Informe de avance"), "translated title row: {title}");
    let ind = wb.worksheet_range("Indicators").expect("Indicators");
    assert!(ind.rows().count() > 1, "demo indicators listed");
    let ctx = wb.worksheet_range("Context").expect("Context");
    assert!(ctx.rows().count() > 1, "demo statistics listed");
}

#[test]
fn report_route_serves_the_printable_report_with_its_own_policy() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (_dir, db) = demo();
    let app =
        senda_web::router(std::sync::Arc::new(senda_web::AppState::new(db.display().to_string()).expect("state")));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (status, csp, body) = rt.block_on(async {
        let r = app.oneshot(Request::get("/report?lang=es").body(Body::empty()).expect("req")).await.expect("resp");
        let csp =
            r.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        (status, csp, String::from_utf8_lossy(&bytes).into_owned())
    });
    assert_eq!(status, 200);
    assert!(
        csp.contains("script-src 'none'")
            && csp.contains("style-src 'unsafe-inline'")
            && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(body.contains("<html lang=\"es\">") && body.contains("Informe de avance"));
    check_self_contained(&body);
}

/// Issue 21 item 3: the printed report's first page and the overview flag the focus countries
/// lacking an expected publisher (the demo's agencies are five of the strategy's expected
/// ones: DoD, USDA and MCC are missing), and the report ends with the coverage section.
#[test]
fn the_cover_and_the_overview_flag_focus_countries_lacking_an_expected_publisher() {
    let (_dir, db) = demo();
    let coverage = String::from_utf8(ok(senda(&db, &["coverage"])).stdout).expect("utf8");
    assert!(coverage.contains("HN: DoD (US-GOV-7), USDA (US-GOV-2)\n"), "{coverage}");
    let rt = crate::web::runtime();
    let app = crate::web::app(&db);
    for (lang, title, see) in [
        ("en", "Missing data.", "Data coverage: the last section of this report."),
        ("es", "Faltan datos.", "Cobertura de los datos: la última sección de este informe."),
    ] {
        let html = html_report(&db, lang);
        let cover = &html[..html.find("<section").expect("sections")];
        let flag = &cover[cover.find("class=\"coverage-flag\"").expect("flag on the cover")..];
        let flag = &flag[..flag.find("</div>").expect("end of flag")];
        assert!(flag.contains(title) && flag.contains(see), "{lang}: {flag}");
        assert!(flag.contains("<li><strong>Honduras</strong>: DoD (US-GOV-7), USDA (US-GOV-2)</li>"), "{flag}");
        assert!(flag.contains("<li><strong>Guatemala</strong>: DoD (US-GOV-7), USDA (US-GOV-2), MCC (US-GOV-18)</li>"));
        assert!(cover.contains("href=\"#coverage\""), "the contents list the coverage section");
        // The section: publishers by country with their fiscal years, the gaps, the files.
        let sec = section(&html, "coverage");
        let fy = if lang == "es" { "AF2018" } else { "FY2018" };
        assert!(sec.contains("US-GOV-19") && sec.contains(fy), "{lang}: {sec}");
        assert!(sec.contains("senda-synthetic-demo.xml") && sec.contains("2026-01-01 00:00 UTC"), "{sec}");
        assert!(
            sec.contains("<li><strong>El Salvador</strong>: DoD (US-GOV-7), USDA (US-GOV-2), MCC (US-GOV-18)</li>")
        );
        // The overview says the same.
        let page = crate::web::get(&rt, &app, "/", &[("accept-language", lang)]);
        let banner = &page.body[page.body.find("coverage-gaps").expect("overview flag")..];
        assert!(banner.contains(title), "{lang}");
        assert!(banner.contains(">Honduras (HN)</a>: DoD (US-GOV-7), USDA (US-GOV-2)</li>"), "{lang}");
    }
}

/// Issue 21 item 5: `senda report --by sector` names the DAC sectors beside their codes (the
/// CSV keeps the code alone, for machines).
#[test]
fn sector_tables_name_the_dac_sectors() {
    let (_dir, db) = demo();
    let table = String::from_utf8(ok(senda(&db, &["report", "--by", "sector"])).stdout).expect("utf8");
    assert!(table.lines().any(|l| l.starts_with("11220 Primary education ")), "{table}");
    let csv = String::from_utf8(ok(senda(&db, &["report", "--by", "sector", "--format", "csv"])).stdout).expect("utf8");
    assert!(csv.lines().any(|l| l.starts_with("11220,")), "{csv}");
}

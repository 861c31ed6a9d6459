//! The `senda` binary end to end: exit statuses, CSV/JSON/table outputs, overrides surviving
//! re-imports, explanations, re-mapping after a strategy change, unconverted currencies, demo.

use crate::support::*;
use senda_store::Store;
use std::path::Path;
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two activities: one about returned migrants (maps to LOE5), one about coffee (not mapped),
/// and one EUR transaction.
fn portfolio() -> String {
    doc(
        "2.03",
        r#"<iati-activity last-updated-datetime="2024-01-01T00:00:00Z" default-currency="USD" xml:lang="en">
  <iati-identifier>XM-T-RET</iati-identifier>
  <reporting-org ref="XM-T" type="10"><narrative>Test Agency</narrative></reporting-org>
  <title><narrative>Reintegration of returned migrants</narrative></title>
  <recipient-country code="HN" percentage="100"/>
  <transaction><transaction-type code="2"/><transaction-date iso-date="2022-11-01"/><value>1234567.89</value></transaction>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2023-01-10"/><value>1000</value></transaction>
 </iati-activity>
 <iati-activity last-updated-datetime="2024-01-01T00:00:00Z" default-currency="USD" xml:lang="en">
  <iati-identifier>XM-T-COFFEE</iati-identifier>
  <reporting-org ref="XM-T" type="10"><narrative>Test Agency</narrative></reporting-org>
  <title><narrative>Coffee value chain competitiveness</narrative></title>
  <recipient-country code="GT" percentage="100"/>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2022-09-30"/><value>500</value></transaction>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2022-09-30"/><value currency="EUR">70</value></transaction>
 </iati-activity>"#,
    )
}

#[test]
fn import_exit_status_tells_scripts_whether_a_file_was_rejected() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let good = write(dir.path(), "good.xml", portfolio());
    let o = senda(&db, &["import", "--no-progress", good.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 created"), "{}", stderr(&o));
    let o = senda(&db, &["import", "--no-progress", good.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("nothing changed in the database"), "{}", stderr(&o));
    let bad = write(dir.path(), "bad.xml", "<iati-activities><iati-activity></iati-activities>");
    let o = senda(&db, &["import", "--no-progress", bad.to_str().expect("utf8"), good.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(1), "a rejected file gives exit status 1");
    assert!(stderr(&o).contains("rejected:"), "{}", stderr(&o));
}

#[test]
fn report_formats_columns_filters_and_unconverted_money() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    assert!(senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());

    let csv = stdout(&senda(&db, &["report", "--by", "country", "--format", "csv"]));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("country,activities,commitments_usd,disbursements_usd,expenditures_usd,unconverted"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.contains(&"GT,1,0,500,0,EUR commitments 0 disbursements 70 expenditures 0"), "{csv}");
    assert!(rows.contains(&"HN,1,1234567.89,1000,0,"), "{csv}");

    let by_loe = stdout(&senda(&db, &["report", "--by", "line_of_effort,fiscal_year", "--format", "csv"]));
    assert!(by_loe.contains("LOE5,2023,1,1234567.89,1000,0"), "FY2023 starts on 1 October 2022: {by_loe}");
    assert!(by_loe.contains("NOT_MAPPED,2022,1,0,500,0"), "{by_loe}");
    let cal = stdout(&senda(&db, &["report", "--by", "fiscal_year", "--calendar-year", "--format", "csv"]));
    assert!(cal.starts_with("calendar_year,"), "{cal}");
    assert!(cal.contains("\n2022,2,1234567.89,500,0"), "{cal}");

    let only_gt = stdout(&senda(&db, &["report", "--by", "country", "--country", "GT", "--format", "csv"]));
    assert_eq!(only_gt.lines().count(), 2, "{only_gt}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&senda(&db, &["report", "--by", "country", "--format", "json"]))).expect("JSON");
    assert_eq!(json["total"]["usd"]["commitments"], "1234567.89");
    assert_eq!(json["total"]["activities"], 2);

    let table = stdout(&senda(&db, &["report", "--by", "country"]));
    assert!(table.contains("1,234,568"), "thousands separators: {table}");
    assert!(table.contains("Unconverted amounts"), "{table}");
    assert!(table.contains("Grand total"), "{table}");

    let o = senda(&db, &["report", "--by", "galaxy"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown dimension"), "{}", stderr(&o));

    // A year not written in full is an error, not a filter that matches nothing (issue 21 item 8).
    let fy = stdout(&senda(&db, &["report", "--by", "country", "--fiscal-year", "FY2023", "--format", "csv"]));
    assert!(fy.contains("HN,1,1234567.89,1000,0"), "FY2023 written with its prefix: {fy}");
    for bad in ["23", "2020..24", "99999"] {
        let o = senda(&db, &["report", "--fiscal-year", bad]);
        assert!(!o.status.success(), "--fiscal-year {bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("write years in full"), "--fiscal-year {bad}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "no table for --fiscal-year {bad}");
    }
}

/// Bad-input trial finding 08: text from the data that a spreadsheet would run as a formula
/// is neutralised in the command line's CSV, as in the dashboard's.
#[test]
fn csv_cells_a_spreadsheet_would_run_get_a_leading_quote() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let xml = doc(
        "2.03",
        &activity("=HYPERLINK(\"http://evil.example\",\"x\")", "  <title><narrative>+cmd|' /C calc'!A0</narrative></title>\n  <recipient-country code=\"GT\"/>\n  <transaction><transaction-type code=\"3\"/><transaction-date iso-date=\"2023-01-01\"/><value>-5</value></transaction>")
            .replace("<narrative>Test Agency</narrative>", "<narrative>@SUM(1+1)</narrative>"),
    );
    let f = write(dir.path(), "f.xml", xml);
    assert!(senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());
    let read = |args: &[&str]| -> Vec<csv::StringRecord> {
        let out = stdout(&senda(&db, args));
        csv::Reader::from_reader(out.as_bytes()).records().map(|r| r.expect("row")).collect()
    };
    let rows = read(&["activities", "--format", "csv"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(&rows[0][1], "'+cmd|' /C calc'!A0");
    assert_eq!(&rows[0][2], "'@SUM(1+1)");
    let rows = read(&["report", "--by", "reporting_org", "--format", "csv"]);
    assert_eq!(&rows[0][0], "'@SUM(1+1)");
    // Money stays a number, minus sign included.
    assert!(rows[0].iter().any(|c| c == "-5"), "{:?}", rows[0]);
}

/// Bad-input trial findings 11: an unknown `--country` is an error like an unknown line of
/// effort (not an empty report); a missing path among existing ones is a rejected entry and the
/// others import (exit 1); only a command where nothing given exists stops at once (exit 2).
#[test]
fn unknown_countries_and_missing_paths_are_said_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    let missing = dir.path().join("nothere.xml");
    let o = senda(&db, &["import", "--no-progress", f.to_str().expect("utf8"), missing.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothere.xml") && stderr(&o).contains("no such file or folder"), "{}", stderr(&o));
    let csv = stdout(&senda(&db, &["activities", "--format", "csv"]));
    assert_eq!(csv.lines().count(), 3, "both activities of p.xml imported: {csv}");
    let o = senda(&db, &["import", "--no-progress", missing.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    for args in [&["report", "--by", "country", "--country", "XX"][..], &["activities", "--country", "Guatemala"]] {
        let o = senda(&db, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("unknown country"), "{}", stderr(&o));
    }
    // Codes in any case, REGIONAL and UNKNOWN are fine.
    let gt = stdout(&senda(&db, &["report", "--by", "country", "--country", "gt,REGIONAL", "--format", "csv"]));
    assert!(gt.contains("\nGT,"), "{gt}");
}

#[test]
fn activities_csv_has_every_row_and_the_required_columns() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    assert!(senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());
    let csv = stdout(&senda(&db, &["activities", "--format", "csv"]));
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().expect("header").clone();
    for col in ["iati_identifier", "title", "reporting_org", "countries", "lines_of_effort"] {
        assert!(headers.iter().any(|h| h == col), "missing column {col}");
    }
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let loe = headers.iter().position(|h| h == "lines_of_effort").expect("col");
    let by_id = |id: &str| rows.iter().find(|x| &x[0] == id).expect("row").clone();
    assert_eq!(&by_id("XM-T-RET")[loe], "LOE5");
    assert_eq!(&by_id("XM-T-COFFEE")[loe], "", "empty when not mapped");
    let only = stdout(&senda(&db, &["activities", "--format", "csv", "--line-of-effort", "NOT_MAPPED"]));
    assert_eq!(only.lines().count(), 2, "{only}");
}

#[test]
fn override_wins_survives_reimport_and_is_explained() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    let fs = f.to_str().expect("utf8");
    assert!(senda(&db, &["import", "--no-progress", fs]).status.success());

    let e = stdout(&senda(&db, &["explain", "XM-T-RET"]));
    assert!(e.contains("LOE5") && e.contains("returned migrant"), "{e}");
    let e = stdout(&senda(&db, &["explain", "XM-T-COFFEE"]));
    assert!(e.contains("not mapped"), "{e}");

    let o = senda(&db, &["map", "set", "XM-T-COFFEE", "LOE9", "--note", "typo"]);
    assert!(!o.status.success() && stderr(&o).contains("unknown line of effort"), "{}", stderr(&o));
    let o = senda(&db, &["map", "set", "XM-T-COFFEE", "LOE4", "--note", "coffee pickers recruited under H-2A"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Re-read the file (forced) and change it: the override stays.
    assert!(senda(&db, &["import", "--no-progress", "--force", fs]).status.success());
    std::fs::write(&f, portfolio().replace("Coffee value chain", "Coffee value chains")).expect("edit");
    assert!(senda(&db, &["import", "--no-progress", fs]).status.success());
    let csv = stdout(&senda(&db, &["report", "--by", "line_of_effort", "--format", "csv"]));
    assert!(csv.contains("LOE4,1,0,500,0"), "{csv}");
    let e = stdout(&senda(&db, &["explain", "XM-T-COFFEE"]));
    assert!(e.contains("ANALYST'S OVERRIDE") && e.contains("H-2A"), "{e}");

    assert!(senda(&db, &["map", "unset", "XM-T-COFFEE"]).status.success());
    let csv = stdout(&senda(&db, &["report", "--by", "line_of_effort", "--format", "csv"]));
    assert!(!csv.contains("LOE4"), "{csv}");
    let e = stdout(&senda(&db, &["explain", "XM-T-COFFEE"]));
    assert!(!e.contains("ANALYST'S OVERRIDE"), "{e}");
    // The decision and its removal stay on record, in order.
    let set_at = e.find("set to LOE4: coffee pickers recruited under H-2A").expect(&e);
    assert!(e[set_at..].contains("removed (LOE4)"), "{e}");
    let o = senda(&db, &["explain", "NO-SUCH-ID"]);
    assert!(!o.status.success() && stderr(&o).contains("no activity"), "{}", stderr(&o));
}

#[test]
fn every_override_decision_is_kept_in_the_history_with_its_note() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    let fs = f.to_str().expect("utf8");
    assert!(senda(&db, &["import", "--no-progress", fs]).status.success());

    // No decision yet: no history, and removing nothing records nothing.
    let o = senda(&db, &["map", "unset", "XM-T-RET", "--note", "nothing to remove"]);
    assert!(o.status.success() && stdout(&o).contains("had no override"), "{}", stdout(&o));
    assert!(!stdout(&senda(&db, &["explain", "XM-T-RET"])).contains("Override history"));

    let set = |lines: &[&str], note: &str| {
        let mut args = vec!["map", "set", "XM-T-RET"];
        args.extend_from_slice(lines);
        args.extend_from_slice(&["--note", note]);
        let o = senda(&db, &args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    set(&["LOE5", "LOE6"], "first reading");
    set(&["--none"], "second reading: only a vaccination campaign");
    let o = senda(&db, &["map", "unset", "XM-T-RET", "--note", "back to the rules after review"]);
    assert!(o.status.success() && stdout(&o).contains("override removed"), "{}", stdout(&o));
    set(&["LOE5"], "third reading");
    // A re-import of a changed file keeps the history as it keeps the override.
    std::fs::write(&f, portfolio().replace("Coffee value chain", "Coffee value chains")).expect("edit");
    assert!(senda(&db, &["import", "--no-progress", fs]).status.success());

    let e = stdout(&senda(&db, &["explain", "XM-T-RET"]));
    let history: Vec<&str> = e
        .lines()
        .skip_while(|l| !l.starts_with("Override history"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        // "  <when>  <what>": the time differs per run.
        .map(|l| l.trim_start().split_once("  ").map_or("", |(_, what)| what))
        .collect();
    assert_eq!(
        history,
        [
            "set to LOE5, LOE6: first reading",
            "set to not mapped: second reading: only a vaccination campaign",
            "removed (not mapped): back to the rules after review",
            "set to LOE5: third reading",
        ],
        "{e}"
    );
    // The history is per strategy: the other strategy has none.
    assert!(!stdout(&senda(&db, &["explain", "XM-T-RET", "--strategy", "rc-2021"])).contains("Override history"));
}

#[test]
fn demo_builds_a_labelled_synthetic_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let o = senda(&db, &["demo", "--no-serve", "--activities", "60"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("SYNTHETIC DEMO DATA"), "{out}");
    assert!(out.contains("Grand total"), "{out}");
    let csv = stdout(&senda(&db, &["activities", "--format", "csv"]));
    assert_eq!(csv.lines().count(), 61);
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let synthetic = rd.headers().expect("header").iter().position(|h| h == "synthetic").expect("synthetic column");
    let rows: Vec<csv::StringRecord> = rd.records().collect::<Result<_, _>>().expect("csv");
    assert!(rows.iter().all(|r| r[0].contains("XX-SENDA-SYNTHETIC") && &r[synthetic] == "true"), "{csv}");
    // The whole model: one published intervention of each instrument, the plan and its gap.
    assert!(stderr(&o).contains("3 partner organisations, 4 published interventions"), "{}", stderr(&o));
    let by_instrument = stdout(&senda(&db, &["report", "--by", "source,instrument", "--format", "csv"]));
    for instrument in ["diplomacy", "immigration_initiatives", "public_messaging"] {
        assert!(by_instrument.lines().any(|l| l.starts_with(&format!("entered,{instrument},1,"))), "{by_instrument}");
    }
    assert!(
        by_instrument.lines().any(|l| l.starts_with("iati,foreign_assistance,60,")),
        "the linked one counts once: {by_instrument}"
    );
    let listed = stdout(&senda(&db, &["intervention", "list", "--workflow", "published"]));
    assert!(listed.contains("foreign_assistance") && listed.contains("Synthetic"), "{listed}");
    let gap = stdout(&senda(&db, &["plan", "gap", "--format", "csv"]));
    assert!(
        gap.lines().any(|l| l.starts_with("LOE7,USD,")) && gap.lines().any(|l| l.starts_with("TOTAL,USD,")),
        "{gap}"
    );
    assert!(
        stderr(&o).contains(
            "3 published partner contributions, reporting-cycle reports: 2 approved, 1 submitted, 1 returned"
        ),
        "{}",
        stderr(&o)
    );
    // Partner contributions: one of each kind, published, labelled synthetic.
    let contributions = stdout(&senda(&db, &["contribution", "list"]));
    for (kind, form) in [("informing", "assessment"), ("political_will", "agreement"), ("resources_mobilised", "money")]
    {
        let line = contributions
            .lines()
            .find(|l| l.contains(kind) && l.contains(form))
            .unwrap_or_else(|| panic!("no {kind} {form} contribution: {contributions}"));
        assert!(line.contains(" yes ") && line.contains("Synthetic"), "{line}");
    }
    assert!(contributions.contains("25000000 USD"), "{contributions}");
    // The reporting cycle: the campaign's reach, approved, waiting and returned with a comment.
    let reports = stdout(&senda(&db, &["reporting", "list", "--format", "csv"]));
    let states: Vec<(&str, &str, &str, &str)> = reports
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3], f[5], f[6], f[7])
        })
        .collect();
    for row in [
        ("2024-Q1", "GT-16", "150000", "approved"),
        ("2024-Q2", "GT-16", "180000", "approved"),
        ("2024-Q2", "HN-CR", "240000", "submitted"),
        ("2024-Q3", "HN-CR", "2600000", "returned"),
    ] {
        assert!(states.contains(&row), "{row:?} missing: {reports}");
    }
    assert!(reports.contains("Synthetic: more than the department"), "{reports}");
    // Deterministic: the same seed and size give the same report.
    let db2 = dir.path().join("demo2.db");
    let o2 = senda(&db2, &["demo", "--no-serve", "--activities", "60"]);
    assert_eq!(stdout(&o2), out.replace(db.to_str().expect("utf8"), db2.to_str().expect("utf8")));
}

// ---- Bad input met by a new user (each one pinned) ----

#[test]
fn a_closed_stderr_never_stops_an_import_half_way() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    let mut child = Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(&db)
        .args(["import", "--no-progress"])
        .arg(&f)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take()); // the reader goes away: writes to stderr fail with EPIPE
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "no panic (exit 101)");
    let store = senda_store::SqliteStore::open(&db).expect("db");
    assert_eq!(store.count_activities().expect("count"), 2);
    assert_eq!(store.runs(10).expect("runs").len(), 1, "the run and its report are stored");
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_senda"))
        .args(["generate", "--activities", "2000", "--out"])
        .arg(dir.path().join("g.xml"))
        .output()
        .expect("generate");
    assert!(out.status.success());
    let db = dir.path().join("s.db");
    assert!(
        senda(&db, &["import", "--no-progress", dir.path().join("g.xml").to_str().expect("utf8")]).status.success()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(&db)
        .args(["activities", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // like `| head -1`
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // The commands that print line by line (they panicked on a closed pipe once, found by
    // `senda imports --run 1 --json | head`).
    for args in [
        &["imports", "--run", "1", "--json"][..],
        &["imports", "--run", "1"],
        &["imports"],
        &["strategy", "show", "cmms-2021"],
        &["strategy", "list"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_senda"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code() == Some(0) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn folders_symlink_loops_and_empty_folders() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    write(&data, "p.xml", portfolio());
    std::os::unix::fs::symlink(".", data.join("a")).expect("symlink");
    std::os::unix::fs::symlink(".", data.join("b")).expect("symlink");
    let o = senda(&db, &["import", "--no-progress", data.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0), "a symlink loop ends: {}", stderr(&o));
    assert!(stderr(&o).contains("1 files"), "{}", stderr(&o));
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    write(&empty, "notes.txt", "not IATI");
    let o = senda(&db, &["import", empty.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no IATI files (*.xml) found"), "{}", stderr(&o));
}

#[test]
fn databases_are_never_created_by_mistake_or_taken_over() {
    let dir = tempfile::tempdir().expect("tmp");
    let typo = dir.path().join("typo.db");
    let o = senda(&typo, &["report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such database"), "{}", stderr(&o));
    assert!(!typo.exists(), "a read command must not create a database");

    // An empty file (`touch senda.db`) is not a database either: refused, left empty.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("write");
    let o = senda(&empty, &["activities"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty file, no database in it"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&empty).expect("meta").len(), 0, "the empty file stays empty");
    // A file of a few bytes (`echo > x.db`) is no database: refused by reads and imports alike.
    let short = dir.path().join("short.db");
    std::fs::write(&short, b"\n").expect("write");
    for args in [&["report"][..], &["import", "--no-progress", "nothing.xml"]] {
        let o = senda(&short, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("not an SQLite database"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&short).expect("read"), b"\n", "left alone");
    }

    let foreign = dir.path().join("other.sqlite");
    {
        let c = rusqlite::Connection::open(&foreign).expect("open");
        c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');").expect("create");
    }
    let before = std::fs::read(&foreign).expect("read");
    let f = write(dir.path(), "p.xml", portfolio());
    let o = senda(&foreign, &["import", f.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("belongs to another program"), "{}", stderr(&o));
    let name = foreign.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(stderr(&o).contains(name), "the message names the database: {}", stderr(&o));
    assert!(std::fs::read(&foreign).expect("read") == before, "the foreign file is untouched");

    let o = senda(dir.path(), &["import", f.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("it is a folder"), "{}", stderr(&o));
}

#[test]
fn demo_never_mixes_synthetic_into_real_data_and_generate_never_overwrites() {
    let dir = tempfile::tempdir().expect("tmp");
    let real = dir.path().join("real.db");
    let f = write(dir.path(), "p.xml", portfolio());
    assert!(senda(&real, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());
    let o = senda(&real, &["demo", "--no-serve", "--activities", "10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("real (non-synthetic) activities"), "{}", stderr(&o));
    let csv = stdout(&senda(&real, &["activities", "--format", "csv"]));
    assert_eq!(csv.lines().count(), 3, "still only the 2 real activities: {csv}");

    let o = Command::new(env!("CARGO_BIN_EXE_senda")).args(["generate", "--out"]).arg(&real).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(senda(&real, &["activities", "--format", "csv"]).stdout, csv.as_bytes(), "database intact");
}

#[test]
fn unknown_country_codes_and_huge_amounts_are_errors_not_guesses() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let xml = doc(
        "2.03",
        r#"<iati-activity default-currency="USD"><iati-identifier>XM-T-CODES</iati-identifier>
  <reporting-org ref="XM-T"><narrative>T</narrative></reporting-org><title><narrative>t</narrative></title>
  <recipient-country code="XX"/>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2023-01-01"/><value>10</value></transaction>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2023-01-01"/><value>99999999999999999999999999999999999.5</value></transaction>
 </iati-activity>"#,
    );
    let f = write(dir.path(), "codes.xml", xml);
    let o = senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]);
    let err = stderr(&o);
    assert!(err.contains("[invalid-country]") && err.contains("\"XX\""), "{err}");
    assert!(err.contains("[amount-out-of-range]") && err.contains("at most 6 decimal places"), "{err}");
    let csv = stdout(&senda(&db, &["report", "--by", "country", "--format", "csv"]));
    assert!(csv.contains("\nUNKNOWN,1,0,10,0"), "{csv}");
    assert!(!csv.contains("XX,"), "{csv}");
}

#[test]
fn report_options_are_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    assert!(senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());
    let o = senda(&db, &["report", "--by", "country,country"]);
    assert!(!o.status.success() && stderr(&o).contains("twice"), "{}", stderr(&o));
    let o = senda(&db, &["report", "--by", ""]);
    assert!(!o.status.success() && stderr(&o).contains("at least one"), "{}", stderr(&o));
    let o = senda(&db, &["report", "--line-of-effort", "LOE42"]);
    assert!(!o.status.success() && stderr(&o).contains("known: LOE1"), "{}", stderr(&o));
    let lower = stdout(&senda(&db, &["report", "--line-of-effort", "loe5", "--format", "csv"]));
    assert!(lower.contains("LOE5,1,"), "{lower}");
    let none = stdout(&senda(&db, &["activities", "--limit", "0"]));
    assert!(none.contains("0 activities shown.") && !none.contains("limit reached"), "{none}");
    let one = stdout(&senda(&db, &["activities", "--limit", "1"]));
    assert!(one.contains("1 activity shown (limit reached)"), "{one}");
}

#[test]
fn spanish_titles_are_searchable() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let xml = doc(
        "2.03",
        r#"<iati-activity default-currency="USD" xml:lang="en"><iati-identifier>XM-T-ES</iati-identifier>
  <reporting-org ref="XM-T"><narrative>T</narrative></reporting-org>
  <title><narrative>Support to returnees</narrative><narrative xml:lang="es">Apoyo a personas retornadas: necesidades urgentes</narrative></title>
 </iati-activity>"#,
    );
    let f = write(dir.path(), "es.xml", xml);
    assert!(senda(&db, &["import", "--no-progress", f.to_str().expect("utf8")]).status.success());
    let csv = stdout(&senda(&db, &["activities", "--text", "NECESIDADES", "--format", "csv"]));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("XM-T-ES,Support to returnees"), "the English title is shown: {csv}");
}

#[test]
fn running_the_demo_twice_rebuilds_the_same_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let first = senda(&db, &["demo", "--no-serve", "--activities", "30"]);
    let second = senda(&db, &["demo", "--no-serve", "--activities", "30"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stderr(&second).contains("(30 created, 0 updated, 0 unchanged), 0 warnings"), "{}", stderr(&second));
    assert_eq!(stdout(&first), stdout(&second));
}

#[test]
fn serve_refuses_a_missing_database_and_a_busy_port_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nothing.db");
    let o = senda(&missing, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no such database"), "{}", stderr(&o));
    assert!(!missing.exists(), "serve never creates a database");
    // A port already taken: the error names the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let db = dir.path().join("demo.db");
    assert!(senda(&db, &["demo", "--no-serve", "--activities", "5"]).status.success());
    let o = senda(&db, &["serve", "--listen", &addr]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("cannot listen on {addr}")), "{}", stderr(&o));
    // Exactly one line, and nothing else (no log lines, no "serving" line) on either stream.
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: cannot listen on"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "nothing on standard output");
}

#[test]
fn stats_and_results_commands_exit_statuses_and_outputs() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let good = write(
        dir.path(),
        "good.csv",
        "#date,#country+name,#indicator+code,#indicator+value\n2024-01,EL SALVADOR,test-series,7\n2024-02,\"Salvador, El\",test-series,8\n",
    );
    let bad = write(dir.path(), "bad.xlsx", b"PK\x03\x04 not really a workbook");
    // One good, one refused file: exit 1, the good file's values are stored.
    let o = senda(&db, &["stats", "import", good.to_str().unwrap_or(""), bad.to_str().unwrap_or("")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.xlsx") && stderr(&o).contains("rejected"), "{}", stderr(&o));
    let o = senda(&db, &["stats", "list"]);
    assert!(stdout(&o).contains("test-series") && stdout(&o).contains("SV"), "{}", stdout(&o));
    let o = senda(&db, &["stats", "export", "--format", "csv"]);
    let out = stdout(&o);
    let mut lines = out.lines();
    assert!(lines.next().unwrap_or("").starts_with("series,country,admin1,place,period"), "{out}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("test-series,SV,,SV,2024-01,2024-01-01,,observed,7,"), "{}", rows[0]);
    // Only good files: exit 0; again unchanged: says so.
    let o = senda(&db, &["stats", "import", good.to_str().unwrap_or("")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("unchanged since the last import"), "{}", stderr(&o));
    // Results: an unknown indicator is an error line with file:row:column; exit 0 (rows, not files).
    let res = write(
        dir.path(),
        "r.csv",
        "indicator,country,period,kind,value\nLOE5-1,GT,FY2023,actual,10\nNOPE,GT,FY2023,actual,1\n",
    );
    let o = senda(&db, &["results", "import", res.to_str().unwrap_or("")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("r.csv:3:1: error [unknown-indicator]"), "{}", stderr(&o));
    let o = senda(&db, &["indicators", "--country", "GT", "--line-of-effort", "LOE5", "--format", "csv"]);
    assert!(
        stdout(&o).lines().any(|l| l.starts_with("LOE5-1,LOE5,result,people,up,,,10,FY2023,,no_target")),
        "{}",
        stdout(&o)
    );
    let o = senda(&db, &["indicators", "--line-of-effort", "LOE99"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("LOE99"), "{}", stderr(&o));
}

#[test]
fn an_unreadable_sub_folder_is_a_rejected_entry_and_the_other_files_import() {
    // A folder that cannot be listed stopped the whole run before anything was read. It is now
    // reported as rejected (exit status 1) and every file found elsewhere imports.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let open = std::fs::Permissions::from_mode(0o777);
    std::fs::set_permissions(dir.path(), open.clone()).expect("chmod");
    let data = dir.path().join("data");
    let locked = data.join("locked");
    std::fs::create_dir_all(&locked).expect("folders");
    std::fs::set_permissions(&data, open).expect("chmod");
    let good = write(&data, "good.xml", doc("2.03", &activity("XM-DIR-1", &transaction("3", "2023-01-01", "10"))));
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    write(&locked, "hidden.xml", doc("2.03", &activity("XM-DIR-2", &transaction("3", "2023-01-01", "10"))));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let db = dir.path().join("senda.db");
    // Root may list any folder: then the binary runs as `nobody` (setpriv, util-linux), so the
    // folder is unreadable to it as it would be to an ordinary user.
    // The binary is copied into the temporary folder first: the build folder may sit where
    // `nobody` cannot reach (e.g. under /root).
    let as_root = std::fs::read_dir(&locked).is_ok();
    let bin = if as_root {
        let copy = dir.path().join("senda");
        std::fs::copy(env!("CARGO_BIN_EXE_senda"), &copy).expect("copy the binary");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        copy
    } else {
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_senda"))
    };
    let run = |args: &[&str]| {
        let mut c = if as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        c.current_dir(dir.path());
        c.arg("--db").arg(&db).args(args).env_remove("SENDA_DB").output().expect("run senda")
    };
    let o = run(&["import", "--no-progress", data.to_str().unwrap_or("")]);
    let err = stderr(&o);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("2 files (1 imported, 0 unchanged, 1 rejected)"), "{err}");
    assert!(err.contains("data/locked:0:0: fatal [io]: cannot read folder: Permission denied"), "{err}");
    let o = run(&["activities", "--format", "csv"]);
    let out = stdout(&o);
    assert!(out.contains("XM-DIR-1") && !out.contains("XM-DIR-2"), "{out}");
}

/// `imports --run N` shows a run as text (its counts and every diagnostic, as the import
/// printed them); with `--json`, one JSON object with the report and the diagnostics.
#[test]
fn a_past_import_run_is_shown_as_text_or_as_one_json_object() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let f = write(dir.path(), "p.xml", portfolio());
    let bad_date = portfolio().replacen("iso-date=\"2022-11-01\"", "iso-date=\"2022-02-30\"", 1);
    let g = write(dir.path(), "q.xml", bad_date.replace("XM-T-", "XM-U-"));
    let o = senda(&db, &["import", "--no-progress", f.to_str().expect("utf8"), g.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let diagnostic =
        stderr(&o).lines().find(|l| l.contains("[invalid-date]")).expect("the import printed it").to_owned();

    let text = stdout(&senda(&db, &["imports", "--run", "1"]));
    assert!(text.starts_with("import run 1: started "), "{text}");
    assert!(text.contains("files: 2 (2 imported, 0 unchanged, 0 rejected)"), "{text}");
    assert!(text.contains("activities: 4 created, 0 updated"), "{text}");
    assert!(text.lines().any(|l| l == diagnostic), "the same diagnostic line:\n{text}\n{diagnostic}");
    assert!(!text.trim_start().starts_with('{'), "not JSON without --json: {text}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&senda(&db, &["imports", "--run", "1", "--json"]))).expect("one JSON object");
    assert_eq!(json["run"], 1);
    assert_eq!(json["report"]["created"], 4);
    let codes: Vec<&str> =
        json["diagnostics"].as_array().expect("array").iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"invalid-date"), "{json}");
    let o = senda(&db, &["imports", "--json"]);
    assert!(!o.status.success() && stderr(&o).contains("--run"), "--json needs --run: {}", stderr(&o));
}

/// Issue 21 item 8: a spreadsheet or CSV given to `senda import` says what imports it, instead
/// of "unzip it" or an XML syntax error; the XML files of the same run still import.
#[test]
fn a_spreadsheet_or_csv_given_to_import_points_to_stats_and_results_import() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("s.db");
    let csv = write(dir.path(), "encounters.csv", "country,month,count\nGT,2023-10,12\n");
    let xlsx = write(dir.path(), "Results.XLSX", b"PK\x03\x04 not really a workbook".as_slice());
    let xml = write(dir.path(), "p.xml", portfolio());
    let o = senda(
        &db,
        &[
            "import",
            "--no-progress",
            csv.to_str().expect("utf8"),
            xlsx.to_str().expect("utf8"),
            xml.to_str().expect("utf8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "a rejected file makes the run fail: {}", stderr(&o));
    let err = stderr(&o);
    for f in ["encounters.csv", "Results.XLSX"] {
        let line =
            err.lines().find(|l| l.contains(f) && l.contains("[not-iati]")).unwrap_or_else(|| panic!("{f}: {err}"));
        assert!(line.contains("senda stats import") && line.contains("senda results import"), "{line}");
        assert!(!line.contains("unzip"), "{line}");
    }
    let out = stdout(&o) + &err;
    assert!(out.contains("2 activities") || out.contains("2 created"), "the XML file imported: {out}");
}

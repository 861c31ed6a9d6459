//! `senda reporting` as a partner and a coordinator run it (issue 18, item 5): the periods of
//! the strategy file, an actual submitted, returned with a comment, submitted again and
//! approved (then in indicator progress), a locked period, what is due and overdue; and every
//! bad input of the issue refused by field with nothing saved.

use std::path::Path;
use std::process::{Command, Output};

fn senda(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda")).arg("--db").arg(db).args(args).output().expect("run senda")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    assert!(!o.status.success(), "should fail; stdout: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CAMPAIGN: &str = r#"
organisation = 1
instrument = "public_messaging"
countries = ["HN"]
start = 2024-01-15
end = 2024-12-31
status = "active"
title = { en = "Know the risks", es = "Conoce los riesgos" }

[[lines_of_effort]]
line_of_effort = "LOE7"
reason = "information on the risks of irregular migration"

[public_messaging]
channels = ["radio"]
languages = ["es"]
audiences = ["youth"]
"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Radio Progreso", "--country", "HN"]));
    let file = dir.path().join("campaign.toml");
    std::fs::write(&file, CAMPAIGN).expect("write");
    ok(&senda(&db, &["intervention", "add", "--file", file.to_str().expect("utf-8 path")]));
    for w in ["submitted", "approved", "published"] {
        ok(&senda(&db, &["intervention", "set-workflow", "1", w]));
    }
    (dir, db)
}

fn submit(db: &Path, period: &str, department: &str, value: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "reporting",
        "submit",
        "--intervention",
        "1",
        "--indicator",
        "LOE7-1",
        "--period",
        period,
        "--department",
        department,
        "--value",
        value,
        "--as-of",
        "2024-08-15",
    ];
    args.extend_from_slice(extra);
    senda(db, &args)
}

fn reports(db: &Path) -> usize {
    let csv = ok(&senda(db, &["reporting", "list", "--format", "csv"]));
    csv.lines().count() - 1
}

fn latest_actual(db: &Path) -> String {
    let out = ok(&senda(db, &["indicators", "--country", "HN", "--format", "csv"]));
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let col = r.headers().expect("header").iter().position(|h| h == "latest_actual").expect("latest_actual column");
    let row = r.records().map(|x| x.expect("row")).find(|x| x.get(0) == Some("LOE7-1")).expect("LOE7-1 row");
    row.get(col).unwrap_or_default().to_owned()
}

#[test]
fn a_partners_actual_is_returned_fixed_approved_and_then_counts() {
    let (_dir, db) = setup();
    let periods = ok(&senda(&db, &["reporting", "periods", "--as-of", "2024-08-15", "--format", "csv"]));
    assert!(
        periods.starts_with("period,start,end,due_date,locked\n2021-Q4,2021-10-01,2021-12-31,2022-01-30,"),
        "{periods}"
    );
    assert!(periods.trim_end().ends_with("2024-Q2,2024-04-01,2024-06-30,2024-07-30,"), "{periods}");

    // Due and overdue as of mid-August: Q1 and Q2 overdue (due 30 April and 30 July).
    let due = ok(&senda(&db, &["reporting", "overdue", "--as-of", "2024-08-15", "--format", "csv"]));
    let lines: Vec<&str> = due.lines().collect();
    assert_eq!(lines[0], "partner,period,due_date,intervention,title,status,days_overdue,locked");
    assert_eq!(
        lines[1..],
        [
            "Radio Progreso,2024-Q1,2024-04-30,1,Know the risks,overdue,107,",
            "Radio Progreso,2024-Q2,2024-07-30,1,Know the risks,overdue,16,"
        ]
    );

    let id = ok(&submit(&db, "2024-Q1", "HN-CR", "1500", &["--note", "<script>alert(1)</script>"])).trim().to_owned();
    assert_eq!(id, "1");
    let due =
        ok(&senda(&db, &["reporting", "overdue", "--as-of", "2024-08-15", "--period", "2024-Q1", "--format", "csv"]));
    assert!(due.contains(",2024-Q1,2024-04-30,1,Know the risks,submitted,0,"), "{due}");
    assert_eq!(latest_actual(&db), "", "submitted is not approved");

    let e = err(&senda(&db, &["reporting", "return", "1", "--comment", "  "]));
    assert!(e.contains("--comment: is required"), "{e}");
    ok(&senda(&db, &["reporting", "return", "1", "--comment", "Give <b>Cortés</b> only"]));
    let due = ok(&senda(
        &db,
        &["reporting", "overdue", "--as-of", "2024-08-15", "--partner", "radio progreso", "--format", "json"],
    ));
    assert!(due.contains("\"status\": \"returned\""), "{due}");
    let listed = ok(&senda(&db, &["reporting", "list", "--format", "csv"]));
    assert!(listed.contains("returned,Give <b>Cortés</b> only"), "stored as typed: {listed}");

    ok(&submit(&db, "2024-Q1", "HN-CR", "1750", &[]));
    ok(&senda(&db, &["reporting", "approve", "1"]));
    assert_eq!(latest_actual(&db), "1,750", "approved: in the indicator's progress");

    // Locked: no change until reopened; both audited.
    ok(&senda(&db, &["reporting", "lock", "2024-Q1"]));
    let e = err(&senda(&db, &["reporting", "return", "1", "--comment", "late"]));
    assert!(e.contains("period 2024-Q1 is locked"), "{e}");
    let e = err(&submit(&db, "2024-Q1", "HN-FM", "5", &[]));
    assert!(e.contains("--period: period 2024-Q1 is locked"), "{e}");
    ok(&senda(&db, &["reporting", "reopen", "2024-Q1"]));
    let audit = ok(&senda(&db, &["audit", "--format", "csv"]));
    for action in ["report.submit", "report.return", "report.approve", "reporting.lock", "reporting.reopen"] {
        assert!(audit.contains(action), "{action} audited: {audit}");
    }
    assert_eq!(reports(&db), 1);
}

#[test]
fn bad_actuals_are_refused_by_field_and_nothing_is_saved() {
    let (_dir, db) = setup();
    let cases: &[(&str, &str, &str, &str)] = &[
        ("2024-Q3", "HN-CR", "5", "--period: \"2024-Q3\" is not a reporting period"),
        ("2024-03", "HN-CR", "5", "--period: \"2024-03\" is not a reporting period"),
        ("2019-Q1", "HN-CR", "5", "--period: \"2019-Q1\" is not a reporting period"),
        ("2024-Q1", "HN-CR", "N/A", "--value: \"N/A\" is not a number"),
        ("2024-Q1", "HN-CR", "1,5", "--value: \"1,5\" is not a number"),
        ("2024-Q1", "HN-CR", "<5", "--value: \"<5\" is not a number"),
        ("2024-Q1", "HN-CR", "-20", "--value: -20 is negative; a count of people"),
        ("2024-Q1", "GT-16", "5", "--department: \"GT-16\" is not in any of the countries chosen"),
        ("2024-Q1", "HN-ZZ", "5", "--department: \"HN-ZZ\" is not the ISO 3166-2 code"),
    ];
    for (period, dept, value, want) in cases {
        let e = err(&submit(&db, period, dept, value, &[]));
        assert!(e.contains(want), "{period} {dept} {value}: {e}");
        assert!(e.contains("nothing saved"), "{e}");
    }
    let e = err(&submit(&db, "2024-Q1", "HN-CR", "1,5", &["--lang", "es"]));
    assert!(e.contains("no es un número") && e.contains("no se guardó nada"), "{e}");
    assert_eq!(reports(&db), 0, "nothing saved");
    // Posted twice: one report (the second submit of a submitted report is refused).
    ok(&submit(&db, "2024-Q1", "HN-CR", "5", &[]));
    let e = err(&submit(&db, "2024-Q1", "HN-CR", "5", &[]));
    assert!(e.contains("cannot submit a report that is submitted"), "{e}");
    assert_eq!(reports(&db), 1);
}

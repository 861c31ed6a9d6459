//! `senda plan` as a coordinator runs it (issue 18, item 4): requirements set one by one or
//! from a CSV file (all rows or none, every problem named with its line, column and field),
//! and the funding gap against the money of a published messaging campaign; `senda report`
//! counts the campaign once, marked as entered.

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
countries = ["GT"]
start = 2024-01-15
status = "active"
title = { en = "Know the risks", es = "Conoce los riesgos" }

[[lines_of_effort]]
line_of_effort = "LOE1"
reason = "information for people considering the journey"

[[money]]
kind = "commitment"
amount = "250000.50"
currency = "USD"
date = 2024-02-01

[[money]]
kind = "disbursement"
amount = "100000"
currency = "USD"
date = 2024-03-01

[public_messaging]
channels = ["radio"]
languages = ["es"]
audiences = ["youth"]
"#;

fn gap_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

#[test]
fn requirements_and_the_funding_gap() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Embassy", "--country", "GT"]));
    let file = dir.path().join("campaign.toml");
    std::fs::write(&file, CAMPAIGN).expect("write");
    ok(&senda(&db, &["intervention", "add", "--file", file.to_str().expect("utf-8 path")]));

    let set = ok(&senda(
        &db,
        &[
            "plan",
            "set",
            "--line-of-effort",
            "loe1",
            "--country",
            "gt",
            "--fiscal-year",
            "FY2024",
            "--amount",
            "1000000",
            "--source",
            "FY2024 plan",
        ],
    ));
    assert!(set.contains("LOE1 GT FY2024: 1000000 USD (set)"), "{set}");

    // A draft is not public: the gap counts nothing yet, unless asked.
    let draft = ok(&senda(&db, &["plan", "gap", "--format", "csv"]));
    let rows = gap_rows(&draft);
    assert_eq!(rows[0][..7], ["LOE1", "USD", "1000000", "0", "0", "1000000", "0"], "{draft}");
    let all = ok(&senda(&db, &["plan", "gap", "--format", "csv", "--include-unpublished"]));
    assert_eq!(gap_rows(&all)[0][3], "250000.50", "{all}");

    for w in ["submitted", "approved", "published"] {
        ok(&senda(&db, &["intervention", "set-workflow", "1", w]));
    }
    let published = ok(&senda(&db, &["plan", "gap", "--by", "line_of_effort,country,fiscal_year", "--format", "csv"]));
    let header = published.lines().next().expect("header");
    assert_eq!(
        header,
        "line_of_effort,country,fiscal_year,currency,requirement,committed,disbursed,gap,percent_funded,committed_outside_plan"
    );
    let rows = gap_rows(&published);
    assert_eq!(
        rows[0],
        ["LOE1", "GT", "2024", "USD", "1000000", "250000.50", "100000", "749999.50", "25", "0"],
        "{published}"
    );
    assert_eq!(rows.last().expect("total")[0], "TOTAL");

    // The report counts the campaign once, marked as entered; the instrument is real.
    let report = ok(&senda(&db, &["report", "--by", "source,instrument", "--format", "csv"]));
    assert!(report.lines().any(|l| l.starts_with("entered,public_messaging,1,250000.50,100000")), "{report}");

    // A CSV file: all rows or none; each problem named with its line, column and field.
    let bad = dir.path().join("plan.csv");
    std::fs::write(
        &bad,
        "line_of_effort,country,fiscal_year,amount,currency,source,note\n\
         LOE2,HN,2024,500000,USD,plan,\n\
         LOE9,HN,2024,1,USD,plan,\n\
         LOE2,SV,24,N/A,USD,plan,\n\
         LOE2,HN,2024,7,USD,plan,again\n",
    )
    .expect("write");
    let e = err(&senda(&db, &["plan", "import", bad.to_str().expect("path")]));
    assert!(e.contains("plan.csv: line 3, column 1 (line_of_effort)"), "{e}");
    assert!(e.contains("line 4, column 3 (fiscal_year)") && e.contains("line 4, column 4 (amount)"), "{e}");
    assert!(e.contains("line 5: LOE2 HN FY2024 is already set on line 2"), "{e}");
    assert!(e.contains("nothing imported"), "{e}");
    let list = ok(&senda(&db, &["plan", "list", "--format", "csv"]));
    assert_eq!(list.lines().count(), 2, "nothing of the bad file was saved: {list}");

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "line_of_effort,country,fiscal_year,amount,currency,source,note\nLOE2,HN,2024,500000,USD,plan,\nLOE1,GT,2024,1000000,USD,FY2024 plan,\n",
    )
    .expect("write");
    let imported = ok(&senda(&db, &["plan", "import", good.to_str().expect("path")]));
    assert!(imported.contains("2 requirement(s): 1 set, 0 replaced, 1 unchanged"), "{imported}");
    let audit = ok(&senda(&db, &["audit", "--record", "requirement:cmms-2021/LOE2/HN/FY2024"]));
    assert!(audit.contains("requirement.set"), "{audit}");
}

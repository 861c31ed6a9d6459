//! `senda contribution` as a new user runs it (issue 18, item 2): a contribution from a TOML or
//! JSON file, checked as the API checks it; every problem printed with file and field (English
//! or Spanish) and nothing saved; list with filters; publish.

use std::path::Path;
use std::process::{Command, Output};

fn senda(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda")).arg("--db").arg(db).args(args).output().expect("run senda")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const AGREEMENT: &str = r#"
organisation = 1
line_of_effort = "LOE2"
kind = "political_will"
form = "agreement"
date = 2024-04-15
countries = ["GT"]
source = "Joint statement, 15 April 2024"
description = { en = "Agreement to expand the asylum office", es = "Acuerdo para ampliar la oficina de asilo" }
"#;

#[test]
fn a_contribution_is_recorded_from_a_file_listed_and_published() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Gobierno", "--country", "GT"]));
    let file = dir.path().join("agreement.toml");
    std::fs::write(&file, AGREEMENT).expect("write");
    let path = file.to_str().expect("utf-8 path");
    assert_eq!(ok(&senda(&db, &["contribution", "add", path])).trim(), "1");
    let money = dir.path().join("loan.json");
    std::fs::write(
        &money,
        r#"{"organisation": 1, "line_of_effort": "LOE5", "kind": "resources_mobilised", "form": "money",
            "date": "2024-05-02", "countries": ["HN"], "source": "press release",
            "description": {"en": "Loan"}, "money": {"amount": "1500000.25", "currency": "HNL", "date": "2024-05-02"}}"#,
    )
    .expect("write");
    assert_eq!(ok(&senda(&db, &["contribution", "add", money.to_str().expect("path")])).trim(), "2");
    let list = ok(&senda(&db, &["contribution", "list"]));
    assert!(list.contains("political_will") && list.contains("1500000.25 HNL"), "{list}");
    let gt = ok(&senda(&db, &["contribution", "list", "--country", "GT"]));
    assert!(gt.contains("agreement") && !gt.contains("HNL"), "{gt}");
    let loe5 = ok(&senda(&db, &["contribution", "list", "--line-of-effort", "LOE5", "--json"]));
    let rows: serde_json::Value = serde_json::from_str(&loe5).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(rows[0]["contribution"]["money"]["amount"], "1500000.25");
    assert_eq!(rows[0]["published"], false);
    let o = senda(&db, &["contribution", "publish", "2"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("published"));
    let rows: serde_json::Value =
        serde_json::from_str(&ok(&senda(&db, &["contribution", "list", "--line-of-effort", "LOE5", "--json"])))
            .expect("json");
    assert_eq!(rows[0]["published"], true);
    assert!(!senda(&db, &["contribution", "publish", "99"]).status.success());
}

#[test]
fn a_bad_file_names_every_problem_in_spanish_and_saves_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Banco", "--country", "HN"]));
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"organisation": 1, "line_of_effort": "LOE9", "kind": "resources_mobilised", "form": "money",
            "date": "mañana", "countries": ["HN"], "source": "x", "description": {"es": "Préstamo"},
            "money": {"amount": "N/A", "currency": "PESOS", "date": "2024-01-01"}}"#,
    )
    .expect("write");
    let o = senda(&db, &["contribution", "add", file.to_str().expect("path"), "--lang", "es"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "bad.json: line_of_effort: \"LOE9\" no es un valor válido",
        "bad.json: date: \"mañana\" no es una fecha ISO 8601",
        "bad.json: money.amount: \"N/A\" no es un importe",
        "bad.json: money.currency: \"PESOS\" no es un código de moneda ISO 4217",
        "4 problema(s); no se guardó nada",
    ] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    // An intervention that does not exist: refused by the store, nothing saved.
    let orphan = dir.path().join("orphan.toml");
    std::fs::write(&orphan, AGREEMENT.replace("line_of_effort = \"LOE2\"", "intervention = 5")).expect("write");
    let o = senda(&db, &["contribution", "add", orphan.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("intervention: no intervention has id 5"));
    assert_eq!(ok(&senda(&db, &["contribution", "list", "--json"])).trim(), "[]");
}

//! `senda intervention` as a new user runs it (issue 18, item 1): a record from a TOML or JSON
//! file, checked as the API checks it; every problem printed with its field (English or
//! Spanish) and nothing saved; list, show and the review workflow.

use std::path::Path;
use std::process::{Command, Output};

fn senda(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda")).arg("--db").arg(db).args(args).output().expect("run senda")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const DIPLOMACY: &str = r#"
organisation = 1
instrument = "diplomacy"
countries = ["GT"]
departments = ["GT-01"]
start = 2024-02-01
status = "active"
population_groups = ["asylum_seeker"]
title = { en = "Asylum capacity commitment", es = "Compromiso de capacidad de asilo" }

[[lines_of_effort]]
line_of_effort = "LOE2"
reason = "asylum systems in a country of transit"

[diplomacy]
counterpart = "Ministerio de Relaciones Exteriores de Guatemala"
counterpart_kind = "government"
ask = "Expand the capacity of the asylum office"

[[diplomacy.history]]
date = 2024-02-01
status = "raised"

[[diplomacy.history]]
date = 2024-04-15
status = "committed"
note = "announced at the ministerial"
"#;

#[test]
fn an_intervention_is_entered_from_a_file_listed_shown_and_published() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Embassy", "--country", "GT"]));
    let file = dir.path().join("diplomacy.toml");
    std::fs::write(&file, DIPLOMACY).expect("write");
    let id = ok(&senda(&db, &["intervention", "add", "--file", file.to_str().expect("utf-8 path")])).trim().to_owned();
    assert_eq!(id, "1");
    let list = ok(&senda(&db, &["intervention", "list"]));
    assert!(list.contains("diplomacy") && list.contains("draft") && list.contains("LOE2"), "{list}");
    let show = ok(&senda(&db, &["intervention", "show", "1"]));
    assert!(show.contains("committed (announced at the ministerial)") && show.contains("GT-01"), "{show}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&senda(&db, &["intervention", "show", "1", "--json"]))).expect("json");
    assert_eq!(json["intervention"]["diplomacy"]["history"][1]["status"], "committed");

    let skip = senda(&db, &["intervention", "set-workflow", "1", "published"]);
    assert!(!skip.status.success());
    assert!(String::from_utf8_lossy(&skip.stderr).contains("workflow: cannot go from draft to published"));
    for w in ["submitted", "approved", "published"] {
        ok(&senda(&db, &["intervention", "set-workflow", "1", w]));
    }
    let list = ok(&senda(&db, &["intervention", "list", "--workflow", "published", "--country", "GT"]));
    assert!(list.contains("published"), "{list}");
    let audit = ok(&senda(&db, &["audit", "--record", "intervention:1"]));
    assert!(audit.contains("intervention.create") && audit.contains("intervention.workflow"), "{audit}");
}

#[test]
fn a_bad_file_names_every_field_and_saves_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["organisation", "add", "--name", "Embassy"]));
    let bad = DIPLOMACY
        .replace("departments = [\"GT-01\"]", "departments = [\"HN-CR\"]")
        .replace("start = 2024-02-01", "start = 2024-02-01\nend = 2023-01-01")
        .replace("date = 2024-04-15", "date = 2023-04-15");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, bad).expect("write");
    let o = senda(&db, &["intervention", "add", "--file", file.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for field in ["departments[0]: ", "end: the end is before the start", "diplomacy.history[1].date: "] {
        assert!(err.contains(field), "{field} in {err}");
    }
    assert!(err.contains("nothing saved"), "{err}");
    let o = senda(&db, &["intervention", "add", "--file", file.to_str().expect("path"), "--lang", "es"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("end: la fecha de fin es anterior a la de inicio"));
    let list = ok(&senda(&db, &["intervention", "list", "--json"]));
    assert_eq!(list.trim(), "[]", "nothing saved");

    let txt = dir.path().join("record.txt");
    std::fs::write(&txt, "x").expect("write");
    let o = senda(&db, &["intervention", "add", "--file", txt.to_str().expect("path")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("*.json or *.toml"));
}

#[test]
fn the_readme_example_is_a_valid_record() {
    let readme = include_str!("../../../../README.md");
    let start = readme.find("```toml\norganisation = ").expect("the README has the example") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("the example ends");
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("campaign.toml");
    std::fs::write(&file, &readme[start..end]).expect("write");
    let strategies = senda_core::Strategy::all_builtin().expect("strategies");
    let i = senda::interventions::parse_file(&file, &strategies).expect("read").expect("a valid record");
    assert_eq!(i.instrument, senda_core::intervention::Instrument::PublicMessaging);
}

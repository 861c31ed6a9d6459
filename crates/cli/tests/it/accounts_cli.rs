//! `senda user`, `senda organisation` and `senda audit` as a new user runs them (issue 17):
//! the first administrator, passwords on standard input only, refusals naming the field.

use senda_store::accounts::AccountStore;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn senda(db: &Path, args: &[&str], stdin: &str) -> Output {
    senda_as(db, args, stdin, None)
}

/// `senda` run by the operating-system user `user` (`USER` and `LOGNAME`).
fn senda_as(db: &Path, args: &[&str], stdin: &str, user: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_senda"));
    if let Some(u) = user {
        cmd.env("USER", u).env("LOGNAME", u);
    }
    let mut child = cmd
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run senda");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("senda ends")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(o: &Output) -> String {
    assert!(!o.status.success(), "should fail; stdout: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_first_administrator_and_a_partner_editor_are_made_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["user", "add", "Admin@Example.org", "--role", "administrator"], "correct horse battery\n"));
    let list = ok(&senda(&db, &["user", "list"], ""));
    assert!(list.contains("admin@example.org") && list.contains("administrator") && list.contains("active"), "{list}");

    let e = refused(&senda(&db, &["organisation", "add", "--name", "Alianza", "--category", "army"], ""));
    assert!(e.contains("category: unknown partner category \"army\""), "{e}");
    ok(&senda(
        &db,
        &[
            "organisation",
            "add",
            "--name",
            "Alianza",
            "--name-es",
            "Alianza",
            "--country",
            "GT",
            "--category",
            "civil_society",
        ],
        "",
    ));
    let orgs = ok(&senda(&db, &["organisation", "list", "--json"], ""));
    let orgs: serde_json::Value = serde_json::from_str(&orgs).expect("json");
    let org = orgs[0]["id"].as_i64().expect("id").to_string();

    let e =
        refused(&senda(&db, &["user", "add", "ed@example.org", "--role", "partner_editor"], "correct horse battery\n"));
    assert!(e.contains("--organisation"), "{e}");
    let e = refused(&senda(
        &db,
        &["user", "add", "ed@example.org", "--role", "partner_editor", "--organisation", &org],
        "short\n",
    ));
    assert!(e.contains("password: 5 characters; at least 12"), "{e}");
    let e = refused(&senda(
        &db,
        &["user", "add", "ed@example.org", "--role", "partner_editor", "--organisation", &org],
        "password1234\n",
    ));
    assert!(e.contains("password: is on the list of commonly used passwords"), "{e}");
    let e = refused(&senda(
        &db,
        &["user", "add", "ed@example.org", "--role", "partner_editor", "--organisation", "99"],
        "correct horse battery\n",
    ));
    assert!(e.contains("organisation: no organisation with id 99"), "{e}");
    let e = refused(&senda(&db, &["user", "add", "ed@example", "--role", "viewer"], "correct horse battery\n"));
    assert!(e.contains("email:"), "{e}");
    let e = refused(&senda(&db, &["user", "add", "ed@example.org", "--role", "boss"], "correct horse battery\n"));
    assert!(e.contains("role: unknown role \"boss\""), "{e}");
    ok(&senda(
        &db,
        &["user", "add", "ed@example.org", "--role", "partner-editor", "--organisation", &org],
        "a long enough passphrase\n",
    ));
    let e = refused(&senda(&db, &["user", "add", "ED@example.org", "--role", "viewer"], "correct horse battery\n"));
    assert!(e.contains("email: ed@example.org already has an account"), "{e}");

    ok(&senda(&db, &["user", "disable", "ed@example.org"], ""));
    assert!(ok(&senda(&db, &["user", "list"], "")).contains("disabled"));
    ok(&senda(&db, &["user", "enable", "ed@example.org"], ""));
    ok(&senda(&db, &["user", "set-role", "ed@example.org", "viewer", "--no-organisation"], ""));
    ok(&senda(&db, &["user", "reset-password", "ed@example.org"], "another long passphrase\n"));
    let e = refused(&senda(&db, &["user", "disable", "nobody@example.org"], ""));
    assert!(e.contains("email: no person with e-mail nobody@example.org"), "{e}");

    let csv = ok(&senda(&db, &["audit", "--format", "csv", "--record", "person:2"], ""));
    let actions: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(6).unwrap_or_default()).collect();
    assert_eq!(
        actions,
        ["person.set_password", "person.set_role", "person.enable", "person.disable", "person.create"],
        "{csv}"
    );
    let e = refused(&senda(&db, &["audit", "--from", "yesterday"], ""));
    assert!(e.contains("--from: \"yesterday\" is not a date"), "{e}");
    let e = refused(&senda(&db, &["audit", "--person", "nobody@example.org"], ""));
    assert!(e.contains("--person: no person"), "{e}");
}

#[test]
fn a_password_is_never_an_argument() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    let e = refused(&senda(
        &db,
        &["user", "add", "a@example.org", "--role", "viewer", "--password", "correct horse battery"],
        "",
    ));
    assert!(e.contains("--password"), "{e}");
    let e = refused(&senda(&db, &["user", "add", "a@example.org", "--role", "viewer"], ""));
    assert!(e.contains("password: standard input is empty"), "{e}");
}

#[test]
fn api_tokens_are_made_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    ok(&senda(&db, &["user", "add", "coord@example.org", "--role", "coordinator"], "correct horse battery\n"));
    let add = |args: &[&str]| {
        let mut all = vec!["token", "add"];
        all.extend_from_slice(args);
        senda_as(&db, &all, "", Some("ana"))
    };
    let e = refused(&add(&["--user", "nobody@example.org", "--name", "sync"]));
    assert!(e.contains("--user: no person with e-mail nobody@example.org"), "{e}");
    let e = refused(&add(&["--user", "coord@example", "--name", "sync"]));
    assert!(e.contains("--user:"), "{e}");
    let e = refused(&add(&["--user", "coord@example.org", "--name", "sync", "--role", "administrator"]));
    assert!(e.contains("--role: a token may act as coordinator or less"), "{e}");
    let e = refused(&add(&["--user", "coord@example.org", "--name", "sync", "--role", "boss"]));
    assert!(e.contains("--role: unknown role"), "{e}");
    for days in ["0", "367", "ten", "1.5"] {
        let e = refused(&add(&["--user", "coord@example.org", "--name", "sync", "--days", days]));
        assert!(e.contains("--days:"), "{days}: {e}");
    }
    let e = refused(&add(&["--user", "coord@example.org", "--name", " "]));
    assert!(e.contains("--name: is empty"), "{e}");

    let out = ok(&add(&["--user", "coord@example.org", "--name", "sync", "--role", "viewer", "--days", "30"]));
    let secret = out.trim().to_owned();
    assert!(secret.starts_with("senda_") && secret.len() == 6 + 43, "{secret}");
    let store = senda_store::SqliteStore::open(&db).expect("open");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let c = store
        .token_caller(&senda_core::accounts::secret_digest(&secret), now)
        .expect("read")
        .expect("the printed secret works");
    assert_eq!(c.role, senda_core::accounts::Role::Viewer, "acts with the role asked for");

    let list = ok(&senda(&db, &["token", "list"], ""));
    assert!(list.contains("sync") && list.contains("viewer") && list.contains("active"), "{list}");
    assert!(!list.contains(&secret[6..]), "the secret is never shown again");
    let json = ok(&senda(&db, &["token", "list", "--user", "coord@example.org", "--json"], ""));
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    let id = json[0]["id"].as_i64().expect("id");
    assert_eq!(json[0]["user"], "coord@example.org");

    ok(&senda_as(&db, &["token", "revoke", &id.to_string()], "", Some("ana")));
    assert!(store.token_caller(&senda_core::accounts::secret_digest(&secret), now).expect("read").is_none(), "revoked");
    let e = refused(&senda(&db, &["token", "revoke", &id.to_string()], ""));
    assert!(e.contains("id: token") && e.contains("already revoked"), "{e}");
    let e = refused(&senda(&db, &["token", "revoke", "999"], ""));
    assert!(e.contains("id: no token 999"), "{e}");
    assert!(ok(&senda(&db, &["token", "list"], "")).contains("revoked"));

    let csv = ok(&senda(&db, &["audit", "--format", "csv", "--record", &format!("api_token:{id}")], ""));
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| r[6]).collect();
    assert_eq!(actions, ["token.revoke", "token.create"], "{csv}");
    assert!(rows.iter().all(|r| r[2] == "cli:ana"), "the operating-system user is recorded: {csv}");

    ok(&senda(&db, &["user", "disable", "coord@example.org"], ""));
    let e = refused(&add(&["--user", "coord@example.org", "--name", "late"]));
    assert!(e.contains("--user: coord@example.org is disabled"), "{e}");
}

#[test]
fn data_writes_from_the_command_line_are_in_the_audit_trail_with_the_operating_system_user() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    let file = dir.path().join("synthetic.xml");
    let as_ana = |args: &[&str]| senda_as(&db, args, "", Some("ana"));
    ok(&as_ana(&["generate", "--out", file.to_str().unwrap_or_default(), "--activities", "5"]));
    ok(&as_ana(&["import", "--no-progress", file.to_str().unwrap_or_default()]));
    let events = |record: &str| -> Vec<serde_json::Value> {
        let out = ok(&senda(&db, &["audit", "--format", "json", "--record", record], ""));
        serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("json")
    };
    let run = events("import_run:1");
    assert_eq!(run.len(), 1, "one event per run, not per activity: {run:?}");
    assert_eq!(run[0]["action"], "import.run");
    assert_eq!(run[0]["actor"], "cli:ana");
    assert_eq!(run[0]["run_id"], 1);
    assert!(run[0]["after"].as_str().unwrap_or_default().contains("\"created\":5"), "{run:?}");

    let store = senda_store::SqliteStore::open(&db).expect("open");
    let id = senda_store::Store::list_activities(
        &store,
        &senda_store::ActivityFilter { strategy: "cmms-2021".into(), limit: Some(1), ..Default::default() },
    )
    .expect("list")
    .remove(0)
    .iati_identifier;
    ok(&as_ana(&["map", "set", &id, "LOE5", "--note", "read the documents"]));
    ok(&as_ana(&["map", "unset", &id, "--note", "rules are right after all"]));
    let decisions = events(&format!("activity:{id}"));
    let actions: Vec<&str> = decisions.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["mapping_override.unset", "mapping_override.set"], "{decisions:?}");
    let set = &decisions[1];
    assert!(set["before"].is_null(), "no override before: {set}");
    assert!(set["after"].as_str().unwrap_or_default().contains("LOE5"), "{set}");
    let unset = &decisions[0];
    assert!(unset["before"].as_str().unwrap_or_default().contains("read the documents"), "{unset}");
    assert!(unset["after"].is_null(), "{unset}");
    assert!(decisions.iter().all(|e| e["actor"] == "cli:ana"));
    // A refused decision writes nothing, in the data or the trail.
    refused(&as_ana(&["map", "set", "XM-NO-SUCH", "LOE5", "--note", "x"]));
    assert!(events("activity:XM-NO-SUCH").is_empty());

    let csv = dir.path().join("r.csv");
    std::fs::write(&csv, "indicator,country,period,kind,value\nLOE5-1,GT,FY2023,actual,10\n").expect("write");
    ok(&as_ana(&["results", "import", csv.to_str().unwrap_or_default()]));
    let results = events("values:results:cmms-2021");
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["action"], "results.import");
    assert!(results[0]["after"].as_str().unwrap_or_default().contains("\"inserted\":1"), "{results:?}");
    let stats = dir.path().join("s.csv");
    std::fs::write(&stats, "#date,#country+name,#indicator+code,#indicator+value\n2024-01,EL SALVADOR,test-series,7\n")
        .expect("write");
    ok(&as_ana(&["stats", "import", stats.to_str().unwrap_or_default()]));
    assert_eq!(events("values:stats")[0]["action"], "stats.import");

    // The demo's import is a run like any other.
    let demo = dir.path().join("demo.db");
    ok(&senda_as(&demo, &["demo", "--no-serve", "--activities", "5"], "", Some("ana")));
    let out = ok(&senda(&demo, &["audit", "--format", "json"], ""));
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
    assert!(all.iter().any(|e| e["action"] == "import.run" && e["actor"] == "cli:ana"), "{all:?}");
}

#[test]
fn organisations_of_real_imported_data_are_adopted_without_retyping() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("senda.db");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati/us-gov/usaid-sv.xml");
    ok(&senda(&db, &["import", "--no-progress", file.to_str().unwrap_or_default()], ""));
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&senda(&db, &["organisation", "candidates", "--json"], ""))).expect("json");
    let find = |r: &str| list.iter().find(|c| c["iati_ref"] == r).cloned();
    // A participating (implementing) organisation, not a reporting one.
    let partner = find("GB-CHC-1076822").expect("an implementing partner of USAID El Salvador is a candidate");
    assert_eq!(partner["roles"], serde_json::json!(["implementing"]), "{partner}");
    assert!(partner["activities"].as_u64().unwrap_or(0) >= 1, "{partner}");
    assert!(partner["adopted_as"].is_null());
    let usaid = find("US-GOV-1").expect("the reporting organisation");
    assert!(usaid["roles"].as_array().is_some_and(|r| r.contains(&serde_json::json!("reporting"))), "{usaid}");
    let table = ok(&senda(&db, &["organisation", "candidates"], ""));
    assert!(table.contains("GB-CHC-1076822") && table.contains("implementing"), "{table}");

    let e = refused(&senda(&db, &["organisation", "adopt", "XM-NO-SUCH-ORG"], ""));
    assert!(e.contains("iati_ref: no imported activity names the organisation \"XM-NO-SUCH-ORG\""), "{e}");
    let e = refused(&senda(&db, &["organisation", "adopt", "GB-CHC-1076822", "--category", "army"], ""));
    assert!(e.contains("category: unknown partner category \"army\""), "{e}");
    let orgs = || -> Vec<serde_json::Value> {
        serde_json::from_str(&ok(&senda(&db, &["organisation", "list", "--json"], ""))).expect("json")
    };
    assert!(orgs().is_empty(), "a refused adoption creates nothing");
    ok(&senda(&db, &["organisation", "adopt", "GB-CHC-1076822", "US-GOV-1", "--category", "civil_society"], ""));
    let o = orgs();
    let adopted = o.iter().find(|x| x["iati_ref"] == "GB-CHC-1076822").expect("adopted");
    assert_eq!(adopted["name"], partner["name"], "the name as published");
    assert_eq!((adopted["category"].as_str(), adopted["country"].as_str()), (Some("civil_society"), Some("GB")));
    ok(&senda(&db, &["organisation", "adopt", "GB-CHC-1076822"], ""));
    assert_eq!(orgs().len(), 2, "adopting again is the same organisation");
    let after: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&senda(&db, &["organisation", "candidates", "--json"], ""))).expect("json");
    let c = after.iter().find(|c| c["iati_ref"] == "GB-CHC-1076822").expect("still listed");
    assert_eq!(c["adopted_as"], adopted["id"]);
}

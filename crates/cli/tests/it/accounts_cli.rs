//! `senda user`, `senda organisation` and `senda audit` as a new user runs them (issue 17):
//! the first administrator, passwords on standard input only, refusals naming the field.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn senda(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_senda"))
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

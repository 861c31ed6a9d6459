//! Accounts on every backend (issue 17): organisations (and adopting those of imported data),
//! people, server-side sessions with their timeouts, API tokens stored as digests, and the
//! audit trail every account write leaves in its own transaction.

use super::*;
use crate::support::*;
use senda_core::accounts::{Caller, Email, NewOrganisation, Role, secret_digest};
use senda_store::StoreError;
use senda_store::accounts::{Actor, Adoption, AuditFilter, SessionLimits};

const NOW: i64 = 1_800_000_000;
const LIMITS: SessionLimits = SessionLimits { idle: 1800, absolute: 43_200 };

fn email(s: &str) -> Email {
    Email::parse(s).expect("valid e-mail")
}

fn org(name: &str, iati_ref: Option<&str>) -> NewOrganisation {
    NewOrganisation::parse(name, None, iati_ref, None, Some("GT"), &[]).expect("valid organisation")
}

fn field(e: StoreError) -> &'static str {
    match e {
        StoreError::Account { field, .. } => field,
        other => panic!("expected an account error naming a field, got {other}"),
    }
}

fn caller(s: &dyn Store, e: &str) -> Caller {
    let (p, _) = s.person_for_login(&email(e)).expect("read").expect("person exists");
    Caller { person_id: p.id, email: p.email, organisation_id: p.organisation_id, role: p.role, token_id: None }
}

/// An organisation, an administrator and a partner editor, a session and a token: a row in
/// every account table (the copy test uses it).
pub fn fill_accounts(s: &dyn Store) {
    let cli = Actor::cli();
    let o = s.create_organisation(&cli, &org("Partner", Some("XM-PARTNER")), NOW).expect("organisation");
    s.create_person(&cli, &email("admin@example.org"), None, Role::Administrator, "$argon2id$x", NOW).expect("admin");
    s.create_person(&cli, &email("editor@example.org"), Some(o), Role::PartnerEditor, "$argon2id$y", NOW)
        .expect("editor");
    let ed = caller(s, "editor@example.org");
    s.create_session(&ed, &secret_digest("session"), "csrf", NOW).expect("session");
    s.create_token(&ed, "sync", Role::PartnerEditor, &secret_digest("token"), NOW + 86_400, NOW).expect("token");
}

#[test]
fn organisations_and_people_are_kept_with_clear_refusals() {
    for_each_backend(|b| {
        let db = b.db();
        let cli = Actor::cli();
        let a = db.create_organisation(&cli, &org("Alianza", Some("XM-A")), NOW).expect("create");
        let e = db.create_organisation(&cli, &org("Other", Some("XM-A")), NOW).expect_err("same identifier");
        assert_eq!(field(e), "iati_ref");
        let orgs = db.organisations().expect("list");
        assert_eq!(orgs.len(), 1, "the refused one left nothing");
        assert_eq!((orgs[0].id, orgs[0].name.as_str(), orgs[0].country.as_deref()), (a, "Alianza", Some("GT")));

        db.create_person(&cli, &email("Ana@Example.org"), Some(a), Role::PartnerEditor, "h1", NOW).expect("person");
        let e = db.create_person(&cli, &email("ana@example.org"), None, Role::Viewer, "h2", NOW).expect_err("taken");
        assert_eq!(field(e), "email");
        let e =
            db.create_person(&cli, &email("bo@example.org"), Some(9999), Role::Viewer, "h2", NOW).expect_err("no org");
        assert_eq!(field(e), "organisation");
        let people = db.people().expect("people");
        assert_eq!(people.len(), 1);
        assert_eq!(
            (people[0].email.as_str(), people[0].role, people[0].disabled),
            ("ana@example.org", Role::PartnerEditor, false)
        );
        let (_, hash) = db.person_for_login(&email("ANA@example.org")).expect("read").expect("found");
        assert_eq!(hash, "h1");
        assert!(db.person_for_login(&email("nobody@example.org")).expect("read").is_none());
        let e = db.set_person_disabled(&cli, &email("nobody@example.org"), true, NOW).expect_err("unknown");
        assert_eq!(field(e), "email");
    });
}

#[test]
fn sessions_end_on_timeouts_logout_disabling_and_role_changes() {
    for_each_backend(|b| {
        let db = b.db();
        let cli = Actor::cli();
        db.create_person(&cli, &email("c@example.org"), None, Role::Coordinator, "h", NOW).expect("person");
        let c = caller(&*db, "c@example.org");
        let open = |d: &str, at: i64| {
            db.create_session(&c, &secret_digest(d), "tok", at).expect("session");
        };
        let live = |d: &str, at: i64| db.session(&secret_digest(d), LIMITS, at).expect("read").is_some();

        open("a", NOW);
        let s = db.session(&secret_digest("a"), LIMITS, NOW + 10).expect("read").expect("live");
        assert_eq!((s.caller.role, s.csrf.as_str()), (Role::Coordinator, "tok"));
        assert!(!live("unknown", NOW), "a session id never issued opens nothing");
        // Used every 20 minutes, it lives until the absolute limit.
        let mut t = NOW;
        while t + 1200 < NOW + LIMITS.absolute {
            t += 1200;
            assert!(live("a", t), "in use at +{}s", t - NOW);
        }
        assert!(!live("a", NOW + LIMITS.absolute + 1), "absolute timeout");
        assert!(!live("a", NOW + 10), "an ended session stays ended");

        open("idle", NOW);
        assert!(!live("idle", NOW + LIMITS.idle + 1), "idle timeout");

        open("out", NOW);
        assert!(db.end_session(&secret_digest("out"), NOW + 5).expect("logout"));
        assert!(!live("out", NOW + 6), "logout ends it on the server");
        assert!(!db.end_session(&secret_digest("out"), NOW + 7).expect("again"), "twice is nothing");

        open("d", NOW);
        db.set_person_disabled(&cli, &email("c@example.org"), true, NOW + 1).expect("disable");
        assert!(!live("d", NOW + 2), "disabling ends open sessions at once");
        db.set_person_disabled(&cli, &email("c@example.org"), false, NOW + 3).expect("enable");
        assert!(!live("d", NOW + 4), "enabling again does not bring them back");

        open("r", NOW);
        db.set_person_role(&cli, &email("c@example.org"), Role::Viewer, None, NOW + 1).expect("role");
        assert!(!live("r", NOW + 2), "a role change ends open sessions");
        open("p", NOW + 3);
        db.set_password(&cli, &email("c@example.org"), "h2", NOW + 4).expect("password");
        assert!(!live("p", NOW + 5), "a password reset ends open sessions");
    });
}

#[test]
fn tokens_are_digests_that_act_with_at_most_the_persons_role() {
    for_each_backend(|b| {
        let db = b.db();
        let cli = Actor::cli();
        db.create_person(&cli, &email("t@example.org"), None, Role::Coordinator, "h", NOW).expect("person");
        let c = caller(&*db, "t@example.org");
        let e = db.create_token(&c, "too much", Role::Administrator, "d0", NOW + 100, NOW).expect_err("above own role");
        assert_eq!(field(e), "role");
        let id =
            db.create_token(&c, "sync", Role::Coordinator, &secret_digest("secret-1"), NOW + 100, NOW).expect("token");
        assert!(db.token_caller("secret-1", NOW).expect("read").is_none(), "the secret itself is not stored");
        let t = db.token_caller(&secret_digest("secret-1"), NOW + 1).expect("read").expect("valid");
        assert_eq!((t.role, t.token_id), (Role::Coordinator, Some(id)));
        assert!(db.tokens(c.person_id).expect("list")[0].last_used_at.is_some(), "the use is recorded");

        db.set_person_role(&cli, &email("t@example.org"), Role::Viewer, None, NOW + 2).expect("demote");
        let t = db.token_caller(&secret_digest("secret-1"), NOW + 3).expect("read").expect("valid");
        assert_eq!(t.role, Role::Viewer, "a token never acts above its person's current role");
        assert!(db.token_caller(&secret_digest("secret-1"), NOW + 100).expect("read").is_none(), "expired");

        db.create_token(&c, "other", Role::Viewer, &secret_digest("secret-2"), NOW + 1000, NOW).expect("token");
        db.set_person_disabled(&cli, &email("t@example.org"), true, NOW + 4).expect("disable");
        assert!(db.token_caller(&secret_digest("secret-2"), NOW + 5).expect("read").is_none(), "disabled person");
        db.set_person_disabled(&cli, &email("t@example.org"), false, NOW + 6).expect("enable");
        let c = caller(&*db, "t@example.org");
        let other = db.tokens(c.person_id).expect("list").into_iter().find(|t| t.name == "other").expect("listed");
        assert!(db.revoke_token(&c, other.id, NOW + 7).expect("revoke"));
        assert!(!db.revoke_token(&c, other.id, NOW + 8).expect("revoke again"));
        assert!(db.token_caller(&secret_digest("secret-2"), NOW + 9).expect("read").is_none(), "revoked");

        // Who a token belongs to; the stored role is what caps a new token, not a stale caller.
        assert_eq!(db.token_owner(other.id).expect("owner"), Some(c.person_id));
        assert_eq!(db.token_owner(999_999).expect("owner"), None);
        let stale = Caller { role: Role::Coordinator, ..c.clone() };
        let e = db
            .create_token_by(&cli, &stale, "stale", Role::Coordinator, &secret_digest("secret-3"), NOW + 1000, NOW + 10)
            .expect_err("above the stored role");
        assert_eq!(field(e), "role");
        db.set_person_disabled(&cli, &email("t@example.org"), true, NOW + 11).expect("disable");
        let e = db
            .create_token_by(&cli, &c, "late", Role::Viewer, &secret_digest("secret-4"), NOW + 1000, NOW + 12)
            .expect_err("disabled owner");
        assert_eq!(field(e), "user");
        // The command line's writes name the operating-system user when it is known.
        assert_eq!(Actor::cli_user(Some("ana")).label, "cli:ana");
        assert_eq!(Actor::cli_user(Some(" \n")).label, "cli");
        assert_eq!(Actor::cli_user(None).label, "cli");
    });
}

#[test]
fn every_account_write_is_in_the_audit_trail_and_it_filters() {
    for_each_backend(|b| {
        let db = b.db();
        fill_accounts(&*db);
        let ed = caller(&*db, "editor@example.org");
        db.set_person_role(&Actor::cli(), &email("editor@example.org"), Role::Viewer, None, NOW + 10).expect("role");
        let all = db.audit_events(&AuditFilter { limit: 100, ..Default::default() }).expect("audit");
        let actions: Vec<&str> = all.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "organisation.create",
                "person.create",
                "person.create",
                "session.login",
                "token.create",
                "person.set_role"
            ]
        );
        let change = &all[0];
        assert_eq!(
            (change.actor.as_str(), change.record.as_str()),
            ("cli", format!("person:{}", ed.person_id).as_str())
        );
        assert!(change.before.as_deref().unwrap_or_default().contains("\"partner_editor\""), "{change:?}");
        assert!(change.after.as_deref().unwrap_or_default().contains("\"viewer\""), "{change:?}");
        let by_editor = db
            .audit_events(&AuditFilter { person_id: Some(ed.person_id), limit: 100, ..Default::default() })
            .expect("audit");
        assert_eq!(by_editor.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["token.create", "session.login"]);
        assert_eq!(by_editor[0].actor, "editor@example.org");
        let on_record = db
            .audit_events(&AuditFilter {
                record: Some(format!("person:{}", ed.person_id)),
                limit: 100,
                ..Default::default()
            })
            .expect("audit");
        assert_eq!(on_record.len(), 3, "created, signed in, role changed");
        let later = db
            .audit_events(&AuditFilter { from: Some("2027-01-15T08:00:05Z".into()), limit: 100, ..Default::default() })
            .expect("audit");
        assert_eq!(later.len(), 1, "{later:?}");
        let by_org = db
            .audit_events(&AuditFilter { organisation_id: ed.organisation_id, limit: 100, ..Default::default() })
            .expect("audit");
        assert_eq!(by_org.len(), 2, "the editor's own two writes");
    });
}

#[test]
fn organisations_of_imported_data_are_adopted_by_identifier() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = tempfile::tempdir().expect("temporary folder");
        let implementer = "  <participating-org ref=\"HN-RTN-0801\" role=\"4\"><narrative>Asociación Hondureña</narrative></participating-org>\n  <participating-org ref=\"XM-TEST\" role=\"1\"><narrative>Test Agency</narrative></participating-org>\n  <participating-org role=\"4\"><narrative>No identifier</narrative></participating-org>";
        let body = format!("{implementer}\n{}", transaction("3", "2024-01-01", "10"));
        let f =
            write(dir.path(), "a.xml", doc("2.03", &(activity("XM-TEST-1", &body) + &activity("XM-TEST-2", &body))));
        import(&mut *db, &[f]);
        let c = db.organisation_candidates().expect("candidates");
        #[allow(clippy::type_complexity)]
        let seen: Vec<(&str, &str, u64, Vec<&str>, Option<i64>)> = c
            .iter()
            .map(|c| {
                (
                    c.iati_ref.as_str(),
                    c.name.as_str(),
                    c.activities,
                    c.roles.iter().map(String::as_str).collect(),
                    c.adopted_as,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("HN-RTN-0801", "Asociación Hondureña", 2, vec!["implementing"], None),
                ("XM-TEST", "Test Agency", 2, vec!["reporting", "funding"], None),
            ],
            "reporting and participating organisations with an identifier, each activity counted once"
        );
        let cats = ["civil_society", "us_government"];
        let adopt = |refs: &[&str], category: Option<&str>| {
            let refs: Vec<String> = refs.iter().map(|r| (*r).to_owned()).collect();
            db.adopt_organisations(&Actor::cli(), &Adoption { refs: &refs, category, categories: &cats }, NOW)
        };
        // Nothing is created when one identifier or the category is wrong.
        assert_eq!(field(adopt(&["HN-RTN-0801", "XM-NOPE"], None).expect_err("unknown")), "iati_ref");
        assert_eq!(field(adopt(&["HN-RTN-0801"], Some("army")).expect_err("category")), "category");
        assert_eq!(db.organisations().expect("list").len(), 0);
        let ids = adopt(&["HN-RTN-0801", "XM-TEST"], Some("civil_society")).expect("adopt");
        let o = db.organisation(ids[0]).expect("read").expect("adopted");
        assert_eq!(
            (o.name.as_str(), o.iati_ref.as_deref(), o.category.as_deref(), o.country.as_deref()),
            ("Asociación Hondureña", Some("HN-RTN-0801"), Some("civil_society"), Some("HN")),
            "the name as published, the category given, the country of a Honduran registration agency"
        );
        assert_eq!(db.organisation(ids[1]).expect("read").and_then(|o| o.country), None, "XM- is no country");
        assert_eq!(adopt(&["XM-TEST"], None).expect("again"), vec![ids[1]], "adopting twice is the same organisation");
        let c = db.organisation_candidates().expect("candidates");
        assert_eq!(c.iter().map(|c| c.adopted_as).collect::<Vec<_>>(), vec![Some(ids[0]), Some(ids[1])]);
        assert_eq!(db.organisations().expect("list").len(), 2);
        // Each adoption is audited as the creation of an organisation.
        let events = db
            .audit_events(&AuditFilter {
                record: Some(format!("organisation:{}", ids[0])),
                limit: 10,
                ..Default::default()
            })
            .expect("audit");
        assert_eq!(events.len(), 1, "{events:?}");
    });
}

#[test]
fn every_import_run_and_every_values_file_is_audited_by_the_store_with_its_write() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = tempfile::tempdir().expect("temporary folder");
        let f = write(dir.path(), "a.xml", activity_xml("XM-TEST-1", &transaction("3", "2024-01-01", "10")));
        let mut runs = Vec::new();
        for _ in 0..2 {
            runs.push(import(&mut *db, std::slice::from_ref(&f)).run_id);
        }
        for (n, run) in runs.iter().enumerate() {
            let e = db
                .audit_events(&AuditFilter {
                    record: Some(format!("import_run:{run}")),
                    limit: 10,
                    ..Default::default()
                })
                .expect("audit");
            assert_eq!(e.len(), 1, "one event per run, not per activity: {e:?}");
            assert_eq!((e[0].action.as_str(), e[0].run_id), ("import.run", Some(*run)));
            assert!(e[0].actor.starts_with("cli"), "{:?}", e[0].actor);
            let after: serde_json::Value = serde_json::from_str(e[0].after.as_deref().expect("after")).expect("JSON");
            assert_eq!(after["created"], if n == 0 { 1 } else { 0 }, "{after}");
            assert_eq!(after["files_unchanged"], if n == 0 { 0 } else { 1 }, "{after}");
        }
        // A values file: one event for the file, by whom the batch names; the same file again
        // writes nothing and records nothing.
        let who =
            Actor { label: "ana@example.org".into(), person_id: Some(7), token_id: None, organisation_id: Some(3) };
        let obs = senda_core::Observation {
            series: "cbp.encounters".into(),
            place: senda_core::Place::Country(crate::values::cc("HN")),
            period: senda_core::Period::parse("2023-10").expect("period"),
            disaggregation: Default::default(),
            kind: senda_core::ValueKind::Observed,
            value: rust_decimal::Decimal::from(12),
            denominator: None,
            row: 2,
        };
        let batch = senda_store::ValueBatch {
            dataset: "stats",
            path: Some("stats.csv".into()),
            format: "hxl".into(),
            content_hash: "h1".into(),
            series: vec![],
            observations: vec![(obs, None)],
            report: serde_json::Value::Null,
            actor: who.clone(),
            audit_record: "values:stats".into(),
        };
        for _ in 0..2 {
            db.import_values(&batch).expect("values");
        }
        let e = db
            .audit_events(&AuditFilter { record: Some("values:stats".into()), limit: 10, ..Default::default() })
            .expect("audit");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].action.as_str(), e[0].actor.as_str(), e[0].person_id, e[0].organisation_id),
            ("stats.import", "ana@example.org", Some(7), Some(3))
        );
        let after: serde_json::Value = serde_json::from_str(e[0].after.as_deref().expect("after")).expect("JSON");
        assert_eq!((after["file"].as_str(), after["inserted"].as_u64()), (Some("stats.csv"), Some(1)), "{after}");
    });
}

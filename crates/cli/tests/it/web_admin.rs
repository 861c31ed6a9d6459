//! The administrator's pages (issue 17): organisations and people (list, add, disable and
//! enable, set the role) and the audit trail with its CSV download; every refusal names the
//! field; nobody but an administrator reaches the account pages.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use senda_core::accounts::{Caller, Email, Role, secret_digest, verify_password};
use senda_store::accounts::{AccountStore, Actor};
use tower::ServiceExt;

fn send(rt: &tokio::runtime::Runtime, app: &axum::Router, uri: &str, cookie: &str, body: &str) -> Resp {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request");
    rt.block_on(async {
        let r = app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

/// A session for `email` made in the store: the cookie header and the CSRF token.
fn session(store: &senda_store::SqliteStore, email: &str, n: u32) -> (String, String) {
    let (p, _) = store.person_for_login(&Email::parse(email).expect("e")).expect("read").expect("found");
    let caller =
        Caller { person_id: p.id, email: p.email, organisation_id: p.organisation_id, role: p.role, token_id: None };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (sid, csrf) = (format!("admin-test-session-{n}"), format!("admin-test-csrf-{n}"));
    store.create_session(&caller, &secret_digest(&sid), &csrf, now).expect("session");
    (format!("senda_session={sid}"), csrf)
}

#[test]
fn an_administrator_manages_organisations_and_people_and_reads_the_audit_trail() {
    let (dir, store) = db();
    for (e, r) in [("admin@example.org", Role::Administrator), ("viewer@example.org", Role::Viewer)] {
        store
            .create_person(&Actor::cli(), &Email::parse(e).expect("e"), None, r, "$argon2id$unused", 1)
            .expect("person");
    }
    let app = app(&dir.path().join("senda.db"));
    let rt = runtime();
    let (admin, csrf) = session(&store, "admin@example.org", 1);
    let h = [("cookie", admin.as_str())];

    // Organisations.
    let page = get(&rt, &app, "/admin/organisations", &h);
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No organisations yet."), "{}", page.body);
    let post = |uri: &str, body: &str| send(&rt, &app, uri, &admin, &format!("{body}&csrf={csrf}"));
    for (body, says) in [
        ("name=+", "name: is empty"),
        ("name=Alianza&category=army", "category: unknown partner category"),
        ("name=Alianza&country=USA", "country: "),
        ("name=Alianza&iati_ref=US+GOV", "iati_ref: "),
    ] {
        let r = post("/admin/organisations", body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    let r =
        post("/admin/organisations", "name=Alianza&name_es=Alianza&category=civil_society&country=gt&iati_ref=XM-ALI");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post("/admin/organisations", "name=Other&iati_ref=XM-ALI");
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("iati_ref: another organisation has the identifier XM-ALI"), "{}", r.body);
    let orgs = store.organisations().expect("orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].country.as_deref(), Some("GT"));
    let org = orgs[0].id;
    assert!(get(&rt, &app, "/admin/organisations?lang=es", &h).body.contains("Organizaciones"));

    // People.
    let page = get(&rt, &app, "/admin/people", &h);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("admin@example.org") && page.body.contains("viewer@example.org"), "{}", page.body);
    let pw = "password=a+long+first+passphrase";
    for (body, says) in [
        (format!("email=ed%40example.org&role=partner_editor&organisation=&{pw}"), "organisation: a partner_editor"),
        (
            format!("email=ed%40example.org&role=partner_editor&organisation=99&{pw}"),
            "organisation: no organisation with id 99",
        ),
        (
            format!("email=ed%40example.org&role=partner_editor&organisation=x&{pw}"),
            "organisation: &quot;x&quot; is not",
        ),
        (format!("email=ed%40example&role=viewer&{pw}"), "email: "),
        (format!("email=ed%40example.org&role=boss&{pw}"), "role: unknown role"),
        ("email=ed%40example.org&role=viewer&password=short".to_owned(), "password: 5 characters"),
        ("email=ed%40example.org&role=viewer&password=password1234".to_owned(), "password: is on the list"),
    ] {
        let r = post("/admin/people", &body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    let r = post("/admin/people", &format!("email=Ed%40Example.org&role=partner_editor&organisation={org}&{pw}"));
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post("/admin/people", &format!("email=ed%40example.org&role=viewer&{pw}"));
    assert!(r.body.contains("email: ed@example.org already has an account"), "{}", r.body);
    let ed = Email::parse("ed@example.org").expect("e");
    let (p, hash) = store.person_for_login(&ed).expect("read").expect("made");
    assert_eq!((p.role, p.organisation_id), (Role::PartnerEditor, Some(org)));
    assert!(verify_password("a long first passphrase", &hash), "the first password works");

    assert_eq!(post(&format!("/admin/people/{}/disable", p.id), "").status, StatusCode::SEE_OTHER);
    assert!(store.person_for_login(&ed).expect("read").expect("p").0.disabled);
    assert_eq!(post(&format!("/admin/people/{}/enable", p.id), "").status, StatusCode::SEE_OTHER);
    assert!(!store.person_for_login(&ed).expect("read").expect("p").0.disabled);
    let r = post(&format!("/admin/people/{}/role", p.id), "role=partner_editor&organisation=");
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("organisation: a partner_editor"), "{}", r.body);
    assert_eq!(
        post(&format!("/admin/people/{}/role", p.id), "role=viewer&organisation=").status,
        StatusCode::SEE_OTHER
    );
    let (p2, _) = store.person_for_login(&ed).expect("read").expect("p");
    assert_eq!((p2.role, p2.organisation_id), (Role::Viewer, None));
    for uri in ["/admin/people/999999/disable", "/admin/people/abc/enable", "/admin/people/999999/role"] {
        assert_eq!(post(uri, "role=viewer").status, StatusCode::NOT_FOUND, "{uri}");
    }
    // An administrator cannot lock themselves out from here.
    let (me, _) = store.person_for_login(&Email::parse("admin@example.org").expect("e")).expect("r").expect("p");
    let r = post(&format!("/admin/people/{}/disable", me.id), "");
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(&format!("/admin/people/{}/role", me.id), "role=viewer&organisation=");
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Without the session's CSRF token nothing changes.
    let r = send(&rt, &app, &format!("/admin/people/{}/disable", p.id), &admin, "");
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The audit trail, filtered, and its CSV.
    let page = get(&rt, &app, "/admin/audit", &h);
    assert_eq!(page.status, StatusCode::OK);
    for action in ["organisation.create", "person.create", "person.disable", "person.enable", "person.set_role"] {
        assert!(page.body.contains(action), "{action} on the audit page");
    }
    let only = get(&rt, &app, &format!("/admin/audit?record=organisation%3A{org}"), &h);
    assert!(only.body.contains("organisation.create") && !only.body.contains("person.create"), "{}", only.body);
    let by = get(&rt, &app, "/admin/audit?person=admin%40example.org&from=2020-01-01", &h);
    assert!(by.body.contains("person.disable"), "{}", by.body);
    for (q, says) in [
        ("person=nobody%40example.org", "person: no person"),
        ("person=nobody", "person: "),
        ("organisation=x", "organisation: "),
        ("from=yesterday", "from: "),
        ("to=2026-13-01", "to: "),
    ] {
        let r = get(&rt, &app, &format!("/admin/audit?{q}"), &h);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.body);
        assert!(r.body.contains(says), "{q}: {}", r.body);
    }
    let csv = get(&rt, &app, &format!("/admin/audit.csv?record=person%3A{}", p.id), &h);
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv"))
    );
    let actions: Vec<&str> = csv.body.lines().skip(1).filter_map(|l| l.split(',').nth(6)).collect();
    assert_eq!(actions, ["person.set_role", "person.enable", "person.disable", "person.create"], "{}", csv.body);
    assert!(csv.body.lines().skip(1).all(|l| l.contains(",admin@example.org,")), "{}", csv.body);

    // A viewer reads the audit trail (the policy: viewers read everything) but no account page.
    let (viewer, _) = session(&store, "viewer@example.org", 2);
    let v = [("cookie", viewer.as_str())];
    assert_eq!(get(&rt, &app, "/admin/people", &v).status, StatusCode::FORBIDDEN);
    assert_eq!(get(&rt, &app, "/admin/organisations", &v).status, StatusCode::FORBIDDEN);
    assert_eq!(get(&rt, &app, "/admin/audit", &v).status, StatusCode::OK);
    assert_eq!(get(&rt, &app, "/admin/people", &[]).status, StatusCode::SEE_OTHER, "anonymous: sign in");
    // "My account" links to the pages the policy opens to the person, and only those.
    let mine = get(&rt, &app, "/account", &h).body;
    assert!(mine.contains("/admin/people") && mine.contains("/admin/audit"), "{mine}");
    let theirs = get(&rt, &app, "/account?lang=es", &v).body;
    assert!(theirs.contains("/admin/audit?lang=es") && !theirs.contains("/admin/people"), "{theirs}");
    assert!(theirs.contains("Registro de auditoría"), "{theirs}");
}

#[test]
fn an_administrator_adopts_an_organisation_of_the_imported_data_from_the_organisations_page() {
    let (dir, mut store) = db();
    let partner = "  <participating-org ref=\"HN-RTN-0801\" role=\"4\"><narrative>Asociación Hondureña</narrative></participating-org>";
    let f = write(
        dir.path(),
        "a.xml",
        activity_xml("XM-TEST-1", &format!("{partner}\n{}", transaction("3", "2024-01-01", "10"))),
    );
    import(&mut store, &[f]);
    store
        .create_person(
            &Actor::cli(),
            &Email::parse("admin@example.org").expect("e"),
            None,
            Role::Administrator,
            "$argon2id$unused",
            1,
        )
        .expect("person");
    let app = app(&dir.path().join("senda.db"));
    let rt = runtime();
    let (admin, csrf) = session(&store, "admin@example.org", 1);
    let h = [("cookie", admin.as_str())];
    for (uri, says) in [
        ("/admin/organisations", "Adopt an organisation of the imported IATI data"),
        ("/admin/organisations?lang=es", "Adoptar una organización de los datos IATI importados"),
    ] {
        let page = get(&rt, &app, uri, &h);
        assert!(page.body.contains(says), "{}", page.body);
        assert!(
            page.body.contains("<option value=\"HN-RTN-0801\">Asociación Hondureña (HN-RTN-0801)"),
            "{}",
            page.body
        );
        assert!(page.body.contains("<option value=\"XM-TEST\">"), "the reporting organisation too: {}", page.body);
        // Its IATI role in the reader's language (role 4: implementing).
        let role = if uri.ends_with("=es") { "· implementadora ·" } else { "· implementing ·" };
        assert!(page.body.contains(role), "{role}: {}", page.body);
        assert!(page.body.contains("<header class=\"top\">"), "the site's header");
    }
    let post = |body: &str| send(&rt, &app, "/admin/organisations/adopt", &admin, &format!("{body}&csrf={csrf}"));
    let r = post("iati_ref=XM-NOPE&category=");
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("iati_ref: no imported activity names the organisation"), "{}", r.body);
    let r = post("iati_ref=HN-RTN-0801&category=army");
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("category: unknown partner category"), "{}", r.body);
    assert!(store.organisations().expect("orgs").is_empty(), "nothing made by a refused form");
    let r = post("iati_ref=HN-RTN-0801&category=civil_society");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let orgs = store.organisations().expect("orgs");
    assert_eq!(orgs.len(), 1);
    let o = &orgs[0];
    assert_eq!(
        (o.name.as_str(), o.iati_ref.as_deref(), o.category.as_deref(), o.country.as_deref()),
        ("Asociación Hondureña", Some("HN-RTN-0801"), Some("civil_society"), Some("HN"))
    );
    let page = get(&rt, &app, "/admin/organisations", &h);
    assert!(!page.body.contains("<option value=\"HN-RTN-0801\">"), "an adopted organisation is no longer offered");
    assert!(page.body.contains("<td>HN-RTN-0801</td>"), "it is listed: {}", page.body);
    assert!(page.body.contains("<td>Civil society</td>"), "its category by name: {}", page.body);
    let page = get(&rt, &app, "/admin/organisations?lang=es", &h);
    assert!(page.body.contains("<td>Sociedad civil</td>"), "in Spanish: {}", page.body);
    let events = store
        .audit_events(&senda_store::accounts::AuditFilter {
            record: Some(format!("organisation:{}", o.id)),
            limit: 10,
            ..Default::default()
        })
        .expect("audit");
    assert_eq!((events.len(), events[0].actor.as_str()), (1, "admin@example.org"));
}

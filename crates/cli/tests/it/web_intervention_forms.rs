//! The intervention pages and forms (issue 18, items 3, 7, 8): each instrument's form round
//! trip (create, read back, edit, save) in English and Spanish; each bad input of the issue
//! shown next to its field with nothing saved; a form posted twice makes one record; a stale
//! save shows what changed meanwhile; markup is escaped; the API's edit with `If-Match`; fields
//! not for publication never reach the public or another partner.

use crate::support::*;
use crate::web::{Resp, app, get, runtime};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use senda_core::accounts::{Caller, Email, NewOrganisation, ReadScope, Role, secret_digest};
use senda_store::accounts::{AccountStore, Actor};
use senda_store::interventions::{InterventionFilter, InterventionStore};
use tower::ServiceExt;

struct Site {
    _dir: tempfile::TempDir,
    store: senda_store::SqliteStore,
    app: axum::Router,
    rt: tokio::runtime::Runtime,
    org: i64,
    other: i64,
}

/// A session for `email`: the cookie header and the CSRF token.
fn session(store: &senda_store::SqliteStore, email: &str, n: u32) -> (String, String) {
    let (p, _) = store.person_for_login(&Email::parse(email).expect("e")).expect("read").expect("found");
    let caller =
        Caller { person_id: p.id, email: p.email, organisation_id: p.organisation_id, role: p.role, token_id: None };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (sid, csrf) = (format!("form-test-session-{n}"), format!("form-test-csrf-{n}"));
    store.create_session(&caller, &secret_digest(&sid), &csrf, now).expect("session");
    (format!("senda_session={sid}"), csrf)
}

/// Organisations "Embajada" and "Otra"; an editor of each, a coordinator.
fn site() -> Site {
    let (dir, store) = db();
    let cli = Actor::cli();
    let mut orgs = Vec::new();
    for n in ["Embajada", "Otra"] {
        let o = NewOrganisation::parse(n, None, None, None, Some("HN"), &[]).expect("organisation");
        orgs.push(store.create_organisation(&cli, &o, 1).expect("create"));
    }
    for (name, role, o) in [
        ("editor", Role::PartnerEditor, Some(orgs[0])),
        ("other", Role::PartnerEditor, Some(orgs[1])),
        ("coord", Role::Coordinator, None),
    ] {
        let email = Email::parse(&format!("{name}@example.org")).expect("email");
        store.create_person(&cli, &email, o, role, "$argon2id$unused", 1).expect("person");
    }
    let app = app(&dir.path().join("senda.db"));
    Site { _dir: dir, store, app, rt: runtime(), org: orgs[0], other: orgs[1] }
}

fn post(s: &Site, uri: &str, cookie: &str, pairs: &[(String, String)]) -> Resp {
    let body = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    s.rt.block_on(async {
        let r = s.app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The value of the hidden input `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = page.find(&key).unwrap_or_else(|| panic!("no {name} in the page: {page}")) + key.len();
    let end = page[start..].find('"').expect("end of value") + start;
    page[start..end].replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
}

/// The messages shown next to the input `id`.
fn next_to(page: &str, id: &str) -> String {
    let key = format!("id=\"{id}-error\"");
    let Some(start) = page.find(&key) else { return String::new() };
    let end = page[start..].find("</ul>").map_or(page.len(), |e| e + start);
    page[start..end].to_owned()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// The fields of a valid form of `instrument` for organisation `org`, titled `title`.
fn fields(instrument: &str, org: i64, title: &str) -> Vec<(String, String)> {
    let org = org.to_string();
    let title_es = format!("{title} ES");
    let mut f = pairs(&[
        ("organisation", &org),
        ("implementing_partners", "Radio Progreso\r\nCruz Roja"),
        ("title.en", title),
        ("title.es", &title_es),
        ("description.en", "What it does"),
        ("sector", "15190"),
        ("status", "active"),
        ("lines_of_effort[0].line_of_effort", "LOE7"),
        ("lines_of_effort[0].reason", "information on the risks"),
        ("lines_of_effort[1].line_of_effort", ""),
        ("lines_of_effort[1].reason", ""),
        ("countries", "HN GT"),
        ("departments", "HN-CR, GT-16"),
        ("start", "2024-01-01"),
        ("end", "2024-12-31"),
        ("population_groups", "returnee"),
        ("population_groups", "refugee"),
    ]);
    if instrument != "foreign_assistance" {
        f.extend(pairs(&[
            ("money[0].kind", "budget"),
            ("money[0].amount", "250000.50"),
            ("money[0].currency", "USD"),
            ("money[0].date", "2024-01-01"),
            ("money[1].kind", ""),
            ("money[1].amount", ""),
        ]));
    }
    f.extend(match instrument {
        "diplomacy" => pairs(&[
            ("diplomacy.counterpart", "Ministerio de Relaciones Exteriores"),
            ("diplomacy.counterpart_kind", "government"),
            ("diplomacy.ask", "Expand asylum capacity"),
            ("not_for_publication", "diplomacy_ask"),
            ("diplomacy.history[0].date", "2024-02-01"),
            ("diplomacy.history[0].status", "raised"),
            ("diplomacy.history[1].date", "2024-05-01"),
            ("diplomacy.history[1].status", "committed"),
            ("diplomacy.history[1].note", "announced"),
        ]),
        "public_messaging" => pairs(&[
            ("public_messaging.channels", "radio\r\nWhatsApp"),
            ("public_messaging.languages", "es"),
            ("public_messaging.audiences", "young people"),
            ("public_messaging.reach[0].period", "2024-Q1"),
            ("public_messaging.reach[0].country", "HN"),
            ("public_messaging.reach[0].department", "HN-CR"),
            ("public_messaging.reach[0].people_reached", "2000000"),
            ("public_messaging.reach[0].impressions", "5000000"),
        ]),
        "immigration_initiatives" => pairs(&[
            ("immigration_initiatives.programme", "Safe Mobility Office"),
            ("immigration_initiatives.figures[0].period", "FY2024"),
            ("immigration_initiatives.figures[0].country", "GT"),
            ("immigration_initiatives.figures[0].applications", "12000"),
            ("immigration_initiatives.figures[0].approvals", "3000"),
            ("immigration_initiatives.figures[0].arrivals", "1000"),
        ]),
        _ => pairs(&[("foreign_assistance.iati_identifier", "XM-NOT-IMPORTED-YET-1")]),
    });
    f
}

fn with(mut f: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in extra {
        f.retain(|(a, _)| a != k);
        f.push(((*k).to_owned(), (*v).to_owned()));
    }
    f
}

fn count(s: &Site) -> usize {
    s.store.interventions(&InterventionFilter::default(), ReadScope::Everything).expect("list").len()
}

fn location_id(r: &Resp) -> i64 {
    let loc = r.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("redirect: {}", r.body));
    loc.trim_start_matches("/interventions/").split('?').next().and_then(|x| x.parse().ok()).expect("an id")
}

const INSTRUMENTS: [&str; 4] = ["diplomacy", "public_messaging", "immigration_initiatives", "foreign_assistance"];

#[test]
fn each_instruments_form_round_trips_in_english_and_spanish() {
    let s = site();
    let (cookie, csrf) = session(&s.store, "editor@example.org", 1);
    let h = [("cookie", cookie.as_str())];
    for (lang, q, save, new) in
        [("en", "", "Save", "New intervention"), ("es", "&lang=es", "Guardar", "Nueva intervención")]
    {
        for instrument in INSTRUMENTS {
            let page = get(&s.rt, &s.app, &format!("/interventions/new?instrument={instrument}{q}"), &h);
            assert_eq!(page.status, StatusCode::OK, "{lang} {instrument}: {}", page.body);
            assert!(page.body.contains(save) && page.body.contains(new), "{lang} {instrument}");
            assert!(!page.body.contains('⟦'), "a catalogue key is missing: {}", page.body);
            assert_eq!(hidden(&page.body, "csrf"), csrf, "the form carries the CSRF token");
            let token = hidden(&page.body, "form_token");
            let title = format!("{instrument} {lang}");
            let mut form = fields(instrument, s.org, &title);
            form.extend(pairs(&[("csrf", &csrf), ("form_token", &token)]));
            let r = post(&s, &format!("/interventions/new?instrument={instrument}{q}"), &cookie, &form);
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{lang} {instrument}: {}", r.body);
            let id = location_id(&r);

            // Read back: the record as entered, on its page.
            let rec = s
                .store
                .intervention_seen(id, ReadScope::Everything, senda_core::intervention::Sight::All)
                .expect("read")
                .expect("saved");
            assert_eq!(rec.intervention.title.en.as_deref(), Some(title.as_str()));
            assert_eq!(rec.intervention.departments, ["HN-CR", "GT-16"]);
            assert_eq!(rec.intervention.implementing_partners, ["Radio Progreso", "Cruz Roja"]);
            assert_eq!(rec.intervention.population_groups, ["returnee", "refugee"]);
            assert_eq!(rec.intervention.instrument.as_str(), instrument);
            let detail = get(&s.rt, &s.app, &format!("/interventions/{id}?lang={lang}"), &h);
            assert_eq!(detail.status, StatusCode::OK);
            assert!(detail.body.contains(&title), "{}", detail.body);
            assert!(!detail.body.contains('⟦'), "{}", detail.body);
            // Stored words and numbers in the reader's language and format.
            let (status, money) =
                if lang == "es" { ("en curso", "250.000,50 USD") } else { ("active", "250,000.50 USD") };
            assert!(detail.body.contains(&format!("<dd>{status}</dd>")), "status {status}: {}", detail.body);
            // A foreign-assistance record's money is its IATI activity's: it holds none.
            if instrument != "foreign_assistance" {
                assert!(detail.body.contains(money), "money {money}: {}", detail.body);
            }
            if instrument == "public_messaging" {
                let reach = if lang == "es" { "2.000.000" } else { "2,000,000" };
                assert!(detail.body.contains(reach), "reach {reach}: {}", detail.body);
            }
            if lang == "es" {
                assert!(page.body.contains(">en curso</option>"), "the form's choices in Spanish");
            }

            // Edit: the form shows what is stored; a change is saved from that version.
            let edit = get(&s.rt, &s.app, &format!("/interventions/{id}/edit?lang={lang}"), &h);
            assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
            assert_eq!(hidden(&edit.body, "version"), "1");
            assert!(edit.body.contains(&format!("value=\"{title}\"")), "the stored title is in the form");
            let mut changed = with(fields(instrument, s.org, &format!("{title} (edited)")), &[]);
            changed.extend(pairs(&[("csrf", &csrf), ("version", "1"), ("base", &hidden(&edit.body, "base"))]));
            let r = post(&s, &format!("/interventions/{id}/edit?lang={lang}"), &cookie, &changed);
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
            let rec = s.store.intervention(id, ReadScope::Everything).expect("read").expect("saved");
            assert_eq!(
                (rec.version, rec.intervention.title.en.as_deref()),
                (2, Some(format!("{title} (edited)").as_str()))
            );
        }
    }
    assert_eq!(count(&s), 8);
    let list = get(&s.rt, &s.app, "/interventions?instrument=diplomacy&lang=es", &h);
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("diplomacy es (edited)") && !list.body.contains("public_messaging es"), "{}", list.body);
}

#[test]
fn bad_input_is_shown_next_to_the_field_and_nothing_is_saved() {
    let s = site();
    let (cookie, csrf) = session(&s.store, "editor@example.org", 2);
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<(&str, &str)>, &str, &str, &str)> = vec![
        (
            "public_messaging",
            vec![("end", "2023-06-30")],
            "f-end",
            "the end is before the start",
            "la fecha de fin es anterior",
        ),
        (
            "public_messaging",
            vec![("departments", "SV-SS")],
            "f-departments",
            "is not in any of the countries chosen",
            "no está en ninguno",
        ),
        (
            "public_messaging",
            vec![("money[0].amount", "N/A")],
            "f-money-0-amount",
            "is not an amount",
            "no es un importe",
        ),
        (
            "public_messaging",
            vec![("money[0].amount", "1,5")],
            "f-money-0-amount",
            "is not an amount",
            "no es un importe",
        ),
        (
            "public_messaging",
            vec![("money[0].amount", "<5")],
            "f-money-0-amount",
            "is not an amount",
            "no es un importe",
        ),
        (
            "public_messaging",
            vec![("money[0].currency", "ABC")],
            "f-money-0-currency",
            "is not an ISO 4217 currency code",
            "no es un código de moneda ISO 4217",
        ),
        (
            "public_messaging",
            vec![("public_messaging.reach[0].people_reached", "-3")],
            "f-public-messaging-reach-0-people-reached",
            "is negative",
            "es negativo",
        ),
        (
            "immigration_initiatives",
            vec![("immigration_initiatives.figures[0].arrivals", "-10")],
            "f-immigration-initiatives-figures-0-arrivals",
            "is negative",
            "es negativo",
        ),
    ];
    for (instrument, bad, id, en, es) in cases {
        for (lang, says) in [("en", en), ("es", es)] {
            let mut form = with(fields(instrument, s.org, "<script>alert(1)</script>"), &bad);
            form.extend(pairs(&[("csrf", &csrf), ("form_token", "t-bad")]));
            let r = post(&s, &format!("/interventions/new?instrument={instrument}&lang={lang}"), &cookie, &form);
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.body);
            let shown = next_to(&r.body, id);
            assert!(shown.contains(says), "{bad:?} {lang}: next to {id}: {shown:?}\n{}", r.body);
            // The input is kept, escaped; no script reaches the page.
            let (k, v) = bad[0];
            let kept = v.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            assert!(r.body.contains(&format!("name=\"{k}\" value=\"{kept}\"")), "{k} kept: {}", r.body);
            assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !r.body.contains("<script>"));
            assert_eq!(count(&s), 0, "{bad:?}: nothing saved");
        }
    }
}

#[test]
fn a_form_posted_twice_makes_one_record_and_an_unknown_iati_link_is_kept_with_a_warning() {
    let s = site();
    let (cookie, csrf) = session(&s.store, "editor@example.org", 3);
    let page = get(&s.rt, &s.app, "/interventions/new?instrument=foreign_assistance", &[("cookie", cookie.as_str())]);
    let token = hidden(&page.body, "form_token");
    let mut form = fields("foreign_assistance", s.org, "Returnee reception <b>centre</b>");
    form.extend(pairs(&[("csrf", &csrf), ("form_token", &token)]));
    let first = post(&s, "/interventions/new?instrument=foreign_assistance", &cookie, &form);
    let second = post(&s, "/interventions/new?instrument=foreign_assistance", &cookie, &form);
    assert_eq!((first.status, second.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{}", second.body);
    assert_eq!(location_id(&first), location_id(&second), "the second post lands on the first record");
    assert_eq!(count(&s), 1, "no duplicate");
    let detail = get(&s.rt, &s.app, &format!("/interventions/{}", location_id(&first)), &[("cookie", cookie.as_str())]);
    assert!(detail.body.contains("no imported activity has this identifier yet"), "a warning, kept: {}", detail.body);
    assert!(detail.body.contains("Returnee reception &lt;b&gt;centre&lt;/b&gt;"), "escaped: {}", detail.body);
    // Money on a foreign-assistance form: the field is not offered.
    assert!(!page.body.contains("money[0].amount"));
}

#[test]
fn add_rows_shows_more_rows_and_saves_nothing() {
    let s = site();
    let (cookie, csrf) = session(&s.store, "editor@example.org", 4);
    let mut form = fields("public_messaging", s.org, "Campaign");
    form.extend(pairs(&[("csrf", &csrf), ("form_token", "t-add"), ("add_rows", "public_messaging.reach")]));
    let r = post(&s, "/interventions/new?instrument=public_messaging", &cookie, &form);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("public_messaging.reach[5].period"), "1 filled + 2 + 3 more rows");
    assert!(!r.body.contains("public_messaging.reach[6].period"));
    assert!(r.body.contains("value=\"2000000\""), "the typed rows are kept");
    assert_eq!(hidden(&r.body, "form_token"), "t-add", "the same form, the same token");
    assert_eq!(count(&s), 0);
}

#[test]
fn a_stale_save_shows_what_changed_meanwhile_and_overwrites_nothing() {
    let s = site();
    let (editor, csrf_e) = session(&s.store, "editor@example.org", 5);
    let (coord, csrf_c) = session(&s.store, "coord@example.org", 6);
    let mut form = fields("diplomacy", s.org, "Asylum capacity");
    form.extend(pairs(&[("csrf", &csrf_e), ("form_token", "t-stale")]));
    let id = location_id(&post(&s, "/interventions/new?instrument=diplomacy", &editor, &form));
    let open = |cookie: &str| get(&s.rt, &s.app, &format!("/interventions/{id}/edit"), &[("cookie", cookie)]).body;
    let (mine, theirs) = (open(&editor), open(&coord));
    let save = |cookie: &str, csrf: &str, page: &str, title: &str| {
        let mut f = fields("diplomacy", s.org, title);
        f.extend(pairs(&[("csrf", csrf), ("version", &hidden(page, "version")), ("base", &hidden(page, "base"))]));
        post(&s, &format!("/interventions/{id}/edit"), cookie, &f)
    };
    assert_eq!(save(&coord, &csrf_c, &theirs, "Asylum capacity (coordinator)").status, StatusCode::SEE_OTHER);
    let r = save(&editor, &csrf_e, &mine, "Asylum capacity (editor)");
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Someone changed this intervention meanwhile"), "{}", r.body);
    let table = &r.body[r.body.find("class=\"error conflict\"").expect("the table")..];
    let row = &table[table.find("<code>title.en</code>").expect("the title changed")..];
    let row = &row[..row.find("</tr>").expect("row end")];
    assert!(
        row.contains("Asylum capacity</td>")
            && row.contains("Asylum capacity (coordinator)")
            && row.contains("Asylum capacity (editor)"),
        "when opened, now, yours: {row}"
    );
    assert!(r.body.contains("value=\"Asylum capacity (editor)\""), "the editor's text is kept");
    assert_eq!(hidden(&r.body, "version"), "2", "saving again starts from the current version");
    let rec = s.store.intervention(id, ReadScope::Everything).expect("read").expect("found");
    assert_eq!(rec.intervention.title.en.as_deref(), Some("Asylum capacity (coordinator)"), "nothing overwritten");
    // The same edit posted twice: the second finds its own change and is not a conflict.
    let again = get(&s.rt, &s.app, &format!("/interventions/{id}/edit"), &[("cookie", coord.as_str())]).body;
    assert_eq!(save(&coord, &csrf_c, &again, "Final").status, StatusCode::SEE_OTHER);
    assert_eq!(save(&coord, &csrf_c, &again, "Final").status, StatusCode::SEE_OTHER);
    // Another partner's editor may neither see the draft nor edit it.
    let (other, _) = session(&s.store, "other@example.org", 7);
    assert_eq!(
        get(&s.rt, &s.app, &format!("/interventions/{id}/edit"), &[("cookie", other.as_str())]).status,
        StatusCode::NOT_FOUND
    );
    let _ = s.other;
}

#[test]
fn the_api_edits_with_if_match_and_answers_409_with_the_current_version() {
    let s = site();
    let (cookie, csrf) = session(&s.store, "editor@example.org", 8);
    let mut form = fields("diplomacy", s.org, "Asylum capacity");
    form.extend(pairs(&[("csrf", &csrf), ("form_token", "t-api")]));
    let id = location_id(&post(&s, "/interventions/new?instrument=diplomacy", &cookie, &form));
    let path = format!("/api/v1/interventions/{id}");
    let r = get(&s.rt, &s.app, &path, &[("cookie", cookie.as_str())]);
    assert_eq!(r.headers.get("etag").and_then(|v| v.to_str().ok()), Some("\"1\""));
    let mut record: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let mut body = record["intervention"].take();
    body["title"]["en"] = "Asylum capacity, edited".into();
    let put = |headers: &[(&str, &str)], body: &str| {
        let mut req = Request::builder()
            .method("PUT")
            .uri(&path)
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        s.rt.block_on(async {
            let r =
                s.app.clone().oneshot(req.body(Body::from(body.to_owned())).expect("request")).await.expect("response");
            let status = r.status();
            let bytes = r.into_body().collect().await.expect("body").to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    let (st, b) = put(&[], &body.to_string());
    assert_eq!(st, StatusCode::PRECONDITION_REQUIRED, "{b}");
    let (st, b) = put(&[("if-match", "\"1\"")], &body.to_string());
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = put(&[("if-match", "\"1\"")], &body.to_string());
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    let problem: serde_json::Value = serde_json::from_str(&b).expect("problem+json");
    assert_eq!(problem["version"], 2);
    assert_eq!(problem["current"]["intervention"]["title"]["en"], "Asylum capacity, edited");
    body["end"] = "2020-01-01".into();
    let (st, b) = put(&[("if-match", "\"2\"")], &body.to_string());
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.contains("\"field\":\"end\""), "{b}");
}

#[test]
fn an_ask_not_for_publication_reaches_neither_the_public_nor_another_partner() {
    let s = site();
    let (editor, csrf) = session(&s.store, "editor@example.org", 9);
    let (coord, csrf_c) = session(&s.store, "coord@example.org", 10);
    let (other, _) = session(&s.store, "other@example.org", 11);
    let mut form = fields("diplomacy", s.org, "Asylum capacity");
    form.extend(pairs(&[("csrf", &csrf), ("form_token", "t-secret")]));
    let id = location_id(&post(&s, "/interventions/new?instrument=diplomacy", &editor, &form));
    for (who, csrf, to) in
        [(&editor, &csrf, "submitted"), (&coord, &csrf_c, "approved"), (&coord, &csrf_c, "published")]
    {
        let version =
            s.store.intervention(id, ReadScope::Everything).expect("read").expect("found").version.to_string();
        let r = post(
            &s,
            &format!("/interventions/{id}/workflow"),
            who,
            &pairs(&[("csrf", csrf), ("to", to), ("version", &version)]),
        );
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{to}: {}", r.body);
    }
    let ask = "Expand asylum capacity";
    for (who, sees) in [("", false), (other.as_str(), false), (editor.as_str(), true), (coord.as_str(), true)] {
        let h = [("cookie", who)];
        for uri in [format!("/interventions/{id}"), format!("/api/v1/interventions/{id}")] {
            let r = get(&s.rt, &s.app, &uri, if who.is_empty() { &[] } else { &h });
            assert_eq!(r.status, StatusCode::OK, "{uri}");
            assert_eq!(r.body.contains(ask), sees, "{uri} as {who:?}");
            assert!(r.body.contains("announced") != sees || sees, "an unmarked note is shown");
        }
        for uri in ["/interventions", "/api/v1/interventions"] {
            let r = get(&s.rt, &s.app, uri, if who.is_empty() { &[] } else { &h });
            assert!(!r.body.contains(ask), "lists never carry it: {uri}");
        }
    }
}

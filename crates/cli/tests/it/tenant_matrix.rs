//! The tenant-isolation matrix (issue 17): every route the web crate registers × every role
//! (administrator, coordinator, partner editor, viewer, anonymous) × records of the person's own
//! organisation and of another, in every workflow state (draft, submitted, approved, published).
//!
//! - The routes are read from the router's sources (every `.route(` call under
//!   `crates/web/src`, with the prefixes `lib.rs` nests them under) and must be exactly the
//!   entries of `auth::ROUTE_ACCESS` and exactly the cases of this file: a route added without a
//!   case here (or without a rule in the route table) fails [`every_route_has_a_rule_and_a_case`].
//! - Reads: the status each role gets, and no body (page, JSON, CSV, printable report) holds
//!   the title of a record the role may not see; the interventions list holds exactly the
//!   records the role may see (its count), with and without filters.
//! - Writes: every write of every role on every record; a refused write is a 401, 403 or 404 (or
//!   409 for a move the workflow has no step for) and the database is unchanged afterwards
//!   (every table's row count, every intervention, organisation, person and token, compared
//!   whole); an allowed one changed what it should. Each write starts from the same database.
//!
//! The expectations are written out here as the issue states the rules (who sees and edits
//! what), not computed with the policy under test.

use crate::support::*;
use crate::web::runtime;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use senda_core::Strategy;
use senda_core::accounts::{Caller, Email, NewOrganisation, ReadScope, Role, secret_digest};
use senda_core::intervention::{Context, Workflow, parse_value};
use senda_store::accounts::{AccountStore, Actor, AuditFilter};
use senda_store::interventions::{InterventionFilter, InterventionStore, Moved};
use senda_store::{SqliteStore, Store};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// The roles of the matrix; everyone signed in belongs to organisation A ("own").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Administrator,
    Coordinator,
    PartnerEditor,
    Viewer,
    Anonymous,
}

const EVERYONE: [Who; 5] = [Who::Administrator, Who::Coordinator, Who::PartnerEditor, Who::Viewer, Who::Anonymous];
const PEOPLE: [Who; 4] = [Who::Administrator, Who::Coordinator, Who::PartnerEditor, Who::Viewer];

impl Who {
    fn role(self) -> Option<Role> {
        match self {
            Who::Administrator => Some(Role::Administrator),
            Who::Coordinator => Some(Role::Coordinator),
            Who::PartnerEditor => Some(Role::PartnerEditor),
            Who::Viewer => Some(Role::Viewer),
            Who::Anonymous => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Who::Administrator => "admin",
            Who::Coordinator => "coord",
            Who::PartnerEditor => "editor",
            Who::Viewer => "viewer",
            Who::Anonymous => "anonymous",
        }
    }

    /// The read rule: viewers, coordinators and administrators read everything; a
    /// partner editor what is published and its own organisation's; the public what is published.
    fn sees(self, r: &Rec) -> bool {
        match self {
            Who::Administrator | Who::Coordinator | Who::Viewer => true,
            Who::PartnerEditor => r.own || r.state == Workflow::Published,
            Who::Anonymous => r.state == Workflow::Published,
        }
    }
}

const STATES: [Workflow; 4] = [Workflow::Draft, Workflow::Submitted, Workflow::Approved, Workflow::Published];

/// One intervention of the matrix.
#[derive(Debug, Clone)]
struct Rec {
    id: i64,
    own: bool,
    state: Workflow,
    /// Its title (both languages): a text no page has otherwise.
    marker: String,
}

/// A signed-in person of the matrix.
#[derive(Debug, Clone)]
struct Person {
    id: i64,
    cookie: String,
    csrf: String,
    token: String,
    /// One of their own API tokens (what `/account/tokens/{id}/revoke` may revoke).
    token_id: i64,
}

/// The database every request starts from, and what is in it.
struct World {
    _dir: tempfile::TempDir,
    template: PathBuf,
    org_a: i64,
    org_b: i64,
    recs: Vec<Rec>,
    people: BTreeMap<Who, Person>,
    /// A partner editor of organisation B, and one of their tokens.
    editor_b: i64,
    editor_b_token: i64,
    activity: String,
}

const NOW: i64 = 1_900_000_000;

fn intervention(org: i64, marker: &str) -> senda_core::intervention::Intervention {
    let v = json!({
        "organisation": org,
        "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "riesgos de la migración irregular"}],
        "instrument": "public_messaging",
        "title": {"en": marker, "es": marker},
        "implementing_partners": [format!("{marker}-partner")],
        "countries": ["HN"],
        "departments": ["HN-CR"],
        "start": "2024-01-01",
        "status": "active",
        "money": [{"kind": "budget", "amount": "250000.50", "currency": "USD", "date": "2024-01-01"}],
        "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["jóvenes"],
            "reach": [{"period": "2024-03", "country": "HN", "department": "HN-CR", "people_reached": 120000}]}
    });
    let s = Strategy::builtin(STRATEGY).expect("strategy");
    let ctx = Context { strategies: vec![&s], admin1: senda_stats::countries::canonical_admin1 };
    parse_value(&v, &ctx).unwrap_or_else(|e| panic!("valid record: {e}"))
}

fn world() -> World {
    let (dir, mut store) = db();
    let activity = "XM-TEST-MATRIX-1".to_owned();
    let file = write(
        dir.path(),
        "matrix.xml",
        activity_xml(
            &activity,
            &format!(
                "  <title><narrative>Published activity of the matrix</narrative></title>\n  <participating-org ref=\"HN-GOV-1\" role=\"4\"><narrative>Ministerio</narrative></participating-org>\n  <recipient-country code=\"HN\" percentage=\"100\"/>\n{}",
                transaction("3", "2024-02-01", "1000")
            ),
        ),
    );
    import(&mut store, &[file]);
    let cli = Actor::cli();
    let org = |n: &str| {
        let o = NewOrganisation::parse(n, None, None, None, Some("HN"), &[]).expect("organisation");
        store.create_organisation(&cli, &o, NOW).expect("create")
    };
    let (org_a, org_b) = (org("Own organisation"), org("Other organisation"));
    let mut people = BTreeMap::new();
    for who in PEOPLE {
        let role = who.role().expect("a person");
        let email = Email::parse(&format!("{}@example.org", who.name())).expect("email");
        let id = store.create_person(&cli, &email, Some(org_a), role, "$argon2id$unused", NOW).expect("person");
        let c = Caller { person_id: id, email: email.to_string(), organisation_id: Some(org_a), role, token_id: None };
        let (sid, csrf) = (format!("matrix-session-{}", who.name()), format!("matrix-csrf-{}", who.name()));
        store.create_session(&c, &secret_digest(&sid), &csrf, now()).expect("session");
        let token = format!("senda_matrix_{}_0123456789abcdefghijklmnop", who.name());
        store.create_token(&c, "matrix", role, &secret_digest(&token), 4_000_000_000, NOW).expect("token");
        let token_id = store.tokens(id).expect("tokens")[0].id;
        people.insert(who, Person { id, cookie: format!("senda_session={sid}"), csrf, token, token_id });
    }
    let email = Email::parse("editor-b@example.org").expect("email");
    let editor_b =
        store.create_person(&cli, &email, Some(org_b), Role::PartnerEditor, "$argon2id$unused", NOW).expect("b");
    let c = Caller {
        person_id: editor_b,
        email: email.to_string(),
        organisation_id: Some(org_b),
        role: Role::PartnerEditor,
        token_id: None,
    };
    store
        .create_token(
            &c,
            "b",
            Role::PartnerEditor,
            &secret_digest("senda_matrix_b_0123456789abcdefghij"),
            4_000_000_000,
            NOW,
        )
        .expect("token");
    let editor_b_token = store.tokens(editor_b).expect("tokens")[0].id;
    let mut recs = Vec::new();
    for (own, org) in [(true, org_a), (false, org_b)] {
        for (n, state) in STATES.into_iter().enumerate() {
            let marker = format!("MATRIX-{}-{}", if own { "OWN" } else { "OTHER" }, state.as_str().to_uppercase());
            let id = store.create_intervention(&cli, &intervention(org, &marker), NOW).expect("create").id;
            for w in STATES.windows(2).take(n) {
                let moved = store.move_intervention(&cli, id, w[0], w[1], NOW).expect("move");
                assert!(matches!(moved, Moved::Done(_)), "{moved:?}");
            }
            recs.push(Rec { id, own, state, marker });
        }
    }
    drop(store);
    let template = dir.path().join("senda.db");
    World { _dir: dir, template, org_a, org_b, recs, people, editor_b, editor_b_token, activity }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A server over a fresh copy of the world's database.
struct Instance {
    dir: tempfile::TempDir,
    app: axum::Router,
}

impl Instance {
    fn new(w: &World) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{}{suffix}", w.template.display()));
            if from.exists() {
                std::fs::copy(&from, dir.path().join(format!("senda.db{suffix}"))).expect("copy the database");
            }
        }
        let path = dir.path().join("senda.db");
        let app = senda_web::router(Arc::new(senda_web::AppState::new(path.display().to_string()).expect("state")));
        Instance { dir, app }
    }

    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("senda.db")).expect("open the database")
    }

    /// Everything a write could change, compared whole: every table's row count, every
    /// intervention (state, version, record), organisation, person and API token.
    fn snapshot(&self) -> String {
        let s = self.store();
        let counts = s.table_counts().expect("counts");
        let all = InterventionFilter { limit: 1000, ..Default::default() };
        let recs = s.interventions(&all, ReadScope::Everything).expect("interventions");
        let people = s.people().expect("people");
        // A token's last use moves with every request it makes; revocation and expiry are what
        // a write could change.
        let tokens: Vec<Vec<_>> = people
            .iter()
            .map(|p| {
                s.tokens(p.id)
                    .expect("tokens")
                    .into_iter()
                    .map(|t| (t.id, t.name, t.role, t.expires_unix, t.revoked_at))
                    .collect()
            })
            .collect();
        let audit = s.audit_events(&AuditFilter { limit: 100_000, ..Default::default() }).expect("audit").len();
        format!("{counts:?}\n{recs:?}\n{:?}\n{people:?}\n{tokens:?}\n{audit}", s.organisations().expect("orgs"))
    }
}

/// How a request is authenticated.
#[derive(Clone, Copy)]
enum Via {
    Session,
    Token,
}

struct Resp {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

fn send(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: Option<(&Person, Via)>,
    body: Option<(&str, String)>,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    match auth {
        Some((p, Via::Session)) => {
            req = req.header(header::COOKIE, &p.cookie);
            if method != "GET" {
                req = req.header("x-csrf-token", &p.csrf);
            }
        }
        Some((p, Via::Token)) => req = req.header(header::AUTHORIZATION, format!("Bearer {}", p.token)),
        None => {}
    }
    let body = match body {
        Some((content_type, b)) => {
            req = req.header(header::CONTENT_TYPE, content_type);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let req = req.body(body).expect("request");
    rt.block_on(async {
        let r = app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let location = r.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    })
}

// ---------------------------------------------------------------------------------------------
// The routes of the router

/// Every `(method, route)` the web crate registers: each `.route("...", ...)` call in the files
/// under `crates/web/src` (the whole call, over several lines if need be), prefixed as
/// `lib.rs` nests the module's routes (`.nest("/api/v1", api::routes()...)`).
fn routed() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("web lib.rs");
    let mut prefixes: BTreeMap<String, String> = BTreeMap::new();
    for (at, _) in lib.match_indices(".nest(") {
        let rest = lib[at + ".nest(".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('"') else { continue };
        let Some((prefix, tail)) = rest.split_once('"') else { continue };
        let module = tail.trim_start_matches([',', ' ', '\n']).split("::").next().unwrap_or_default();
        prefixes.insert(module.trim().to_owned(), prefix.to_owned());
    }
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("list web sources") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = BTreeSet::new();
    for f in files {
        let module = f
            .strip_prefix(&src)
            .ok()
            .and_then(|p| p.components().next())
            .map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned());
        let prefix = module.and_then(|m| prefixes.get(&m).cloned()).unwrap_or_default();
        let text = std::fs::read_to_string(&f).expect("web source");
        for (at, _) in text.match_indices(".route(") {
            let open = at + ".route".len();
            let rest = text[open + 1..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else { continue };
            let Some((path, _)) = rest.split_once('"') else { continue };
            // The call's text: up to the parenthesis closing `.route(`.
            let mut depth = 0usize;
            let mut end = open;
            for (i, ch) in text[open..].char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &text[open..end];
            let mut methods = Vec::new();
            for (needle, method) in
                [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("patch(", "PATCH"), ("delete(", "DELETE")]
            {
                let found = call.match_indices(needle).any(|(i, _)| {
                    let b = call.as_bytes()[i - 1];
                    !b.is_ascii_alphanumeric() && b != b'_'
                });
                if found {
                    methods.push(method);
                }
            }
            assert!(!methods.is_empty(), "{}: a route whose methods this test cannot read: {call}", f.display());
            for m in methods {
                out.insert((m.to_owned(), format!("{prefix}{path}")));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The cases

/// What a route is, for the matrix.
enum Case {
    /// Reads of published data: everyone gets the status; no body holds an unseen record.
    Public(Vec<(String, StatusCode)>),
    /// Reads some roles may make (200); the others: a signed-in person 403, the public the
    /// login page (pages) or 401 (API). No body holds an unseen record.
    Restricted(Vec<String>, &'static [Who]),
    /// The interventions list: exactly the records the role sees, under each filter.
    InterventionList,
    /// One intervention: 200 if the role sees it, else 404 (as if it did not exist).
    InterventionRead,
    /// `POST /api/v1/interventions` for the own and the other organisation.
    InterventionCreate,
    /// `POST /api/v1/interventions/{id}/workflow`, every record to every state.
    InterventionMove,
    /// An administrator's form write: `(uri, form body, subject: own organisation's or not)`.
    AdminWrite(Vec<(String, String)>),
    /// `POST /account/tokens`.
    TokenCreate,
    /// `POST /account/tokens/{id}/revoke`: one's own token, and another organisation's person's.
    TokenRevoke,
    /// `POST /logout`.
    Logout,
    /// `POST /login` (a wrong password).
    Login,
    /// `POST /api/v1/results`.
    Results,
    /// The interventions list page: everyone, every record the role sees and no other.
    InterventionListPage,
    /// A page of one intervention (`""`, `"/edit"`): hidden records are 404s.
    InterventionRecordPage(&'static str),
    /// `GET /interventions/new`: a form for those who may enter records.
    InterventionNewPage,
    /// `POST /interventions/new` for the other organisation.
    InterventionCreateForm,
    /// A write of one record through a page or `PUT` (`method`, path after the id).
    InterventionRecordWrite(&'static str, &'static str),
    /// A JSON write of another organisation's record (`uri`, body): refused (400 to 404) and
    /// nothing changed for the roles listed; the others may write.
    OtherWrite(String, String, &'static [Who]),
    /// A form write (`uri`, form body without the CSRF field): refused (303 to the login page,
    /// 400, 403 or 404) and nothing changed for the roles listed; the others may write.
    FormWrite(String, String, &'static [Who]),
}

fn cases(w: &World) -> BTreeMap<(&'static str, &'static str), Case> {
    let ok = StatusCode::OK;
    let p = |uri: &str| (uri.to_owned(), ok);
    let a = &w.activity;
    let mut c = BTreeMap::new();
    for (route, uri) in [
        ("/", "/".to_owned()),
        ("/loe/{id}", "/loe/LOE7".to_owned()),
        ("/country/{code}", "/country/HN".to_owned()),
        ("/activities", "/activities".to_owned()),
        ("/activities.csv", "/activities.csv".to_owned()),
        ("/activity/{*id}", format!("/activity/{a}")),
        ("/review", "/review".to_owned()),
        ("/organisation", "/organisation?name=Test%20Agency".to_owned()),
        ("/imports", "/imports".to_owned()),
        ("/imports/{id}", "/imports/1".to_owned()),
        ("/report", "/report".to_owned()),
        ("/coverage", "/coverage".to_owned()),
        ("/static/senda.css", "/static/senda.css".to_owned()),
        ("/favicon.ico", "/favicon.ico".to_owned()),
        ("/static/favicon.svg", "/static/favicon.svg".to_owned()),
        ("/login", "/login".to_owned()),
        ("/api/v1/openapi.json", "/api/v1/openapi.json".to_owned()),
        ("/api/v1/strategies", "/api/v1/strategies".to_owned()),
        ("/api/v1/strategies/{id}", "/api/v1/strategies/cmms-2021".to_owned()),
        ("/api/v1/activities", "/api/v1/activities".to_owned()),
        ("/api/v1/activities/{*id}", format!("/api/v1/activities/{a}")),
        ("/api/v1/report", "/api/v1/report?by=country".to_owned()),
        ("/api/v1/organisations", "/api/v1/organisations".to_owned()),
        ("/api/v1/imports", "/api/v1/imports".to_owned()),
        ("/api/v1/imports/{id}", "/api/v1/imports/1".to_owned()),
        ("/api/v1/indicators", "/api/v1/indicators".to_owned()),
        ("/api/v1/statistics", "/api/v1/statistics".to_owned()),
    ] {
        let mut uris = vec![p(&uri)];
        if !uri.starts_with("/api/") && !uri.starts_with("/static/") && !uri.contains('.') {
            uris.push(p(&format!("{uri}{}lang=es", if uri.contains('?') { "&" } else { "?" })));
        }
        c.insert(("GET", route), Case::Public(uris));
    }
    // A series nobody imported: the same 404 (naming it) for everyone.
    c.insert(
        ("GET", "/api/v1/statistics/{series}"),
        Case::Public(vec![("/api/v1/statistics/matrix.none".into(), StatusCode::NOT_FOUND)]),
    );
    c.insert(("GET", "/account"), Case::Restricted(vec!["/account".into(), "/account?lang=es".into()], &PEOPLE));
    let admin: &[Who] = &[Who::Administrator];
    c.insert(
        ("GET", "/admin/organisations"),
        Case::Restricted(vec!["/admin/organisations".into(), "/admin/organisations?lang=es".into()], admin),
    );
    c.insert(("GET", "/admin/people"), Case::Restricted(vec!["/admin/people".into()], admin));
    let audit: &[Who] = &[Who::Administrator, Who::Coordinator, Who::Viewer];
    c.insert(("GET", "/admin/audit"), Case::Restricted(vec!["/admin/audit".into()], audit));
    c.insert(("GET", "/admin/audit.csv"), Case::Restricted(vec!["/admin/audit.csv".into()], audit));
    c.insert(("GET", "/api/v1/interventions"), Case::InterventionList);
    c.insert(("GET", "/api/v1/interventions/{id}"), Case::InterventionRead);
    c.insert(("POST", "/api/v1/interventions"), Case::InterventionCreate);
    c.insert(("POST", "/api/v1/interventions/{id}/workflow"), Case::InterventionMove);
    let people = |action: &str, body: &str| {
        [w.people[&Who::PartnerEditor].id, w.editor_b]
            .iter()
            .map(|id| (format!("/admin/people/{id}/{action}"), body.to_owned()))
            .collect::<Vec<_>>()
    };
    c.insert(
        ("POST", "/admin/organisations"),
        Case::AdminWrite(vec![("/admin/organisations".into(), "name=Matrix+new&country=GT".into())]),
    );
    c.insert(
        ("POST", "/admin/organisations/adopt"),
        Case::AdminWrite(vec![("/admin/organisations/adopt".into(), "iati_ref=HN-GOV-1&category=".into())]),
    );
    c.insert(
        ("POST", "/admin/people"),
        Case::AdminWrite(vec![(
            "/admin/people".into(),
            format!(
                "email=new%40example.org&role=partner_editor&organisation={}&password=matrix+long+password",
                w.org_b
            ),
        )]),
    );
    c.insert(("POST", "/admin/people/{id}/disable"), Case::AdminWrite(people("disable", "")));
    c.insert(("POST", "/admin/people/{id}/enable"), Case::AdminWrite(people("enable", "")));
    c.insert(
        ("POST", "/admin/people/{id}/role"),
        Case::AdminWrite(people("role", &format!("role=viewer&organisation={}", w.org_b))),
    );
    c.insert(("POST", "/account/tokens"), Case::TokenCreate);
    c.insert(("POST", "/account/tokens/{id}/revoke"), Case::TokenRevoke);
    c.insert(("POST", "/logout"), Case::Logout);
    c.insert(("POST", "/login"), Case::Login);
    c.insert(("POST", "/api/v1/results"), Case::Results);
    c.insert(("GET", "/interventions"), Case::InterventionListPage);
    c.insert(("GET", "/interventions/{id}"), Case::InterventionRecordPage(""));
    c.insert(("GET", "/interventions/{id}/edit"), Case::InterventionRecordPage("/edit"));
    c.insert(("GET", "/interventions/new"), Case::InterventionNewPage);
    c.insert(("POST", "/interventions/new"), Case::InterventionCreateForm);
    c.insert(("POST", "/interventions/{id}/edit"), Case::InterventionRecordWrite("POST", "/edit"));
    c.insert(("POST", "/interventions/{id}/workflow"), Case::InterventionRecordWrite("POST", "/workflow"));
    c.insert(("PUT", "/api/v1/interventions/{id}"), Case::InterventionRecordWrite("PUT", ""));
    c.insert(("GET", "/review"), Case::Public(vec![p("/review"), p("/review?lang=es")]));
    c.insert(("GET", "/api/v1/contributions"), Case::Public(vec![p("/api/v1/contributions")]));
    let not_theirs: &[Who] = &[Who::Anonymous, Who::Viewer, Who::PartnerEditor];
    c.insert(
        ("POST", "/api/v1/contributions"),
        Case::OtherWrite("/api/v1/contributions".into(), format!("{{\"organisation\": {}}}", w.org_b), not_theirs),
    );
    c.insert(
        ("POST", "/api/v1/contributions/{id}/publish"),
        Case::OtherWrite("/api/v1/contributions/999999/publish".into(), "{}".into(), &EVERYONE),
    );
    // The reporting cycle (issue 18, item 5): the page for the signed-in (each sees only the
    // interventions it may report on or review), a report on the other organisation's
    // published campaign, a review of a report that does not exist, a lock.
    c.insert(("GET", "/reporting"), Case::Restricted(vec!["/reporting".into(), "/reporting?lang=es".into()], &PEOPLE));
    let theirs = w.recs.iter().find(|r| !r.own && r.state == Workflow::Published).map_or(0, |r| r.id);
    c.insert(
        ("POST", "/reporting/reports"),
        Case::FormWrite(
            "/reporting/reports".into(),
            format!("intervention={theirs}&indicator=LOE7-1&period=2024-Q1&department=HN-CR&value=5&step=submit"),
            not_theirs,
        ),
    );
    c.insert(
        ("POST", "/reporting/reports/{id}/review"),
        Case::FormWrite("/reporting/reports/999999/review".into(), "step=approve".into(), &EVERYONE),
    );
    c.insert(("GET", "/api/v1/reports"), Case::Public(vec![p("/api/v1/reports")]));
    c.insert(
        ("POST", "/api/v1/reports"),
        Case::OtherWrite(
            "/api/v1/reports".into(),
            format!(
                "{{\"intervention\": {theirs}, \"indicator\": \"LOE7-1\", \"reporting_period\": \"2024-Q1\", \"department\": \"HN-CR\", \"actual\": \"5\"}}"
            ),
            not_theirs,
        ),
    );
    c.insert(
        ("POST", "/api/v1/reports/{id}/review"),
        Case::OtherWrite("/api/v1/reports/999999/review".into(), "{\"step\": \"approve\"}".into(), &EVERYONE),
    );
    c.insert(
        ("POST", "/reporting/locks"),
        Case::FormWrite("/reporting/locks".into(), "period=2024-Q1&action=lock".into(), not_theirs),
    );
    c
}

/// The next workflow step of a state (the one a write may ask for).
fn next_step(w: Workflow) -> Workflow {
    match w {
        Workflow::Draft => Workflow::Submitted,
        Workflow::Submitted => Workflow::Approved,
        Workflow::Approved => Workflow::Published,
        Workflow::Published => Workflow::Approved,
    }
}

/// A record's version in the world: 1 at creation, one more per workflow step.
fn version_of(r: &Rec) -> usize {
    1 + STATES.iter().position(|s| *s == r.state).unwrap_or(0)
}

/// The refusal a role's write of `rec` must get (`None`: allowed), as the rules say:
/// the public signs in (the login page, or 401 in the API), a viewer writes nothing, a partner
/// editor does not see another organisation's unpublished records (404) and may not change
/// its published ones (403); its own it edits while a draft and submits, never approves.
fn record_write_refusal(who: Who, rec: &Rec, api: bool) -> Option<StatusCode> {
    // Editing is while a draft; the one step an editor takes is submitting a draft.
    let editor_may = rec.state == Workflow::Draft;
    match who {
        Who::Anonymous if api => Some(StatusCode::UNAUTHORIZED),
        Who::Anonymous => Some(StatusCode::SEE_OTHER),
        Who::Viewer => Some(StatusCode::FORBIDDEN),
        Who::PartnerEditor if !rec.own && rec.state != Workflow::Published => Some(StatusCode::NOT_FOUND),
        Who::PartnerEditor if !rec.own => Some(StatusCode::FORBIDDEN),
        Who::PartnerEditor if !editor_may => Some(StatusCode::FORBIDDEN),
        _ => None,
    }
}

#[test]
fn every_route_has_a_rule_and_a_case() {
    let w = world();
    let routes = routed();
    assert!(routes.len() >= 40, "the scan found the routes: {routes:?}");
    let rules: BTreeSet<(String, String)> =
        senda_web::auth::ROUTE_ACCESS.iter().map(|(m, r, _, _)| ((*m).to_owned(), (*r).to_owned())).collect();
    let cases: BTreeSet<(String, String)> = cases(&w).keys().map(|(m, r)| ((*m).to_owned(), (*r).to_owned())).collect();
    let missing_rule: Vec<_> = routes.difference(&rules).collect();
    assert!(missing_rule.is_empty(), "routed without a rule in auth::ROUTE_ACCESS: {missing_rule:?}");
    let stale_rule: Vec<_> = rules.difference(&routes).collect();
    assert!(stale_rule.is_empty(), "in auth::ROUTE_ACCESS but not routed: {stale_rule:?}");
    let missing_case: Vec<_> = routes.difference(&cases).collect();
    assert!(missing_case.is_empty(), "routed without a case in tenant_matrix.rs (add one): {missing_case:?}");
    let stale_case: Vec<_> = cases.difference(&routes).collect();
    assert!(stale_case.is_empty(), "a case in tenant_matrix.rs for a route that is not routed: {stale_case:?}");
}

/// No body shows a record the role may not see (its title or its partner's name).
fn hides(w: &World, who: Who, what: &str, r: &Resp) {
    for rec in w.recs.iter().filter(|rec| !who.sees(rec)) {
        assert!(
            !r.body.contains(&rec.marker),
            "{who:?} {what}: shows {} ({:?}), which it may not see",
            rec.marker,
            rec.state
        );
    }
}

/// How a role's requests are made: a session for pages; a session and a bearer token for the API.
fn vias<'a>(w: &'a World, who: Who, uri: &str) -> Vec<Option<(&'a Person, Via)>> {
    match person(w, who) {
        None => vec![None],
        Some(p) if uri.starts_with("/api/") => vec![Some((p, Via::Session)), Some((p, Via::Token))],
        Some(p) => vec![Some((p, Via::Session))],
    }
}

fn person(w: &World, who: Who) -> Option<&Person> {
    w.people.get(&who)
}

/// The status a role is refused with: the public 401 (or the login page for a page), a
/// signed-in person 403.
fn refused(who: Who, method: &str, uri: &str, r: &Resp) -> bool {
    match who {
        Who::Anonymous if method == "GET" && !uri.starts_with("/api/") => {
            r.status == StatusCode::SEE_OTHER && r.location.as_deref() == Some("/login")
        }
        Who::Anonymous => r.status == StatusCode::UNAUTHORIZED,
        _ => r.status == StatusCode::FORBIDDEN,
    }
}

#[test]
fn every_route_every_role_every_record() {
    let w = world();
    let rt = runtime();
    let mut inst = Instance::new(&w);
    let before = inst.snapshot();
    let mut requests = 0usize;
    let mut refused_writes = 0usize;
    let cases = cases(&w);
    let vias = |who: Who, uri: &str| vias(&w, who, uri);

    // Reads: the database is never changed by them (checked once at the end of the reads).
    for ((method, route), case) in &cases {
        let what = format!("{method} {route}");
        for who in EVERYONE {
            match case {
                Case::Public(uris) => {
                    for (uri, status) in uris {
                        for auth in vias(who, uri) {
                            let r = send(&rt, &inst.app, "GET", uri, auth, None);
                            requests += 1;
                            assert_eq!(r.status, *status, "{who:?} GET {uri}: {}", r.body);
                            hides(&w, who, uri, &r);
                        }
                    }
                }
                Case::Restricted(uris, allowed) => {
                    for uri in uris {
                        for auth in vias(who, uri) {
                            let r = send(&rt, &inst.app, "GET", uri, auth, None);
                            requests += 1;
                            if allowed.contains(&who) {
                                assert_eq!(r.status, StatusCode::OK, "{who:?} GET {uri}: {}", r.body);
                            } else {
                                assert!(refused(who, "GET", uri, &r), "{who:?} GET {uri}: {} {}", r.status, r.body);
                            }
                            hides(&w, who, uri, &r);
                        }
                    }
                }
                Case::InterventionList => {
                    #[allow(clippy::type_complexity)]
                    let filters: Vec<(String, Box<dyn Fn(&Rec) -> bool>)> = vec![
                        (String::new(), Box::new(|_: &Rec| true)),
                        ("?workflow=draft".into(), Box::new(|r: &Rec| r.state == Workflow::Draft)),
                        ("?workflow=published".into(), Box::new(|r: &Rec| r.state == Workflow::Published)),
                        (format!("?organisation={}", w.org_b), Box::new(|r: &Rec| !r.own)),
                        (format!("?organisation={}", w.org_a), Box::new(|r: &Rec| r.own)),
                        ("?country=HN&limit=1000".into(), Box::new(|_: &Rec| true)),
                    ];
                    for (q, keep) in &filters {
                        let uri = format!("/api/v1/interventions{q}");
                        for auth in vias(who, &uri) {
                            let r = send(&rt, &inst.app, "GET", &uri, auth, None);
                            requests += 1;
                            assert_eq!(r.status, StatusCode::OK, "{who:?} GET {uri}: {}", r.body);
                            let list: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
                            let mut got: Vec<i64> =
                                list.as_array().expect("a list").iter().filter_map(|x| x["id"].as_i64()).collect();
                            got.sort_unstable();
                            let want: Vec<i64> =
                                w.recs.iter().filter(|r| keep(r) && who.sees(r)).map(|r| r.id).collect();
                            assert_eq!(got, want, "{who:?} GET {uri}: the records (and their count)");
                            hides(&w, who, &uri, &r);
                        }
                    }
                }
                Case::InterventionRead => {
                    for rec in &w.recs {
                        let uri = format!("/api/v1/interventions/{}", rec.id);
                        for auth in vias(who, &uri) {
                            let r = send(&rt, &inst.app, "GET", &uri, auth, None);
                            requests += 1;
                            let want = if who.sees(rec) { StatusCode::OK } else { StatusCode::NOT_FOUND };
                            assert_eq!(
                                r.status, want,
                                "{who:?} GET {uri} ({:?}, own {}): {}",
                                rec.state, rec.own, r.body
                            );
                            hides(&w, who, &uri, &r);
                        }
                    }
                    // An id that does not exist answers as one that is hidden.
                    // (below)
                    let r = send(&rt, &inst.app, "GET", "/api/v1/interventions/999999", vias(who, "/api/")[0], None);
                    requests += 1;
                    assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}");
                }
                Case::InterventionListPage => {
                    for uri in ["/interventions", "/interventions?lang=es"] {
                        let r = send(&rt, &inst.app, "GET", uri, vias(who, uri)[0], None);
                        requests += 1;
                        assert_eq!(r.status, StatusCode::OK, "{who:?} GET {uri}: {}", r.body);
                        for rec in w.recs.iter().filter(|rec| who.sees(rec)) {
                            assert!(r.body.contains(&rec.marker), "{who:?} GET {uri}: {} is missing", rec.marker);
                        }
                        hides(&w, who, uri, &r);
                    }
                }
                Case::InterventionRecordPage(suffix) => {
                    for rec in &w.recs {
                        let uri = format!("/interventions/{}{suffix}", rec.id);
                        let r = send(&rt, &inst.app, "GET", &uri, vias(who, &uri)[0], None);
                        requests += 1;
                        let want = if !who.sees(rec) {
                            Some(StatusCode::NOT_FOUND)
                        } else if suffix.is_empty() {
                            Some(StatusCode::OK)
                        } else {
                            record_write_refusal(who, rec, false).or(Some(StatusCode::OK))
                        };
                        assert_eq!(
                            Some(r.status),
                            want,
                            "{who:?} GET {uri} ({:?}, own {}): {}",
                            rec.state,
                            rec.own,
                            r.body
                        );
                        hides(&w, who, &uri, &r);
                    }
                }
                Case::InterventionNewPage => {
                    let uri = "/interventions/new";
                    let r = send(&rt, &inst.app, "GET", uri, vias(who, uri)[0], None);
                    requests += 1;
                    // A form, or a redirect to the form of an instrument (never the login page
                    // for a signed-in person); a viewer may enter nothing.
                    match who {
                        Who::Anonymous => assert!(refused(who, "GET", uri, &r), "{}", r.status),
                        Who::Viewer => assert!(
                            r.status == StatusCode::FORBIDDEN
                                || r.status == StatusCode::SEE_OTHER && r.location.as_deref() != Some("/login"),
                            "{}",
                            r.status
                        ),
                        _ => assert!(
                            r.status == StatusCode::OK
                                || r.status == StatusCode::SEE_OTHER && r.location.as_deref() != Some("/login"),
                            "{who:?}: {} {:?} {}",
                            r.status,
                            r.location,
                            r.body
                        ),
                    }
                    hides(&w, who, uri, &r);
                }
                _ => {}
            }
        }
    }
    assert_eq!(inst.snapshot(), before, "reads changed the database");

    // Writes: each from the same database; a refused one changes nothing.
    let mut check = |inst: &mut Instance, who: Who, what: &str, r: &Resp, allowed: bool, refusals: &[StatusCode]| {
        requests += 1;
        if allowed {
            assert!(r.status.is_success() || r.status.is_redirection(), "{who:?} {what}: {} {}", r.status, r.body);
            *inst = Instance::new(&w);
        } else {
            refused_writes += 1;
            assert!(
                refusals.contains(&r.status),
                "{who:?} {what}: {} (wanted one of {refusals:?}) {}",
                r.status,
                r.body
            );
            hides(&w, who, what, r);
            assert_eq!(inst.snapshot(), before, "{who:?} {what}: refused, yet the database changed");
        }
    };
    const DENIED: &[StatusCode] = &[StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
    for ((method, route), case) in &cases {
        let what = format!("{method} {route}");
        for who in EVERYONE {
            let auth = person(&w, who).map(|p| (p, Via::Session));
            let form = |body: &str| {
                let csrf = auth.map(|(p, _)| p.csrf.clone()).unwrap_or_default();
                Some(("application/x-www-form-urlencoded", format!("{body}&csrf={csrf}")))
            };
            match case {
                Case::InterventionCreate => {
                    for (own, org) in [(true, w.org_a), (false, w.org_b)] {
                        let body = serde_json::to_string(&json!({
                            "organisation": org,
                            "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "matrix"}],
                            "instrument": "diplomacy",
                            "title": {"en": "A new record of the matrix"},
                            "countries": ["GT"],
                            "start": "2024-01-01",
                            "status": "active",
                            "diplomacy": {"counterpart": "Cancillería", "counterpart_kind": "government", "ask": "x",
                                "history": [{"date": "2024-01-10", "status": "raised"}]}
                        }))
                        .expect("json");
                        let r = send(&rt, &inst.app, "POST", route, auth, Some(("application/json", body)));
                        let allowed = match who {
                            Who::Administrator | Who::Coordinator => true,
                            Who::PartnerEditor => own,
                            _ => false,
                        };
                        if allowed {
                            assert_eq!(r.status, StatusCode::CREATED, "{who:?} {what} own {own}: {}", r.body);
                            let n = inst
                                .store()
                                .interventions(
                                    &InterventionFilter {
                                        organisation_id: Some(org),
                                        limit: 100,
                                        ..Default::default()
                                    },
                                    ReadScope::Everything,
                                )
                                .expect("read")
                                .len();
                            assert_eq!(n, 5, "{who:?} {what}: one more record of organisation {org}");
                        }
                        check(&mut inst, who, &format!("{what} own {own}"), &r, allowed, DENIED);
                    }
                }
                Case::InterventionMove => {
                    for rec in &w.recs {
                        for to in STATES {
                            let uri = format!("/api/v1/interventions/{}/workflow", rec.id);
                            let body = format!("{{\"workflow\": \"{}\"}}", to.as_str());
                            let r = send(&rt, &inst.app, "POST", &uri, auth, Some(("application/json", body)));
                            let from = rec.state;
                            let write = matches!(
                                (from, to),
                                (Workflow::Draft, Workflow::Submitted) | (Workflow::Submitted, Workflow::Draft)
                            );
                            let approve = matches!(
                                (from, to),
                                (Workflow::Submitted, Workflow::Approved)
                                    | (Workflow::Approved, Workflow::Published)
                                    | (Workflow::Published, Workflow::Approved)
                                    | (Workflow::Approved, Workflow::Draft)
                            );
                            let want = match who {
                                Who::Anonymous => StatusCode::UNAUTHORIZED,
                                Who::Viewer => StatusCode::FORBIDDEN,
                                Who::Administrator | Who::Coordinator if write || approve => StatusCode::OK,
                                Who::Administrator | Who::Coordinator => StatusCode::CONFLICT,
                                Who::PartnerEditor if rec.own && write => StatusCode::OK,
                                Who::PartnerEditor if rec.own && approve => StatusCode::FORBIDDEN,
                                Who::PartnerEditor if rec.own => StatusCode::CONFLICT,
                                // Another organisation's record: hidden unless published.
                                Who::PartnerEditor if from != Workflow::Published => StatusCode::NOT_FOUND,
                                Who::PartnerEditor if write || approve => StatusCode::FORBIDDEN,
                                // Published, and no such step: the workflow says so (nothing hidden).
                                Who::PartnerEditor => StatusCode::CONFLICT,
                            };
                            let what = format!("POST {uri} {from:?} -> {to:?} (own {})", rec.own);
                            assert_eq!(r.status, want, "{who:?} {what}: {}", r.body);
                            if want == StatusCode::OK {
                                let now = inst.store().intervention(rec.id, ReadScope::Everything).expect("read");
                                assert_eq!(now.map(|n| n.workflow), Some(to), "{who:?} {what}: moved");
                            }
                            let refusals = [
                                StatusCode::UNAUTHORIZED,
                                StatusCode::FORBIDDEN,
                                StatusCode::NOT_FOUND,
                                StatusCode::CONFLICT,
                            ];
                            check(&mut inst, who, &what, &r, want == StatusCode::OK, &refusals);
                        }
                    }
                }
                Case::AdminWrite(targets) => {
                    for (uri, body) in targets {
                        let r = send(&rt, &inst.app, "POST", uri, auth, form(body));
                        let allowed = who == Who::Administrator;
                        if allowed {
                            assert_eq!(r.status, StatusCode::SEE_OTHER, "{who:?} POST {uri}: {}", r.body);
                            assert_ne!(inst.snapshot(), before, "{who:?} POST {uri}: allowed, and wrote");
                        }
                        check(&mut inst, who, &format!("POST {uri}"), &r, allowed, DENIED);
                    }
                }
                Case::TokenCreate => {
                    let r = send(&rt, &inst.app, "POST", route, auth, form("name=matrix&role=viewer&days=30"));
                    let allowed = who != Who::Anonymous;
                    if allowed {
                        assert_eq!(r.status, StatusCode::OK, "{who:?} {what}: {}", r.body);
                        assert!(r.body.contains("senda_"), "{who:?} {what}: the secret is shown");
                    }
                    check(&mut inst, who, &what, &r, allowed, DENIED);
                }
                Case::TokenRevoke => {
                    let own = person(&w, who).map_or(w.editor_b_token, |p| p.token_id);
                    for (mine, id) in [(true, own), (false, w.editor_b_token)] {
                        let uri = format!("/account/tokens/{id}/revoke");
                        let r = send(&rt, &inst.app, "POST", &uri, auth, form(""));
                        let allowed = mine && who != Who::Anonymous;
                        if allowed {
                            assert_eq!(r.status, StatusCode::SEE_OTHER, "{who:?} POST {uri}: {}", r.body);
                        } else if who != Who::Anonymous {
                            assert_eq!(
                                r.status,
                                StatusCode::NOT_FOUND,
                                "{who:?} POST {uri}: another's token is not found"
                            );
                        }
                        check(&mut inst, who, &format!("POST {uri} (own {mine})"), &r, allowed, DENIED);
                    }
                }
                Case::Logout => {
                    let r = send(&rt, &inst.app, "POST", route, auth, form(""));
                    let allowed = who != Who::Anonymous;
                    if allowed {
                        assert_eq!(r.status, StatusCode::SEE_OTHER, "{who:?} {what}: {}", r.body);
                        let after = send(&rt, &inst.app, "GET", "/account", auth, None);
                        assert_eq!(after.location.as_deref(), Some("/login"), "{who:?}: the session ended");
                    }
                    check(&mut inst, who, &what, &r, allowed, DENIED);
                }
                Case::Login => {
                    let mut req = Request::builder().method("POST").uri("/login");
                    let cookie = match auth {
                        Some((p, _)) => format!("{}; senda_login_csrf=matrixlogin", p.cookie),
                        None => "senda_login_csrf=matrixlogin".into(),
                    };
                    req = req
                        .header(header::COOKIE, cookie)
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                    let email = format!("{}%40example.org", who.name());
                    let req = req
                        .body(Body::from(format!("email={email}&password=not+the+password+at+all&csrf=matrixlogin")))
                        .expect("request");
                    let (status, body) = rt.block_on(async {
                        let r = inst.app.clone().oneshot(req).await.expect("response");
                        let s = r.status();
                        (
                            s,
                            String::from_utf8_lossy(&r.into_body().collect().await.expect("body").to_bytes())
                                .into_owned(),
                        )
                    });
                    let r = Resp { status, location: None, body };
                    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{who:?} {what}: a wrong password");
                    check(&mut inst, who, &what, &r, false, DENIED);
                }
                Case::Results => {
                    let r = send(&rt, &inst.app, "POST", route, auth, Some(("application/json", "{}".into())));
                    match who {
                        // Past the policy: the body is what is wrong.
                        Who::Administrator | Who::Coordinator => {
                            assert!(
                                r.status.is_client_error() && !DENIED.contains(&r.status),
                                "{who:?} {what}: {} {}",
                                r.status,
                                r.body
                            )
                        }
                        _ => assert!(DENIED.contains(&r.status), "{who:?} {what}: {} {}", r.status, r.body),
                    }
                    check(&mut inst, who, &what, &r, false, &[r.status]);
                }
                Case::OtherWrite(uri, body, refused_to) => {
                    let r = send(&rt, &inst.app, "POST", uri, auth, Some(("application/json", body.clone())));
                    if refused_to.contains(&who) {
                        let ok = [
                            StatusCode::BAD_REQUEST,
                            StatusCode::UNAUTHORIZED,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND,
                        ];
                        check(&mut inst, who, &format!("POST {uri}"), &r, false, &ok);
                    } else {
                        assert!(!r.status.is_server_error(), "{who:?} POST {uri}: {}", r.body);
                        if inst.snapshot() != before {
                            inst = Instance::new(&w);
                        }
                    }
                }
                Case::FormWrite(uri, body, refused_to) => {
                    let r = send(&rt, &inst.app, "POST", uri, auth, form(body));
                    if refused_to.contains(&who) {
                        let ok = [
                            StatusCode::SEE_OTHER,
                            StatusCode::BAD_REQUEST,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND,
                        ];
                        check(&mut inst, who, &format!("POST {uri}"), &r, false, &ok);
                    } else {
                        assert!(!r.status.is_server_error(), "{who:?} POST {uri}: {}", r.body);
                        if inst.snapshot() != before {
                            inst = Instance::new(&w);
                        }
                    }
                }
                Case::InterventionCreateForm => {
                    let body = format!("organisation={}&instrument=diplomacy&title_en=Intrusa", w.org_b);
                    let r = send(&rt, &inst.app, "POST", route, auth, form(&body));
                    match who {
                        Who::Anonymous | Who::Viewer | Who::PartnerEditor => {
                            let ok = [StatusCode::SEE_OTHER, StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN];
                            check(&mut inst, who, &format!("{what} for another organisation"), &r, false, &ok);
                        }
                        _ => {
                            if inst.snapshot() != before {
                                inst = Instance::new(&w);
                            }
                        }
                    }
                }
                Case::InterventionRecordWrite(m, suffix) => {
                    let api = route.starts_with("/api/");
                    for rec in &w.recs {
                        let uri = if api {
                            format!("/api/v1/interventions/{}", rec.id)
                        } else {
                            format!("/interventions/{}{suffix}", rec.id)
                        };
                        let version = version_of(rec);
                        let r = if api {
                            let mut req = Request::builder()
                                .method(*m)
                                .uri(&uri)
                                .header(header::CONTENT_TYPE, "application/json")
                                .header(header::IF_MATCH, format!("\"{version}\""));
                            if let Some((p, _)) = auth {
                                req = req.header(header::COOKIE, &p.cookie).header("x-csrf-token", &p.csrf);
                            }
                            let req = req.body(Body::from("{}")).expect("request");
                            let (status, body) = rt.block_on(async {
                                let r = inst.app.clone().oneshot(req).await.expect("response");
                                let s = r.status();
                                (
                                    s,
                                    String::from_utf8_lossy(&r.into_body().collect().await.expect("body").to_bytes())
                                        .into_owned(),
                                )
                            });
                            Resp { status, location: None, body }
                        } else {
                            let body = format!("to={}&version={version}", next_step(rec.state).as_str());
                            send(&rt, &inst.app, m, &uri, auth, form(&body))
                        };
                        let what = format!("{m} {uri} ({:?}, own {})", rec.state, rec.own);
                        match record_write_refusal(who, rec, api) {
                            Some(want) => {
                                assert_eq!(r.status, want, "{who:?} {what}: {}", r.body);
                                let ok = [
                                    StatusCode::SEE_OTHER,
                                    StatusCode::UNAUTHORIZED,
                                    StatusCode::FORBIDDEN,
                                    StatusCode::NOT_FOUND,
                                ];
                                check(&mut inst, who, &what, &r, false, &ok);
                            }
                            None => {
                                assert!(!r.status.is_server_error(), "{who:?} {what}: {}", r.body);
                                if inst.snapshot() != before {
                                    inst = Instance::new(&w);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let routes = cases.len();
    eprintln!(
        "tenant matrix: {routes} routes × {} roles × {} records ({} organisations × {} workflow states): {requests} requests, {refused_writes} refused writes each checked against the database",
        EVERYONE.len(),
        w.recs.len(),
        2,
        STATES.len()
    );
    assert!(requests > 700, "the matrix ran: {requests} requests");
}

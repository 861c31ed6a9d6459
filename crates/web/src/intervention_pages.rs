//! Web pages of interventions entered in Senda (issue 18, items 3, 7, 8), in English and
//! Spanish (`iv-*` keys of the catalogues):
//!
//! - `GET /interventions`: the list the caller may see, filtered by instrument, workflow
//!   state, organisation and country;
//! - `GET /interventions/{id}`: one record, with the workflow buttons the policy allows;
//! - `GET|POST /interventions/new?instrument=...`: the form of an instrument; saved as a draft;
//! - `GET|POST /interventions/{id}/edit`: the same form, saved only from the version it was
//!   opened at; a stale save shows the conflict page (what changed meanwhile);
//! - `POST /interventions/{id}/workflow`: submit, return, approve, publish, unpublish.
//!
//! Who may do what is the policy's (`may_edit_some`, `may_edit`, `may_move`, `Sight`, all
//! `decide`); no role is checked here. Every form carries the session's CSRF token (checked by
//! `auth::identify`); a new record's form carries a one-time token kept with the record, so a
//! form posted twice makes one record. Every text reaches HTML through maud, which escapes it.

use crate::AppState;
use crate::auth::{Identity, page, spanish};
use crate::error::{ApiError, WebError};
use crate::i18n::Lang as UiLang;
use crate::intervention_form::{self as form, Posted, Problems};
use view::{FormTarget, conflict_table, form_page};

mod view;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{Markup, html};
use senda_core::accounts::{Decision, Principal, ReadScope};
use senda_core::intervention::{
    Details, Instrument, Lang, Restricted, Sight, Workflow, may_edit, may_edit_some, may_move,
};
use senda_store::accounts::Actor;
use senda_store::interventions::{InterventionFilter, InterventionRecord, Moved, Updated};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// The pages' routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/interventions", get(list))
        .route("/interventions/new", get(new_form).post(create))
        .route("/interventions/{id}", get(show))
        .route("/interventions/{id}/edit", get(edit_form).post(save))
        .route("/interventions/{id}/workflow", post(workflow))
}

type St = State<Arc<AppState>>;
type Who = Option<Extension<Identity>>;

/// What a page needs to know of its reader.
pub(crate) struct Reader {
    pub(crate) es: bool,
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
}

impl Reader {
    pub(crate) fn of(identity: Who, headers: &HeaderMap, uri: &Uri) -> Self {
        let (principal, csrf) = match identity {
            Some(Extension(i)) => (i.principal, i.csrf.unwrap_or_default()),
            None => (Principal::Anonymous, String::new()),
        };
        Reader { es: spanish(headers, uri.query()), principal, csrf }
    }
    pub(crate) fn lang(&self) -> Lang {
        if self.es { Lang::Es } else { Lang::En }
    }
    pub(crate) fn ui(&self) -> UiLang {
        if self.es { UiLang::Es } else { UiLang::En }
    }
    /// The reader's number format.
    pub(crate) fn locale(&self) -> crate::i18n::Locale {
        if self.es { crate::i18n::Locale::ES } else { crate::i18n::Locale::EN }
    }
    /// A count in the reader's number format, "-" when not given.
    pub(crate) fn count(&self, n: Option<u64>) -> String {
        n.map(|n| self.locale().int(i64::try_from(n).unwrap_or(i64::MAX))).unwrap_or_else(|| "-".into())
    }
    pub(crate) fn q(&self) -> &'static str {
        if self.es { "?lang=es" } else { "" }
    }
    pub(crate) fn amp(&self) -> &'static str {
        if self.es { "&lang=es" } else { "" }
    }
}

pub(crate) fn t(state: &AppState, r: &Reader, key: &str) -> String {
    state.catalogs.t(r.ui(), key)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn respond(status: StatusCode, r: &Reader, title: &str, body: Markup) -> Response {
    let nav = html! {
        nav { a href=(format!("/{}", r.q())) { "Senda" } " · " a href=(format!("/interventions{}", r.q())) { (title_of_list(r)) } }
    };
    (status, Html(page(r.es, title, html! { (nav) (body) }).into_string())).into_response()
}

fn title_of_list(r: &Reader) -> &'static str {
    if r.es { "Intervenciones" } else { "Interventions" }
}

/// A refusal as a page: sign in (to the login page), or 403.
fn refused(state: &AppState, r: &Reader, d: Decision) -> Response {
    match d {
        Decision::SignIn => Redirect::to("/login").into_response(),
        _ => respond(
            StatusCode::FORBIDDEN,
            r,
            &t(state, r, "iv-denied"),
            html! { p { (t(state, r, "iv-denied-detail")) } },
        ),
    }
}

fn not_found(state: &AppState, r: &Reader) -> Response {
    respond(
        StatusCode::NOT_FOUND,
        r,
        &t(state, r, "iv-not-found"),
        html! { p { (t(state, r, "iv-not-found-detail")) } },
    )
}

pub(crate) fn instrument_label(state: &AppState, r: &Reader, i: Instrument) -> String {
    t(state, r, &format!("iv-instrument-{}", i.as_str().replace('_', "-")))
}

fn workflow_label(state: &AppState, r: &Reader, w: Workflow) -> String {
    t(state, r, &format!("iv-workflow-{}", w.as_str()))
}

// ---------------------------------------------------------------------------------------------
// The list

/// The list's filters (each optional; a value that does not parse is a message, not a 500).
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    instrument: Option<String>,
    workflow: Option<String>,
    organisation: Option<String>,
    country: Option<String>,
}

async fn list(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut problems: Vec<String> = Vec::new();
    let mut filter = InterventionFilter { limit: 500, ..Default::default() };
    if let Some(s) = given(&q.instrument) {
        filter.instrument = Instrument::parse(&s);
        if filter.instrument.is_none() {
            problems.push(format!("{}: {s:?}", t(&state, &r, "iv-instrument")));
        }
    }
    if let Some(s) = given(&q.workflow) {
        filter.workflow = Workflow::parse(&s);
        if filter.workflow.is_none() {
            problems.push(format!("{}: {s:?}", t(&state, &r, "iv-workflow")));
        }
    }
    if let Some(s) = given(&q.organisation) {
        filter.organisation_id = s.parse().ok();
        if filter.organisation_id.is_none() {
            problems.push(format!("{}: {s:?}", t(&state, &r, "iv-organisation")));
        }
    }
    if let Some(s) = given(&q.country) {
        filter.country = senda_core::CountryCode::parse(&s).ok();
        if filter.country.is_none() {
            problems.push(format!("{}: {s:?}", t(&state, &r, "iv-country")));
        }
    }
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let scope = ReadScope::of(&r.principal);
    let f = filter.clone();
    let (records, orgs) = state.pool.run(move |s| Ok((s.interventions(&f, scope)?, s.organisations()?))).await?;
    let may_enter = may_edit_some(&r.principal).allowed();
    let title = title_of_list(&r);
    let body = html! {
        @if !problems.is_empty() {
            div role="alert" class="error" { p { (t(&state, &r, "iv-bad-filter")) } ul { @for p in &problems { li { (p) } } } }
        }
        form method="get" action="/interventions" class="filters" {
            @if r.es { input type="hidden" name="lang" value="es"; }
            label for="flt-instrument" { (t(&state, &r, "iv-instrument")) } " "
            select id="flt-instrument" name="instrument" {
                option value="" { (t(&state, &r, "iv-any")) }
                @for i in Instrument::ALL {
                    option value=(i.as_str()) selected[filter.instrument == Some(*i)] { (instrument_label(&state, &r, *i)) }
                }
            } " "
            label for="flt-workflow" { (t(&state, &r, "iv-workflow")) } " "
            select id="flt-workflow" name="workflow" {
                option value="" { (t(&state, &r, "iv-any")) }
                @for w in Workflow::ALL {
                    option value=(w.as_str()) selected[filter.workflow == Some(*w)] { (workflow_label(&state, &r, *w)) }
                }
            } " "
            label for="flt-org" { (t(&state, &r, "iv-organisation")) } " "
            select id="flt-org" name="organisation" {
                option value="" { (t(&state, &r, "iv-any")) }
                @for o in &orgs {
                    option value=(o.id) selected[filter.organisation_id == Some(o.id)] { (o.name) }
                }
            } " "
            label for="flt-country" { (t(&state, &r, "iv-country")) } " "
            input id="flt-country" name="country" size="3" maxlength="2" value=(filter.country.map(|c| c.as_str().to_owned()).unwrap_or_default());
            " "
            button type="submit" { (t(&state, &r, "iv-filter")) }
        }
        @if may_enter {
            p { (t(&state, &r, "iv-new")) ": "
                @for (n, i) in Instrument::ALL.iter().enumerate() {
                    @if n > 0 { " · " }
                    a href=(format!("/interventions/new?instrument={}{}", i.as_str(), r.amp())) { (instrument_label(&state, &r, *i)) }
                }
            }
        }
        @if records.is_empty() {
            p { (t(&state, &r, "iv-none")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(&state, &r, "iv-title")) }
                    th scope="col" { (t(&state, &r, "iv-instrument")) }
                    th scope="col" { (t(&state, &r, "iv-organisation")) }
                    th scope="col" { (t(&state, &r, "iv-countries")) }
                    th scope="col" { (t(&state, &r, "iv-workflow")) }
                    th scope="col" { (t(&state, &r, "iv-start")) }
                } }
                tbody {
                    @for rec in &records {
                        tr {
                            td { a href=(format!("/interventions/{}{}", rec.id, r.q())) { (rec.intervention.title.get(r.lang())) } }
                            td { (instrument_label(&state, &r, rec.intervention.instrument)) }
                            td { (rec.organisation_name) }
                            td { (rec.intervention.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (workflow_label(&state, &r, rec.workflow)) }
                            td { (rec.intervention.start.to_string()) }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(status, &r, title, body))
}

// ---------------------------------------------------------------------------------------------
// One record

async fn show(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else { return Ok(not_found(&state, &r)) };
    let (scope, sight) = (ReadScope::of(&r.principal), Sight::of(&r.principal));
    let Some(rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
        return Ok(not_found(&state, &r));
    };
    let title = rec.intervention.title.get(r.lang()).to_owned();
    Ok(respond(StatusCode::OK, &r, &title, detail(&state, &r, &rec, None)))
}

/// A record's page body; `notice` above it (saved, warnings).
fn detail(state: &AppState, r: &Reader, rec: &InterventionRecord, notice: Option<Markup>) -> Markup {
    let i = &rec.intervention;
    let l = r.lang();
    let withheld = |f: Restricted| rec.withheld.contains(&f);
    let hidden = t(state, r, "iv-withheld");
    let moves: Vec<Workflow> = Workflow::ALL
        .iter()
        .copied()
        .filter(|to| may_move(&r.principal, rec.organisation_id, rec.workflow, *to).is_ok_and(|d| d.allowed()))
        .collect();
    let editable = may_edit(&r.principal, rec.organisation_id, rec.workflow).allowed();
    html! {
        @if let Some(n) = notice { (n) }
        dl {
            dt { (t(state, r, "iv-instrument")) } dd { (instrument_label(state, r, i.instrument)) }
            dt { (t(state, r, "iv-workflow")) } dd { (workflow_label(state, r, rec.workflow)) " (" (t(state, r, "iv-version")) " " (rec.version) ")" }
            dt { (t(state, r, "iv-organisation")) } dd { (rec.organisation_name) }
            @if !i.implementing_partners.is_empty() {
                dt { (t(state, r, "iv-partners")) } dd { (i.implementing_partners.join("; ")) }
            }
            dt { (t(state, r, "iv-lines")) }
            dd { ul { @for c in &i.lines_of_effort { li { (state.catalogs.loe_title(r.ui(), strategy_of(state, &i.strategy), &c.line_of_effort)) ": " (c.reason) } } } }
            @if let Some(s) = &i.sector { dt { (t(state, r, "iv-sector")) } dd { (s) } }
            dt { (t(state, r, "iv-description")) }
            dd { @if withheld(Restricted::Description) { em { (hidden) } } @else { (i.description.get(l)) } }
            dt { (t(state, r, "iv-countries")) } dd { (i.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) }
            @if !i.departments.is_empty() { dt { (t(state, r, "iv-departments")) } dd { (i.departments.join(", ")) } }
            dt { (t(state, r, "iv-start")) } dd { (i.start.to_string()) }
            @if let Some(e) = i.end { dt { (t(state, r, "iv-end")) } dd { (e.to_string()) } }
            @if !i.population_groups.is_empty() { dt { (t(state, r, "iv-groups")) } dd { (i.population_groups.join(", ")) } }
            dt { (t(state, r, "iv-status")) } dd { (view::word_label(state, r, "status", i.status.as_str())) }
            @for m in &i.money {
                dt { (t(state, r, &format!("iv-money-{}", m.kind.as_str()))) }
                dd { (r.locale().decimal(m.amount, if m.amount.fract().is_zero() { 0 } else { 2 })) " " (m.currency.as_str()) " (" (m.date.to_string()) ")" }
            }
            @match &i.details {
                Details::Diplomacy(d) => {
                    dt { (t(state, r, "iv-counterpart")) } dd { (d.counterpart) " (" (view::word_label(state, r, "counterpart_kind", d.counterpart_kind.as_str())) ")" }
                    dt { (t(state, r, "iv-ask")) } dd { @if withheld(Restricted::DiplomacyAsk) { em { (hidden) } } @else { (d.ask) } }
                    dt { (t(state, r, "iv-history")) }
                    dd { ul { @for e in &d.history { li { (e.date.to_string()) ": " (view::word_label(state, r, "history_status", e.status.as_str())) @if let Some(n) = &e.note { " — " (n) } } } }
                        @if withheld(Restricted::DiplomacyNotes) { p { em { (hidden) } } } }
                }
                Details::PublicMessaging(m) => {
                    dt { (t(state, r, "iv-channels")) } dd { (m.channels.join(", ")) }
                    dt { (t(state, r, "iv-languages")) } dd { (m.languages.join(", ")) }
                    dt { (t(state, r, "iv-audiences")) } dd { (m.audiences.join(", ")) }
                    dt { (t(state, r, "iv-reach")) }
                    dd { ul { @for x in &m.reach { li { (x.period.to_string()) " " (x.country.as_str()) @if let Some(d) = &x.department { " " (d) } ": "
                        (r.count(x.people_reached)) " / " (r.count(x.impressions)) } } } }
                }
                Details::ImmigrationInitiatives(p) => {
                    dt { (t(state, r, "iv-programme")) } dd { (p.programme) }
                    dt { (t(state, r, "iv-figures")) }
                    dd { ul { @for f in &p.figures { li { (f.period.to_string()) " " (f.country.as_str()) ": "
                        (r.count(f.applications)) " / " (r.count(f.approvals)) " / " (r.count(f.arrivals)) } } } }
                }
                Details::ForeignAssistance(a) => {
                    dt { (t(state, r, "iv-iati")) }
                    dd { a href=(format!("/activity/{}{}", a.iati_identifier.as_str(), r.q())) { (a.iati_identifier.as_str()) }
                        @if rec.iati_linked == Some(false) { " — " (t(state, r, "iv-link-pending")) } }
                }
            }
        }
        @if editable {
            p { a href=(format!("/interventions/{}/edit{}", rec.id, r.q())) { (t(state, r, "iv-edit")) } }
        }
        @for to in &moves {
            form method="post" action=(format!("/interventions/{}/workflow{}", rec.id, r.q())) class="inline" {
                input type="hidden" name="csrf" value=(r.csrf);
                input type="hidden" name="version" value=(rec.version);
                input type="hidden" name="to" value=(to.as_str());
                button type="submit" { (t(state, r, &format!("iv-move-{}-{}", rec.workflow.as_str(), to.as_str()))) }
            }
        }
    }
}

/// The workflow form's fields.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    version: String,
}

async fn workflow(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else { return Ok(not_found(&state, &r)) };
    let (scope, sight) = (ReadScope::of(&r.principal), Sight::of(&r.principal));
    let Some(rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
        return Ok(not_found(&state, &r));
    };
    let Some(to) = Workflow::parse(&f.to) else {
        return Err(WebError::BadRequest(format!("to: {:?} is not a workflow state", f.to)).into());
    };
    let stale = f.version.trim().parse::<i64>().ok() != Some(rec.version);
    let decision = match may_move(&r.principal, rec.organisation_id, rec.workflow, to) {
        Ok(d) => d,
        Err(_) if stale => Decision::Allow, // shown as the conflict below
        Err(e) => return Err(WebError::BadRequest(format!("workflow: {}", e.message(r.lang()))).into()),
    };
    if !decision.allowed() {
        return Ok(refused(&state, &r, decision));
    }
    let moved = if stale {
        Moved::Conflict { workflow: rec.workflow, version: rec.version }
    } else {
        let actor = Actor::of(&caller);
        let from = rec.workflow;
        state.pool.run(move |s| s.move_intervention(&actor, id, from, to, now())).await?
    };
    match moved {
        Moved::Done(_) => Ok(Redirect::to(&format!("/interventions/{id}{}", r.q())).into_response()),
        Moved::NotFound => Ok(not_found(&state, &r)),
        Moved::Conflict { .. } => {
            let Some(now_rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
                return Ok(not_found(&state, &r));
            };
            let notice = html! { p role="alert" class="error" { (t(&state, &r, "iv-moved-meanwhile")) } };
            let title = now_rec.intervention.title.get(r.lang()).to_owned();
            Ok(respond(StatusCode::CONFLICT, &r, &title, detail(&state, &r, &now_rec, Some(notice))))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The form: new and edit

/// `?instrument=` of the new form.
#[derive(Debug, Deserialize, Default)]
pub struct NewQuery {
    instrument: Option<String>,
}

/// A one-time form token (128 random bits, hex); without randomness, a refusal.
fn random_token() -> Result<String, WebError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("no randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The strategy a record names, else the default one (a record is checked against the
/// server's strategies, so the first branch is the usual one).
pub(crate) fn strategy_of<'a>(state: &'a AppState, id: &str) -> &'a senda_core::Strategy {
    state
        .strategies
        .iter()
        .find(|s| s.id == id)
        .or_else(|| state.strategies.iter().find(|s| s.id == senda_core::strategy::DEFAULT_STRATEGY))
        .or_else(|| state.strategies.first())
        .map(|s| &**s)
        .expect("the server has at least one strategy")
}

async fn new_form(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<NewQuery>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let d = may_edit_some(&r.principal);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let Some(instrument) = q.instrument.as_deref().and_then(Instrument::parse) else {
        return Ok(Redirect::to(&format!("/interventions{}", r.q())).into_response());
    };
    let orgs = writable_orgs(&state, &r).await?;
    let mut v = serde_json::json!({ "instrument": instrument.as_str() });
    if let (Some(first), true) = (orgs.first(), orgs.len() == 1) {
        v["organisation"] = Value::String(first.0.to_string());
    }
    if instrument == Instrument::Diplomacy {
        // A diplomatic ask is not for publication unless the editor says otherwise.
        v["not_for_publication"] = serde_json::json!(["diplomacy_ask", "diplomacy_notes"]);
    }
    let target = FormTarget::New { token: random_token()? };
    Ok(form_page(&state, &r, StatusCode::OK, instrument, &v, &Problems::default(), &orgs, &target, None, None))
}

/// The organisations the reader may enter records for (the policy's answer per organisation).
async fn writable_orgs(state: &Arc<AppState>, r: &Reader) -> Result<Vec<(i64, String)>, ApiError> {
    let all = state.pool.run(|s| s.organisations()).await?;
    Ok(all
        .into_iter()
        .filter(|o| may_edit(&r.principal, o.id, Workflow::Draft).allowed())
        .map(|o| (o.id, o.name))
        .collect())
}

async fn create(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<NewQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let d = may_edit_some(&r.principal);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let Some(instrument) = q.instrument.as_deref().and_then(Instrument::parse) else {
        return Err(WebError::BadRequest(
            "instrument: give ?instrument=diplomacy, foreign_assistance, public_messaging or immigration_initiatives"
                .into(),
        )
        .into());
    };
    let posted = form::from_pairs(instrument, &pairs);
    let orgs = writable_orgs(&state, &r).await?;
    let token = match posted.form_token.clone() {
        Some(t) => t,
        None => random_token()?,
    };
    let target = FormTarget::New { token: token.clone() };
    if posted.add_rows.is_some() {
        return Ok(form_page(
            &state,
            &r,
            StatusCode::OK,
            instrument,
            &posted.value,
            &Problems::default(),
            &orgs,
            &target,
            posted.add_rows.as_deref(),
            None,
        ));
    }
    let i = match crate::interventions::check(&state, &posted.value) {
        Ok(i) => i,
        Err(e) => {
            let p = Problems::of(&e.0, r.lang(), instrument);
            return Ok(form_page(
                &state,
                &r,
                StatusCode::BAD_REQUEST,
                instrument,
                &posted.value,
                &p,
                &orgs,
                &target,
                None,
                None,
            ));
        }
    };
    let decision = i.may_create(&r.principal);
    if !decision.allowed() {
        let e = senda_core::intervention::FieldError::new(
            "organisation",
            senda_core::intervention::Problem::NotOneOf {
                value: i.organisation.to_string(),
                allowed: orgs.iter().map(|(id, _)| id.to_string()).collect(),
            },
        );
        let p = Problems::of(&[e], r.lang(), instrument);
        return Ok(form_page(
            &state,
            &r,
            StatusCode::FORBIDDEN,
            instrument,
            &posted.value,
            &p,
            &orgs,
            &target,
            None,
            None,
        ));
    }
    let actor = Actor::of(&caller);
    let created = state.pool.run(move |s| s.create_intervention_once(&actor, &i, &token, now())).await?;
    Ok(Redirect::to(&format!("/interventions/{}{}", created.id, r.q())).into_response())
}

async fn edit_form(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else { return Ok(not_found(&state, &r)) };
    let (scope, sight) = (ReadScope::of(&r.principal), Sight::of(&r.principal));
    let Some(rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
        return Ok(not_found(&state, &r));
    };
    let d = may_edit(&r.principal, rec.organisation_id, rec.workflow);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let orgs = writable_orgs(&state, &r).await?;
    let v = serde_json::to_value(&rec.intervention).unwrap_or(Value::Null);
    let target = FormTarget::Edit { id, version: rec.version, base: v.to_string() };
    Ok(form_page(
        &state,
        &r,
        StatusCode::OK,
        rec.intervention.instrument,
        &v,
        &Problems::default(),
        &orgs,
        &target,
        None,
        None,
    ))
}

async fn save(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else { return Ok(not_found(&state, &r)) };
    let (scope, sight) = (ReadScope::of(&r.principal), Sight::of(&r.principal));
    let Some(rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
        return Ok(not_found(&state, &r));
    };
    let d = may_edit(&r.principal, rec.organisation_id, rec.workflow);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let instrument = rec.intervention.instrument;
    let posted: Posted = form::from_pairs(instrument, &pairs);
    let orgs = writable_orgs(&state, &r).await?;
    let version = posted.version.unwrap_or(0);
    let base = posted.base.clone().unwrap_or_default();
    let target = FormTarget::Edit { id, version, base: base.clone() };
    if posted.add_rows.is_some() {
        return Ok(form_page(
            &state,
            &r,
            StatusCode::OK,
            instrument,
            &posted.value,
            &Problems::default(),
            &orgs,
            &target,
            posted.add_rows.as_deref(),
            None,
        ));
    }
    let i = match crate::interventions::check(&state, &posted.value) {
        Ok(i) => i,
        Err(e) => {
            let p = Problems::of(&e.0, r.lang(), instrument);
            return Ok(form_page(
                &state,
                &r,
                StatusCode::BAD_REQUEST,
                instrument,
                &posted.value,
                &p,
                &orgs,
                &target,
                None,
                None,
            ));
        }
    };
    if i.organisation != rec.organisation_id && !may_edit(&r.principal, i.organisation, rec.workflow).allowed() {
        let e = senda_core::intervention::FieldError::new(
            "organisation",
            senda_core::intervention::Problem::NotOneOf {
                value: i.organisation.to_string(),
                allowed: orgs.iter().map(|(id, _)| id.to_string()).collect(),
            },
        );
        let p = Problems::of(&[e], r.lang(), instrument);
        return Ok(form_page(
            &state,
            &r,
            StatusCode::FORBIDDEN,
            instrument,
            &posted.value,
            &p,
            &orgs,
            &target,
            None,
            None,
        ));
    }
    let actor = Actor::of(&caller);
    let mine = i.clone();
    let out = state.pool.run(move |s| s.update_intervention(&actor, id, version, &mine, now())).await?;
    match out {
        Updated::Done(..) => Ok(Redirect::to(&format!("/interventions/{id}{}", r.q())).into_response()),
        Updated::NotFound => Ok(not_found(&state, &r)),
        Updated::Conflict(_) => {
            // Shown as the reader may see it now.
            let Some(now_rec) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
                return Ok(not_found(&state, &r));
            };
            if now_rec.intervention == i {
                // The same form posted twice: the record already says this.
                return Ok(Redirect::to(&format!("/interventions/{id}{}", r.q())).into_response());
            }
            let base_v: Value = serde_json::from_str(&base).unwrap_or(Value::Null);
            let current_v = serde_json::to_value(&now_rec.intervention).unwrap_or(Value::Null);
            let changes = conflict_table(&state, &r, &base_v, &current_v, &posted.value);
            let target = FormTarget::Edit { id, version: now_rec.version, base: current_v.to_string() };
            Ok(form_page(
                &state,
                &r,
                StatusCode::CONFLICT,
                instrument,
                &posted.value,
                &Problems::default(),
                &orgs,
                &target,
                None,
                Some(changes),
            ))
        }
    }
}

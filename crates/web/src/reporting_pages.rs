//! The reporting cycle's page (issue 18, item 5), in English and Spanish (`rp-*` keys of the
//! catalogues):
//!
//! - `GET /reporting`: what is due and overdue by partner and period, the reports the reader
//!   sees (with approve and return forms for those who may review), the form to report an
//!   actual (for those with an intervention to report on), and the periods with lock and
//!   reopen forms for those who may lock them;
//! - `POST /reporting/reports`: save or submit an actual (checked by
//!   `senda_core::reporting::parse_actual`; every problem next to its field, nothing saved);
//! - `POST /reporting/reports/{id}/review`: approve, or return with a comment;
//! - `POST /reporting/locks`: lock or reopen a period.
//!
//! Who may do what is the policy's (`may_step`, `may_lock`, `ReadScope`, all `decide`); no
//! role is checked here. Every form carries the session's CSRF token (checked by
//! `auth::identify`); the report form a one-time token, so a form posted twice writes once.
//! Every text reaches HTML through maud, which escapes it.

use crate::AppState;
use crate::auth::{Identity, page};
use crate::error::{ApiError, WebError};
use crate::intervention_pages::{Reader, strategy_of};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{Markup, html};
use senda_core::accounts::{Decision, Principal, ReadScope};
use senda_core::intervention::{FieldError, Intervention, Workflow};
use senda_core::reporting::{
    ActualContext, ActualInput, DueStatus, ReportState, Step, check_text, may_lock, may_step, parse_actual,
};
use senda_core::{Period, Strategy};
use senda_store::accounts::Actor;
use senda_store::reporting::{DueEntry, ReportFilter, ReportRecord, ReportWrite, Written, due_list};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The page's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/reporting", get(show))
        .route("/reporting/reports", post(submit))
        .route("/reporting/reports/{id}/review", post(review))
        .route("/reporting/locks", post(lock))
}

type St = State<Arc<AppState>>;
type Who = Option<Extension<Identity>>;

fn t(state: &AppState, r: &Reader, key: &str) -> String {
    state.catalogs.t(r.ui(), key)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A one-time form token (128 random bits, hex).
fn random_token() -> Result<String, WebError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("no randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn respond(status: StatusCode, state: &AppState, r: &Reader, body: Markup) -> Response {
    let title = t(state, r, "rp-title");
    let nav = html! {
        nav { a href=(format!("/{}", r.q())) { "Senda" } " · " a href=(format!("/reporting{}", r.q())) { (title) } }
    };
    (status, Html(page(r.es, &title, html! { (nav) (body) }).into_string())).into_response()
}

fn refused(state: &AppState, r: &Reader, d: Decision) -> Response {
    match d {
        Decision::SignIn => Redirect::to("/login").into_response(),
        _ => respond(
            StatusCode::FORBIDDEN,
            state,
            r,
            html! { h2 { (t(state, r, "rp-denied")) } p { (t(state, r, "rp-denied-detail")) } },
        ),
    }
}

fn the_strategy(state: &AppState) -> &Strategy {
    strategy_of(state, senda_core::strategy::DEFAULT_STRATEGY)
}

/// What went wrong with a post, shown next to its field.
#[derive(Default)]
struct Problems {
    /// The report form's fields.
    form: BTreeMap<String, String>,
    /// A review form's problem: (report id, message).
    review: Option<(i64, String)>,
    /// Above everything.
    top: Vec<String>,
}

impl Problems {
    fn any(&self) -> bool {
        !self.form.is_empty() || self.review.is_some() || !self.top.is_empty()
    }
}

/// The report form's fields as posted (or prefilled from a returned report).
#[derive(Debug, Deserialize, Default, Clone)]
pub struct ReportForm {
    #[serde(default)]
    intervention: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    denominator: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    form_token: String,
}

/// `GET /reporting`'s query: `fix` prefills the form with a report to correct.
#[derive(Debug, Deserialize, Default)]
pub struct ShowQuery {
    fix: Option<String>,
}

/// Everything the page shows, read through the reader's scope.
struct Data {
    due: Vec<DueEntry>,
    reports: Vec<ReportRecord>,
    /// Interventions the reader may report on: (id, owner, title, record).
    writable: Vec<(i64, i64, String, Intervention)>,
    locked: Vec<Period>,
}

async fn load(state: &Arc<AppState>, r: &Reader) -> Result<Data, ApiError> {
    let st = Arc::new(the_strategy(state).clone());
    let scope = ReadScope::of(&r.principal);
    let principal = r.principal.clone();
    let lang = r.lang();
    let data = state
        .pool
        .run(move |s| {
            let due = due_list(s, &st, today(), scope, lang)?;
            let reports = s.reports(&ReportFilter { strategy: Some(st.id.clone()), ..Default::default() }, scope)?;
            let writable = s
                .interventions_for_report(&st.id, scope)?
                .into_iter()
                .filter(|i| matches!(i.workflow, Workflow::Approved | Workflow::Published))
                .filter(|i| may_step(&principal, i.organisation_id, None, Step::Submit).is_ok_and(|d| d.allowed()))
                .map(|i| (i.id, i.organisation_id, i.intervention.title.get(lang).to_owned(), i.intervention))
                .collect();
            let locked = s.locked_periods(&st.id)?;
            Ok(Data { due, reports, writable, locked })
        })
        .await?;
    Ok(data)
}

async fn show(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    if r.principal == Principal::Anonymous {
        return Ok(refused(&state, &r, Decision::SignIn));
    }
    let data = load(&state, &r).await?;
    let mut form = ReportForm { form_token: random_token()?, step: "submit".into(), ..Default::default() };
    if let Some(rep) = q.fix.and_then(|f| f.parse::<i64>().ok()).and_then(|id| data.reports.iter().find(|x| x.id == id))
    {
        form = ReportForm {
            intervention: rep.intervention_id.to_string(),
            indicator: rep.actual.indicator.clone(),
            period: rep.actual.period.to_string(),
            department: rep.actual.department.clone(),
            value: rep.actual.value.to_string(),
            denominator: rep.actual.denominator.map(|d| d.to_string()).unwrap_or_default(),
            note: rep.actual.note.clone().unwrap_or_default(),
            ..form
        };
    }
    Ok(respond(StatusCode::OK, &state, &r, body(&state, &r, &data, &form, &Problems::default())))
}

fn status_word(state: &AppState, r: &Reader, s: DueStatus) -> Markup {
    html! { span class=(format!("status status-{}", s.as_str())) { (t(state, r, &format!("rp-status-{}", s.as_str()))) } }
}

fn state_word(state: &AppState, r: &Reader, s: ReportState) -> String {
    t(state, r, &format!("rp-state-{}", s.as_str()))
}

fn period_label(state: &AppState, r: &Reader, p: &Period) -> String {
    let loc = if r.es { crate::i18n::Locale::ES } else { crate::i18n::Locale::EN };
    crate::indicators::period_label(&state.catalogs, loc, p)
}

fn field_error(problems: &Problems, field: &str, id: &str) -> Markup {
    html! {
        @if let Some(m) = problems.form.get(field) {
            span class="field-error" id=(id) role="alert" { (m) }
        }
    }
}

fn body(state: &AppState, r: &Reader, data: &Data, form: &ReportForm, problems: &Problems) -> Markup {
    let st = the_strategy(state);
    let rules = st.reporting_def();
    let freq = t(state, r, &format!("rp-frequency-{}", rules.frequency.as_str()));
    let rule = state.catalogs.t_args(r.ui(), "rp-rule", &[("frequency", freq), ("days", rules.due_days.to_string())]);
    let may_lock_periods = may_lock(&r.principal).allowed();
    let periods: Vec<Period> = rules.ended_periods(today()).into_iter().rev().collect();
    let open_periods: Vec<&Period> = periods.iter().filter(|p| !data.locked.contains(p)).collect();
    html! {
        p class="note" { (rule) }
        @if problems.any() {
            div role="alert" class="error" {
                p { (t(state, r, "rp-problems")) }
                @if !problems.top.is_empty() { ul { @for p in &problems.top { li { (p) } } } }
            }
        }
        section id="due" {
            h2 { (t(state, r, "rp-due-heading")) }
            @if data.due.is_empty() {
                p { (t(state, r, "rp-due-none")) }
            } @else {
                div class="table-scroll" tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (t(state, r, "rp-partner")) }
                        th scope="col" { (t(state, r, "rp-period")) }
                        th scope="col" { (t(state, r, "rp-due-date")) }
                        th scope="col" { (t(state, r, "rp-intervention")) }
                        th scope="col" { (t(state, r, "rp-status")) }
                        th scope="col" class="num" { (t(state, r, "rp-days-overdue")) }
                        th scope="col" { (t(state, r, "rp-locked")) }
                    } }
                    tbody {
                        @for e in &data.due {
                            tr {
                                td { (e.organisation_name) }
                                td { (period_label(state, r, &e.row.period)) }
                                td { (state.catalogs.date(r.ui(), &e.row.due_date.to_string())) }
                                td { a href=(format!("/interventions/{}{}", e.row.intervention_id, r.q())) { (e.intervention_title) } }
                                td { (status_word(state, r, e.row.status)) }
                                td class="num" { @if e.row.days_overdue > 0 { (e.row.days_overdue) } }
                                td { @if e.row.locked { (t(state, r, "rp-locked")) } }
                            }
                        }
                    }
                } }
            }
        }
        section id="reports" {
            h2 { (t(state, r, "rp-reports-heading")) }
            @if data.reports.is_empty() {
                p { (t(state, r, "rp-reports-none")) }
            } @else {
                div class="table-scroll" tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (t(state, r, "rp-partner")) }
                        th scope="col" { (t(state, r, "rp-intervention")) }
                        th scope="col" { (t(state, r, "rp-period")) }
                        th scope="col" { (t(state, r, "rp-indicator")) }
                        th scope="col" { (t(state, r, "rp-department")) }
                        th scope="col" class="num" { (t(state, r, "rp-actual")) }
                        th scope="col" { (t(state, r, "rp-state")) }
                        th scope="col" { (t(state, r, "rp-note")) " / " (t(state, r, "rp-comment")) }
                        th scope="col" { (t(state, r, "rp-actions")) }
                    } }
                    tbody {
                        @for rep in &data.reports {
                            tr id=(format!("report-{}", rep.id)) {
                                td { (rep.organisation_name) }
                                td { (rep.intervention_title) }
                                td { (period_label(state, r, &rep.actual.period)) }
                                td { (rep.actual.indicator) }
                                td { (rep.actual.department) }
                                td class="num" {
                                    (rep.actual.value.to_string())
                                    @if let Some(d) = rep.actual.denominator { " / " (d.to_string()) }
                                }
                                td { (state_word(state, r, rep.state)) }
                                td {
                                    @if let Some(n) = &rep.actual.note { p class="report-note" { (n) } }
                                    @if let Some(c) = &rep.comment { p class="report-comment" { strong { (t(state, r, "rp-comment")) ": " } (c) } }
                                }
                                td { (actions(state, r, rep, problems, &data.locked)) }
                            }
                        }
                    }
                } }
            }
        }
        section id="submit" {
            h2 { (t(state, r, "rp-submit-heading")) }
            @if data.writable.is_empty() {
                p { (t(state, r, "rp-submit-none")) }
            } @else {
                form method="post" action=(format!("/reporting/reports{}", r.q())) class="report-form" {
                    input type="hidden" name="csrf" value=(r.csrf);
                    input type="hidden" name="form_token" value=(form.form_token);
                    p {
                        label for="rp-intervention" { (t(state, r, "rp-intervention")) } br;
                        select id="rp-intervention" name="intervention" {
                            @for (id, _, title, _) in &data.writable {
                                option value=(id) selected[form.intervention == id.to_string()] { (title) }
                            }
                        }
                        (field_error(problems, "intervention", "rp-intervention-error"))
                    }
                    p {
                        label for="rp-indicator" { (t(state, r, "rp-indicator")) } br;
                        select id="rp-indicator" name="indicator" {
                            // One group per intervention: the result indicators of its own lines
                            // of effort (a page without script cannot narrow one list by another).
                            @for (id, _, title, i) in &data.writable {
                                optgroup label=(format!("{title} (#{id})")) {
                                    @for d in st.indicators.iter().filter(|d| d.kind == senda_core::indicator::IndicatorKind::Result
                                        && i.lines_of_effort.iter().any(|c| c.line_of_effort.eq_ignore_ascii_case(&d.line_of_effort))) {
                                        option value=(d.code) selected[form.indicator.eq_ignore_ascii_case(&d.code)] {
                                            (d.code) " " (d.name_in(if r.es { "es" } else { "en" }))
                                        }
                                    }
                                }
                            }
                        }
                        (field_error(problems, "indicator", "rp-indicator-error"))
                    }
                    p {
                        label for="rp-period" { (t(state, r, "rp-period")) } br;
                        select id="rp-period" name="period" {
                            @for p in &open_periods {
                                option value=(p.to_string()) selected[form.period == p.to_string()] { (period_label(state, r, p)) }
                            }
                            @if !form.period.is_empty() && !open_periods.iter().any(|p| p.to_string() == form.period) {
                                option value=(form.period) selected { (form.period) }
                            }
                        }
                        (field_error(problems, "period", "rp-period-error"))
                    }
                    p {
                        label for="rp-department" { (t(state, r, "rp-department")) } br;
                        input id="rp-department" name="department" size="8" value=(form.department) aria-describedby="rp-department-hint";
                        br; small id="rp-department-hint" { (t(state, r, "rp-department-hint")) }
                        (field_error(problems, "department", "rp-department-error"))
                    }
                    p {
                        label for="rp-value" { (t(state, r, "rp-actual")) } br;
                        input id="rp-value" name="value" size="14" inputmode="decimal" value=(form.value);
                        (field_error(problems, "value", "rp-value-error"))
                    }
                    p {
                        label for="rp-denominator" { (t(state, r, "rp-denominator")) } br;
                        input id="rp-denominator" name="denominator" size="14" inputmode="decimal" value=(form.denominator);
                        (field_error(problems, "denominator", "rp-denominator-error"))
                    }
                    p {
                        label for="rp-note" { (t(state, r, "rp-note")) } br;
                        textarea id="rp-note" name="note" rows="3" cols="60" { (form.note) }
                        (field_error(problems, "note", "rp-note-error"))
                    }
                    p {
                        button type="submit" name="step" value="save" { (t(state, r, "rp-save")) } " "
                        button type="submit" name="step" value="submit" { (t(state, r, "rp-submit")) }
                        (field_error(problems, "state", "rp-state-error"))
                    }
                }
            }
        }
        section id="periods" {
            h2 { (t(state, r, "rp-periods-heading")) }
            div class="table-scroll" tabindex="0" { table {
                thead { tr {
                    th scope="col" { (t(state, r, "rp-period")) }
                    th scope="col" { (t(state, r, "rp-due-date")) }
                    th scope="col" { (t(state, r, "rp-state")) }
                    @if may_lock_periods { th scope="col" { (t(state, r, "rp-actions")) } }
                } }
                tbody {
                    @for p in periods.iter().take(12) {
                        @let locked = data.locked.contains(p);
                        tr {
                            td { (period_label(state, r, p)) }
                            td { (state.catalogs.date(r.ui(), &rules.due_date(*p).to_string())) }
                            td { (t(state, r, if locked { "rp-locked" } else { "rp-open" })) }
                            @if may_lock_periods {
                                td { form method="post" action=(format!("/reporting/locks{}", r.q())) class="inline" {
                                    input type="hidden" name="csrf" value=(r.csrf);
                                    input type="hidden" name="period" value=(p.to_string());
                                    input type="hidden" name="action" value=(if locked { "reopen" } else { "lock" });
                                    button type="submit" { (t(state, r, if locked { "rp-reopen" } else { "rp-lock" })) }
                                } }
                            }
                        }
                    }
                }
            } }
        }
    }
}

fn actions(state: &AppState, r: &Reader, rep: &ReportRecord, problems: &Problems, locked: &[Period]) -> Markup {
    if locked.contains(&rep.actual.period) {
        return html! { (t(state, r, "rp-locked")) };
    }
    let may =
        |step: Step| may_step(&r.principal, rep.organisation_id, Some(rep.state), step).is_ok_and(|d| d.allowed());
    let error = problems.review.as_ref().filter(|(id, _)| *id == rep.id).map(|(_, m)| m.clone());
    let comment_id = format!("rp-comment-{}", rep.id);
    html! {
        @if may(Step::Approve) {
            form method="post" action=(format!("/reporting/reports/{}/review{}", rep.id, r.q())) class="inline" {
                input type="hidden" name="csrf" value=(r.csrf);
                input type="hidden" name="version" value=(rep.version);
                input type="hidden" name="step" value="approve";
                button type="submit" { (t(state, r, "rp-approve")) }
            }
        }
        @if may(Step::Return) {
            form method="post" action=(format!("/reporting/reports/{}/review{}", rep.id, r.q())) {
                input type="hidden" name="csrf" value=(r.csrf);
                input type="hidden" name="version" value=(rep.version);
                input type="hidden" name="step" value="return";
                label for=(comment_id) { (t(state, r, "rp-comment")) } br;
                textarea id=(comment_id) name="comment" rows="2" cols="30" {}
                @if let Some(m) = &error { br; span class="field-error" role="alert" { (m) } }
                br; button type="submit" { (t(state, r, "rp-return")) }
            }
        }
        @if may(Step::Submit) {
            a href=(format!("/reporting?fix={}{}#submit", rep.id, r.amp())) { (t(state, r, "rp-fix")) }
        }
    }
}

fn message(e: &FieldError, r: &Reader) -> String {
    e.message(r.lang())
}

async fn submit(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<ReportForm>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let data = load(&state, &r).await?;
    let mut problems = Problems::default();
    let step = match f.step.as_str() {
        "save" => Step::Save,
        _ => Step::Submit,
    };
    let target = f.intervention.trim().parse::<i64>().ok().and_then(|id| data.writable.iter().find(|w| w.0 == id));
    let Some((iv_id, owner, _, iv)) = target else {
        let d = senda_core::intervention::may_edit_some(&r.principal);
        if !d.allowed() {
            return Ok(refused(&state, &r, d));
        }
        problems
            .form
            .insert("intervention".into(), format!("{:?} {}", f.intervention, t(&state, &r, "rp-bad-intervention")));
        return Ok(respond(StatusCode::BAD_REQUEST, &state, &r, body(&state, &r, &data, &f, &problems)));
    };
    let st = strategy_of(&state, &iv.strategy);
    let ctx = ActualContext {
        strategy: st,
        intervention: iv,
        today: today(),
        locked: &data.locked,
        admin1: senda_stats::countries::canonical_admin1,
    };
    let input = ActualInput {
        indicator: &f.indicator,
        period: &f.period,
        department: &f.department,
        value: &f.value,
        denominator: &f.denominator,
        note: &f.note,
    };
    let actual = match parse_actual(&input, &ctx) {
        Ok(a) => a,
        Err(e) => {
            for fe in &e.0 {
                problems.form.entry(fe.field.clone()).or_insert_with(|| message(fe, &r));
            }
            return Ok(respond(StatusCode::BAD_REQUEST, &state, &r, body(&state, &r, &data, &f, &problems)));
        }
    };
    let d = may_step(&r.principal, *owner, None, step).unwrap_or(Decision::Deny);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let (strategy, iv_id, owner) = (st.id.clone(), *iv_id, *owner);
    let token = (!f.form_token.trim().is_empty()).then(|| f.form_token.trim().to_owned());
    let actor = Actor::of(&caller);
    let written = state
        .pool
        .run(move |s| {
            let w = ReportWrite {
                strategy: &strategy,
                intervention_id: iv_id,
                organisation_id: owner,
                actual: &actual,
                step,
                form_token: token.as_deref(),
                expected_version: None,
            };
            s.write_report(&actor, &w, now())
        })
        .await?;
    match written {
        Written::Done(rep) | Written::Replayed(rep) => {
            Ok(Redirect::to(&format!("/reporting{}#report-{}", r.q(), rep.id)).into_response())
        }
        Written::Locked(p) => {
            let e = FieldError::new("period", senda_core::intervention::Problem::PeriodLocked(p.to_string()));
            problems.form.insert("period".into(), message(&e, &r));
            Ok(respond(StatusCode::BAD_REQUEST, &state, &r, body(&state, &r, &data, &f, &problems)))
        }
        Written::Refused(e) => {
            problems.form.insert("state".into(), message(&e, &r));
            Ok(respond(StatusCode::CONFLICT, &state, &r, body(&state, &r, &data, &f, &problems)))
        }
        Written::Conflict(_) | Written::NotFound => {
            problems.top.push(t(&state, &r, "rp-changed"));
            let data = load(&state, &r).await?;
            Ok(respond(StatusCode::CONFLICT, &state, &r, body(&state, &r, &data, &f, &problems)))
        }
    }
}

/// A review form's fields.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    comment: String,
}

async fn review(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let not_found = || respond(StatusCode::NOT_FOUND, &state, &r, html! { h2 { (t(&state, &r, "rp-not-found")) } });
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else { return Ok(not_found()) };
    let scope = ReadScope::of(&r.principal);
    let Some(rep) = state.pool.run(move |s| s.report(id, scope)).await? else { return Ok(not_found()) };
    let step = match f.step.as_str() {
        "approve" => Step::Approve,
        "return" => Step::Return,
        other => return Err(WebError::BadRequest(format!("step: {other:?} is not approve or return")).into()),
    };
    let decision = match may_step(&r.principal, rep.organisation_id, Some(rep.state), step) {
        Ok(d) => d,
        // A step the report's state no longer allows: shown as a conflict below (it changed).
        Err(_) => Decision::Allow,
    };
    if !decision.allowed() {
        return Ok(refused(&state, &r, decision));
    }
    let comment = if step == Step::Return {
        match check_text("comment", &f.comment, true) {
            Ok(c) => c,
            Err(e) => {
                let data = load(&state, &r).await?;
                let problems = Problems { review: Some((id, message(&e, &r))), ..Default::default() };
                let form = ReportForm { form_token: random_token()?, ..Default::default() };
                return Ok(respond(StatusCode::BAD_REQUEST, &state, &r, body(&state, &r, &data, &form, &problems)));
            }
        }
    } else {
        None
    };
    let version = f.version.trim().parse::<i64>().ok();
    let actor = Actor::of(&caller);
    let written =
        state.pool.run(move |s| s.review_report(&actor, id, step, comment.as_deref(), version, now())).await?;
    let mut problems = Problems::default();
    let status = match written {
        Written::Done(_) | Written::Replayed(_) => {
            return Ok(Redirect::to(&format!("/reporting{}#report-{id}", r.q())).into_response());
        }
        Written::NotFound => return Ok(not_found()),
        Written::Locked(p) => {
            let e = FieldError::new("period", senda_core::intervention::Problem::PeriodLocked(p.to_string()));
            problems.top.push(message(&e, &r));
            StatusCode::BAD_REQUEST
        }
        Written::Refused(_) | Written::Conflict(_) => {
            problems.top.push(t(&state, &r, "rp-changed"));
            StatusCode::CONFLICT
        }
    };
    let data = load(&state, &r).await?;
    let form = ReportForm { form_token: random_token()?, ..Default::default() };
    Ok(respond(status, &state, &r, body(&state, &r, &data, &form, &problems)))
}

/// The lock form's fields.
#[derive(Debug, Deserialize)]
pub struct LockForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    action: String,
}

async fn lock(
    State(state): St,
    identity: Who,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<LockForm>,
) -> Result<Response, ApiError> {
    let r = Reader::of(identity, &headers, &uri);
    let Principal::Person(caller) = r.principal.clone() else { return Ok(refused(&state, &r, Decision::SignIn)) };
    let d = may_lock(&r.principal);
    if !d.allowed() {
        return Ok(refused(&state, &r, d));
    }
    let st = the_strategy(&state);
    let rules = st.reporting_def();
    let period =
        Period::parse(&f.period).ok().filter(|p| rules.period_of(p.start()) == *p && *p >= rules.first_period());
    let Some(period) = period else {
        let data = load(&state, &r).await?;
        let problems =
            Problems { top: vec![format!("{:?} {}", f.period, t(&state, &r, "rp-bad-period"))], ..Default::default() };
        let form = ReportForm { form_token: random_token()?, ..Default::default() };
        return Ok(respond(StatusCode::BAD_REQUEST, &state, &r, body(&state, &r, &data, &form, &problems)));
    };
    let reopen = f.action == "reopen";
    let (id, actor) = (st.id.clone(), Actor::of(&caller));
    state
        .pool
        .run(move |s| {
            if reopen { s.reopen_period(&actor, &id, period, now()) } else { s.lock_period(&actor, &id, period, now()) }
        })
        .await?;
    Ok(Redirect::to(&format!("/reporting{}#periods", r.q())).into_response())
}

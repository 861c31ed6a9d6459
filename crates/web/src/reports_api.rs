//! The reporting cycle through the JSON API (issue 18, item 5):
//!
//! - `GET /api/v1/reports` (`reporting_period`, `state`, `organisation`): the reports the
//!   caller may see (the store applies its `ReadScope` in SQL: the public sees approved reports
//!   of published interventions, a partner editor also its own organisation's);
//! - `POST /api/v1/reports`: an indicator actual as JSON (`intervention`, `indicator`,
//!   `reporting_period`, `department`, `actual`, `denominator`, `note`, `submit`), checked by
//!   `senda_core::reporting::parse_actual` (the same function as `senda reporting submit` and
//!   the page), saved (`"submit": false`) or submitted (the default);
//! - `POST /api/v1/reports/{id}/review` (`{"step": "approve"}` or
//!   `{"step": "return", "comment": "..."}`, optional `version`): a coordinator's.
//!
//! Field names follow results reporting: the period is the `reporting_period`, the value the
//! `actual`. Problems are `application/problem+json` (400) with an `errors` list (field and
//! message), in Spanish with `?lang=es` or `Accept-Language: es`; a step the report's state or
//! version no longer allows is a 409. Who may do what is `may_step` (`decide`).

use crate::auth::Identity;
use crate::error::{ApiError, WebError};
use crate::interventions::{LangParam, bad, given, invalid, lang, principal, refused};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use senda_core::accounts::{Decision, Principal, ReadScope};
use senda_core::intervention::{FieldError, Problem, Workflow};
use senda_core::reporting::{ActualContext, ActualInput, ReportState, Step, check_text, may_step, parse_actual};
use senda_store::accounts::Actor;
use senda_store::reporting::{ReportFilter, ReportRecord, ReportWrite, Written};
use serde::Deserialize;
use std::sync::Arc;

type St = State<Arc<AppState>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The API's name of a checked field.
fn api_field(field: &str) -> String {
    match field {
        "period" => "reporting_period".into(),
        "value" => "actual".into(),
        f => f.into(),
    }
}

fn renamed(errors: &[FieldError]) -> Vec<FieldError> {
    errors.iter().map(|e| FieldError::new(api_field(&e.field), e.problem.clone())).collect()
}

/// Parameters of `GET /api/v1/reports`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A reporting period (`2024-Q1`).
    pub reporting_period: Option<String>,
    /// `draft`, `submitted`, `approved` or `returned`.
    pub state: Option<String>,
    /// An organisation id.
    pub organisation: Option<String>,
}

/// `GET /api/v1/reports`: the reports the caller may see, latest period first.
#[utoipa::path(get, path = "/reports", params(ListParams),
    responses((status = 200, description = "Reports (senda_store::reporting::ReportRecord)", body = Vec<Object>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<ReportRecord>>, ApiError> {
    let scope = ReadScope::of(&principal(identity));
    let filter = ReportFilter {
        strategy: None,
        organisation_id: given(&p.organisation)
            .map(|s| s.parse::<i64>().map_err(|_| bad("organisation", format!("{s:?} is not an organisation id"))))
            .transpose()?,
        intervention_id: None,
        period: given(&p.reporting_period)
            .map(|s| {
                senda_core::Period::parse(s)
                    .map_err(|_| bad("reporting_period", format!("{s:?} is not a period such as 2024-Q1")))
            })
            .transpose()?,
        state: given(&p.state)
            .map(|s| {
                ReportState::parse(s)
                    .ok_or_else(|| bad("state", format!("{s:?} is not one of draft, submitted, approved, returned")))
            })
            .transpose()?,
    };
    Ok(Json(state.pool.run(move |s| s.reports(&filter, scope)).await?))
}

/// The body of `POST /api/v1/reports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// The intervention's id.
    pub intervention: i64,
    /// An indicator code of one of its lines of effort.
    pub indicator: String,
    /// A reporting period that has ended (`2024-Q1`).
    pub reporting_period: String,
    /// A department of its countries (ISO 3166-2).
    pub department: String,
    /// The actual, as text (`"1500"`): a plain number.
    pub actual: String,
    /// Ratio indicators: the denominator, as text.
    #[serde(default)]
    pub denominator: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// `false` saves a draft; default `true` (submitted for review).
    #[serde(default)]
    pub submit: Option<bool>,
}

fn written(w: Written, l: senda_core::intervention::Lang) -> Result<Response, ApiError> {
    match w {
        Written::Done(r) | Written::Replayed(r) => Ok(Json(*r).into_response()),
        Written::Locked(p) => Ok(invalid(
            StatusCode::BAD_REQUEST,
            &[FieldError::new("reporting_period", Problem::PeriodLocked(p.to_string()))],
            l,
        )),
        Written::Refused(e) => Ok(invalid(StatusCode::CONFLICT, &[e], l)),
        Written::Conflict(r) => Ok((StatusCode::CONFLICT, Json(*r)).into_response()),
        Written::NotFound => Err(ApiError(WebError::NotFound("report".into()))),
    }
}

/// `POST /api/v1/reports`: checks the actual (every problem named, nothing saved), asks the
/// policy whether the caller may report on the intervention, saves or submits it.
#[utoipa::path(post, path = "/reports",
    params(("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "{\"intervention\": 1, \"indicator\": \"LOE7-1\", \"reporting_period\": \"2024-Q1\", \"department\": \"HN-CR\", \"actual\": \"1500\"}"),
    security(("bearer" = [])),
    responses((status = 200, description = "The report as stored", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    headers: HeaderMap,
    Query(q): Query<LangParam>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let l = lang(&headers, q.lang.as_deref());
    let (who, caller) = crate::interventions::editor(identity, "report indicator actuals")?;
    let caller = &caller;
    let input: ReportIn = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(report)", Problem::Syntax(format!("not the expected JSON: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let scope = ReadScope::of(&who);
    let id = input.intervention;
    let Some(rec) = state.pool.run(move |s| s.intervention(id, scope)).await? else {
        return Ok(invalid(
            StatusCode::BAD_REQUEST,
            &[FieldError::new("intervention", Problem::UnknownIntervention(id))],
            l,
        ));
    };
    if !matches!(rec.workflow, Workflow::Approved | Workflow::Published) {
        let e = FieldError::new(
            "intervention",
            Problem::NotOneOf {
                value: rec.workflow.as_str().into(),
                allowed: vec!["approved".into(), "published".into()],
            },
        );
        return Ok(invalid(StatusCode::BAD_REQUEST, &[e], l));
    }
    let step = if input.submit == Some(false) { Step::Save } else { Step::Submit };
    let d = may_step(&who, rec.organisation_id, None, step).unwrap_or(Decision::Deny);
    if !d.allowed() {
        return Err(refused(d, &format!("report on intervention {id}")));
    }
    let st = crate::intervention_pages::strategy_of(&state, &rec.intervention.strategy);
    let strategy = st.id.clone();
    let s2 = strategy.clone();
    let locked = state.pool.run(move |s| s.locked_periods(&s2)).await?;
    let ctx = ActualContext {
        strategy: st,
        intervention: &rec.intervention,
        today: time::OffsetDateTime::now_utc().date(),
        locked: &locked,
        admin1: senda_stats::countries::canonical_admin1,
    };
    let fields = ActualInput {
        indicator: &input.indicator,
        period: &input.reporting_period,
        department: &input.department,
        value: &input.actual,
        denominator: input.denominator.as_deref().unwrap_or_default(),
        note: input.note.as_deref().unwrap_or_default(),
    };
    let actual = match parse_actual(&fields, &ctx) {
        Ok(a) => a,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &renamed(&e.0), l)),
    };
    let (owner, actor) = (rec.organisation_id, Actor::of(caller));
    let w = state
        .pool
        .run(move |s| {
            let w = ReportWrite {
                strategy: &strategy,
                intervention_id: id,
                organisation_id: owner,
                actual: &actual,
                step,
                form_token: None,
                expected_version: None,
            };
            s.write_report(&actor, &w, now())
        })
        .await?;
    written(w, l)
}

/// The body of `POST /api/v1/reports/{id}/review`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// `approve` or `return`.
    pub step: String,
    /// Required to return.
    #[serde(default)]
    pub comment: Option<String>,
    /// The version the review was decided on (optional; a stale one is a 409).
    #[serde(default)]
    pub version: Option<i64>,
}

/// `POST /api/v1/reports/{id}/review`: a coordinator approves a report, or returns it with a
/// comment. 404 for a report the caller does not see.
#[utoipa::path(post, path = "/reports/{id}/review",
    params(("id" = i64, Path, description = "Report id"), ("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "{\"step\": \"return\", \"comment\": \"...\"}"),
    security(("bearer" = [])),
    responses((status = 200, description = "The report as it is now", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn review(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    headers: HeaderMap,
    Query(q): Query<LangParam>,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let l = lang(&headers, q.lang.as_deref());
    let not_found = || ApiError(WebError::NotFound(format!("report {raw}")));
    let id = raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(not_found)?;
    let who = principal(identity);
    let Principal::Person(caller) = &who else {
        return Err(refused(Decision::SignIn, "review reports"));
    };
    let input: ReviewIn = serde_json::from_slice(&body).map_err(|e| {
        ApiError(WebError::BadRequest(format!("expected {{\"step\": \"approve\"|\"return\", \"comment\": ...}}: {e}")))
    })?;
    let step = match input.step.as_str() {
        "approve" => Step::Approve,
        "return" => Step::Return,
        other => return Err(bad("step", format!("{other:?} is not approve or return"))),
    };
    let scope = ReadScope::of(&who);
    let Some(current) = state.pool.run(move |s| s.report(id, scope)).await? else {
        return Err(not_found());
    };
    match may_step(&who, current.organisation_id, Some(current.state), step) {
        Ok(d) if !d.allowed() => return Err(refused(d, "review reports")),
        Ok(_) => {}
        Err(e) => return Ok(invalid(StatusCode::CONFLICT, &[e], l)),
    }
    let comment = if step == Step::Return {
        match check_text("comment", input.comment.as_deref().unwrap_or_default(), true) {
            Ok(c) => c,
            Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &[e], l)),
        }
    } else {
        None
    };
    let actor = Actor::of(caller);
    let version = input.version;
    let w = state.pool.run(move |s| s.review_report(&actor, id, step, comment.as_deref(), version, now())).await?;
    written(w, l)
}

//! Interventions entered in Senda through the JSON API (issue 18, item 1):
//!
//! - `GET /api/v1/interventions` (`instrument`, `workflow`, `organisation`, `country`, `limit`)
//! - `POST /api/v1/interventions` (a record as JSON; saved as a draft)
//! - `GET /api/v1/interventions/{id}`
//! - `POST /api/v1/interventions/{id}/workflow` (`{"workflow": "submitted", "version": 1}`)
//!
//! The caller is the [`Identity`] the auth middleware found; what it may do is the access
//! policy's answer for the record itself (`Intervention::may_create`, `may_move`, which call
//! `senda_core::accounts::decide` with the record's organisation and state), and reads are
//! filtered by its `ReadScope` in the store: the public sees published records only, a
//! partner editor also its own organisation's, viewers and coordinators everything. A record
//! the caller may not see is a 404, as one that does not exist.
//!
//! A record is checked by `senda_core::intervention::parse_value`, the same function as
//! `senda intervention add`. Problems are answered as `application/problem+json` (400) with an
//! `errors` member listing every field and its message, in Spanish when the request asks for
//! it (`?lang=es` or `Accept-Language: es...`), else English.

use crate::auth::Identity;
use crate::error::{ApiError, WebError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use senda_core::accounts::{Decision, Principal, ReadScope};
use senda_core::intervention::{
    Context, FieldError, Instrument, Lang, Problem, Workflow, may_edit_some, may_move, parse_value,
};
use senda_store::accounts::Actor;
use senda_store::interventions::{InterventionFilter, InterventionRecord, Moved};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type St = State<Arc<AppState>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The reader's language: `?lang=`, else `Accept-Language`, else English.
fn lang(headers: &HeaderMap, lang: Option<&str>) -> Lang {
    let es = match lang.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => l.to_ascii_lowercase().starts_with("es"),
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("es")),
    };
    if es { Lang::Es } else { Lang::En }
}

fn principal(identity: Option<axum::Extension<Identity>>) -> Principal {
    identity.map_or(Principal::Anonymous, |axum::Extension(i)| i.principal)
}

/// One field's problem as the API shows it.
#[derive(Debug, Serialize)]
pub struct FieldProblem {
    /// The field's path, e.g. `departments[1]`.
    pub field: String,
    /// What is wrong, in the reader's language.
    pub message: String,
}

fn field_problems(errors: &[FieldError], l: Lang) -> Vec<FieldProblem> {
    errors.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message(l) }).collect()
}

/// A problem+json answer with every field's problem in `errors`.
fn invalid(status: StatusCode, errors: &[FieldError], l: Lang) -> Response {
    let list = field_problems(errors, l);
    let detail = list.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; ");
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
        "errors": list,
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

fn refused(d: Decision, what: &str) -> ApiError {
    match d {
        Decision::SignIn => ApiError(WebError::Denied(
            StatusCode::UNAUTHORIZED,
            format!("sign in first (POST /login, or an API token) to {what}"),
        )),
        _ => ApiError(WebError::Denied(StatusCode::FORBIDDEN, format!("your role does not allow you to {what}"))),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError(WebError::NotFound(format!("intervention {id}")))
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| not_found(raw))
}

/// Parameters of `GET /api/v1/interventions`.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    /// `diplomacy`, `foreign_assistance`, `public_messaging`, `immigration_initiatives`.
    pub instrument: Option<String>,
    /// `draft`, `submitted`, `approved`, `published` (what the caller may see of them).
    pub workflow: Option<String>,
    /// Organisation id.
    pub organisation: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad(param: &str, message: String) -> ApiError {
    ApiError(WebError::BadRequest(format!("{param}: {message}")))
}

/// `GET /api/v1/interventions`: the interventions the caller may see, newest first.
pub async fn list(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<InterventionRecord>>, ApiError> {
    let scope = ReadScope::of(&principal(identity));
    let filter = InterventionFilter {
        instrument: given(&p.instrument)
            .map(|s| {
                Instrument::parse(s).ok_or_else(|| {
                    bad(
                        "instrument",
                        format!(
                            "{s:?}: one of diplomacy, foreign_assistance, public_messaging, immigration_initiatives"
                        ),
                    )
                })
            })
            .transpose()?,
        workflow: given(&p.workflow)
            .map(|s| {
                Workflow::parse(s)
                    .ok_or_else(|| bad("workflow", format!("{s:?}: one of draft, submitted, approved, published")))
            })
            .transpose()?,
        organisation_id: given(&p.organisation)
            .map(|s| s.parse::<i64>().map_err(|_| bad("organisation", format!("{s:?} is not an organisation id"))))
            .transpose()?,
        country: given(&p.country)
            .map(|s| {
                senda_core::CountryCode::parse(s)
                    .map_err(|_| bad("country", format!("{s:?} is not an ISO 3166-1 alpha-2 code")))
            })
            .transpose()?,
        limit: match given(&p.limit) {
            None => 100,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("limit", format!("{s:?}: a whole number from 1 to 1000")))?,
        },
    };
    Ok(Json(state.pool.run(move |s| s.interventions(&filter, scope)).await?))
}

/// `GET /api/v1/interventions/{id}`.
pub async fn show(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Path(raw): Path<String>,
) -> Result<Json<InterventionRecord>, ApiError> {
    let id = parse_id(&raw)?;
    let scope = ReadScope::of(&principal(identity));
    match state.pool.run(move |s| s.intervention(id, scope)).await? {
        Some(r) => Ok(Json(r)),
        None => Err(not_found(&raw)),
    }
}

/// Optional query of the writes: the language of messages.
#[derive(Debug, Deserialize)]
pub struct LangParam {
    /// `en` or `es`.
    pub lang: Option<String>,
}

/// What `POST /api/v1/interventions` answers (201).
#[derive(Debug, Serialize)]
pub struct CreatedDto {
    /// The new id.
    pub id: i64,
    /// Warnings (the record was saved), e.g. a linked IATI activity not imported yet.
    pub warnings: Vec<FieldProblem>,
    /// The record as stored.
    pub record: Option<InterventionRecord>,
}

/// `POST /api/v1/interventions`: checks the record (every problem named, nothing saved), asks
/// the policy whether the caller may enter a record of its organisation, saves it as a draft.
pub async fn create(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    headers: HeaderMap,
    Query(q): Query<LangParam>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let l = lang(&headers, q.lang.as_deref());
    let who = principal(identity);
    let Principal::Person(caller) = &who else {
        return Err(refused(Decision::SignIn, "enter interventions"));
    };
    let d = may_edit_some(&who);
    if !d.allowed() {
        return Err(refused(d, "enter interventions"));
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let parsed = {
        let ctx = Context {
            strategies: state.strategies.iter().map(|s| &**s).collect(),
            admin1: senda_stats::countries::canonical_admin1,
        };
        parse_value(&value, &ctx)
    };
    let i = match parsed {
        Ok(i) => i,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &e.0, l)),
    };
    let decision = i.may_create(&who);
    if !decision.allowed() {
        return Err(refused(decision, &format!("enter records of organisation {}", i.organisation)));
    }
    let actor = Actor::of(caller);
    let scope = ReadScope::of(&who);
    let org = i.organisation;
    let out = state
        .pool
        .run(move |s| {
            if s.organisation(org)?.is_none() {
                return Ok(None);
            }
            let c = s.create_intervention(&actor, &i, now())?;
            let r = s.intervention(c.id, scope)?;
            Ok(Some((c, r)))
        })
        .await?;
    let Some((created, record)) = out else {
        let err = FieldError::new("organisation", Problem::UnknownOrganisation(org));
        return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
    };
    let dto = CreatedDto { id: created.id, warnings: field_problems(&created.warnings, l), record };
    let mut r = (StatusCode::CREATED, Json(dto)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/interventions/{}", created.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// The body of `POST /api/v1/interventions/{id}/workflow`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowIn {
    /// The new state: `draft`, `submitted`, `approved`, `published`.
    pub workflow: String,
    /// The version the change was decided from; another version now is a 409.
    pub version: Option<i64>,
}

/// `POST /api/v1/interventions/{id}/workflow`: submit (an editor of the owning organisation,
/// or a coordinator), return, approve, publish, unpublish (a coordinator). A record changed
/// meanwhile (its version or state differs) is a 409 with the current state; nothing written.
pub async fn set_workflow(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(q): Query<LangParam>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let l = lang(&headers, q.lang.as_deref());
    let id = parse_id(&raw)?;
    let who = principal(identity);
    let Principal::Person(caller) = &who else {
        return Err(refused(Decision::SignIn, "change an intervention's review state"));
    };
    let d = may_edit_some(&who);
    if !d.allowed() {
        return Err(refused(d, "change an intervention's review state"));
    }
    let input: WorkflowIn = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(record)", Problem::Syntax(format!("expected {{\"workflow\": ...}}: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let Some(to) = Workflow::parse(&input.workflow) else {
        let allowed = Workflow::ALL.iter().map(|w| w.as_str().to_owned()).collect();
        let err = FieldError::new("workflow", Problem::NotOneOf { value: input.workflow.clone(), allowed });
        return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
    };
    let scope = ReadScope::of(&who);
    let Some(current) = state.pool.run(move |s| s.intervention(id, scope)).await? else {
        return Err(not_found(&raw));
    };
    if let Some(v) = input.version
        && v != current.version
    {
        return Ok(conflict(&current.workflow, current.version, l));
    }
    let decision = match may_move(&who, current.organisation_id, current.workflow, to) {
        Ok(d) => d,
        Err(e) => return Ok(invalid(StatusCode::CONFLICT, &[e], l)),
    };
    if !decision.allowed() {
        return Err(refused(decision, &format!("move this intervention from {} to {to}", current.workflow)));
    }
    let actor = Actor::of(caller);
    let from = current.workflow;
    match state.pool.run(move |s| s.move_intervention(&actor, id, from, to, now())).await? {
        Moved::Done(r) => Ok(Json(*r).into_response()),
        Moved::NotFound => Err(not_found(&raw)),
        Moved::Conflict { workflow, version } => Ok(conflict(&workflow, version, l)),
    }
}

fn conflict(workflow: &Workflow, version: i64, l: Lang) -> Response {
    let detail = match l {
        Lang::En => format!("the intervention changed meanwhile: it is {workflow}, version {version}; nothing written"),
        Lang::Es => {
            format!("la intervención cambió entretanto: está en {workflow}, versión {version}; no se escribió nada")
        }
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": detail,
        "workflow": workflow.as_str(),
        "version": version,
    });
    let mut r = (StatusCode::CONFLICT, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

//! Interventions entered in Senda through the JSON API (issue 18, item 1):
//!
//! - `GET /api/v1/interventions` (`instrument`, `workflow`, `organisation`, `country`, `limit`)
//! - `POST /api/v1/interventions` (a record as JSON; saved as a draft)
//! - `GET /api/v1/interventions/{id}`
//! - `POST /api/v1/interventions/{id}/workflow` (`{"workflow": "submitted", "version": 1}`)
//! - `PUT /api/v1/interventions/{id}` (the whole record as JSON, with `If-Match: "N"`, the
//!   version it was read at: `GET /{id}` answers it as `ETag`)
//!
//! **No lost updates**: an edit names the version it started from in `If-Match` (required:
//! 428 without it). If the record moved on meanwhile (another edit, a workflow change), the
//! answer is 409 problem+json with the current `version`, its `workflow` and the `current`
//! record (as the caller may see it), and nothing is written. The edit is allowed by
//! `may_edit` for the record's owner and state and, when the owner changes, for the new owner.
//!
//! Fields marked not for publication are withheld (and listed in `withheld`) everywhere but a
//! single read by someone who may edit or review the record (`Sight`).
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
use senda_core::accounts::{Caller, Decision, Principal, ReadScope};
use senda_core::intervention::{
    Context, FieldError, Instrument, Intervention, Invalid, Lang, Problem, Sight, Workflow, may_edit, may_edit_some,
    may_move, parse_value,
};
use senda_store::accounts::Actor;
use senda_store::interventions::{InterventionFilter, InterventionRecord, Moved, Updated};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type St = State<Arc<AppState>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The reader's language: `?lang=`, else `Accept-Language`, else English.
pub(crate) fn lang(headers: &HeaderMap, lang: Option<&str>) -> Lang {
    let es = match lang.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => l.to_ascii_lowercase().starts_with("es"),
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("es")),
    };
    if es { Lang::Es } else { Lang::En }
}

pub(crate) fn principal(identity: Option<axum::Extension<Identity>>) -> Principal {
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

pub(crate) fn field_problems(errors: &[FieldError], l: Lang) -> Vec<FieldProblem> {
    errors.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message(l) }).collect()
}

/// A problem+json answer with every field's problem in `errors`.
pub(crate) fn invalid(status: StatusCode, errors: &[FieldError], l: Lang) -> Response {
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

/// The caller of a write that needs a person whose role may edit records of some organisation
/// (interventions, contributions, reports), with the principal; otherwise the refusal (401 to
/// sign in, 403 for a role that may not `what`).
pub(crate) fn editor(identity: Option<axum::Extension<Identity>>, what: &str) -> Result<(Principal, Caller), ApiError> {
    let who = principal(identity);
    let Principal::Person(caller) = &who else {
        return Err(refused(Decision::SignIn, what));
    };
    let caller = caller.clone();
    let d = may_edit_some(&who);
    if !d.allowed() {
        return Err(refused(d, what));
    }
    Ok((who, caller))
}

pub(crate) fn refused(d: Decision, what: &str) -> ApiError {
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
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(crate) fn bad(param: &str, message: String) -> ApiError {
    ApiError(WebError::BadRequest(format!("{param}: {message}")))
}

/// `GET /api/v1/interventions`: the interventions the caller may see, newest first (fields
/// marked not for publication withheld, named in `withheld`).
#[utoipa::path(get, path = "/interventions", params(ListParams),
    responses((status = 200, description = "Interventions (senda_store::interventions::InterventionRecord)", body = Vec<Object>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json")))]
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

/// `GET /api/v1/interventions/{id}`: one record, with its version as `ETag`; the fields marked
/// not for publication only for who may edit or review it.
#[utoipa::path(get, path = "/interventions/{id}", params(("id" = i64, Path, description = "Intervention id")),
    responses((status = 200, description = "The record (senda_store::interventions::InterventionRecord)", body = Object,
            headers(("ETag" = String, description = "The record's version, quoted: send it back in If-Match"))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&raw)?;
    let who = principal(identity);
    let (scope, sight) = (ReadScope::of(&who), Sight::of(&who));
    match state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? {
        Some(r) => {
            let etag = etag(r.version);
            let mut resp = Json(r).into_response();
            if let Ok(v) = HeaderValue::from_str(&etag) {
                resp.headers_mut().insert(header::ETAG, v);
            }
            Ok(resp)
        }
        None => Err(not_found(&raw)),
    }
}

/// The `ETag` of a record's version: `"3"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` names (`"3"`, `W/"3"` or `3`).
fn if_match(headers: &HeaderMap) -> Option<Result<i64, String>> {
    let raw = headers.get(header::IF_MATCH)?;
    let text = raw.to_str().unwrap_or_default().trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    Some(bare.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| text.to_owned()))
}

/// The checking context of the server's strategies and departments.
pub(crate) fn check(state: &AppState, value: &serde_json::Value) -> Result<Intervention, Invalid> {
    let ctx = Context {
        strategies: state.strategies.iter().map(|s| &**s).collect(),
        admin1: senda_stats::countries::canonical_admin1,
    };
    parse_value(value, &ctx)
}

/// `PUT /api/v1/interventions/{id}`: replaces the record's content (its workflow state stays),
/// if it is still at the version `If-Match` names (`"3"`, from the `ETag` of a read). Without
/// `If-Match`: 428. Changed meanwhile: 409 with `version`, `workflow` and `current`; nothing
/// written. Every problem of the record: 400 with `errors` (field and message).
#[utoipa::path(put, path = "/interventions/{id}",
    params(("id" = i64, Path, description = "Intervention id"),
        ("If-Match" = String, Header, description = "The version the edit starts from, as the ETag of a read: \"3\""),
        ("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "The whole record, as POST /interventions takes it"),
    security(("bearer" = [])),
    responses((status = 200, description = "Saved: id, warnings, record", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn update(
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
        return Err(refused(Decision::SignIn, "edit interventions"));
    };
    let d = may_edit_some(&who);
    if !d.allowed() {
        return Err(refused(d, "edit interventions"));
    }
    let expected = match if_match(&headers) {
        None => {
            let err = FieldError::new("If-Match", Problem::Missing);
            return Ok(invalid(StatusCode::PRECONDITION_REQUIRED, &[err], l));
        }
        Some(Err(v)) => {
            let err = FieldError::new("If-Match", Problem::NotWholeNumber(v));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
        Some(Ok(v)) => v,
    };
    let (scope, sight) = (ReadScope::of(&who), Sight::of(&who));
    let Some(current) = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await? else {
        return Err(not_found(&raw));
    };
    let decision = may_edit(&who, current.organisation_id, current.workflow);
    if !decision.allowed() {
        return Err(refused(decision, &format!("edit this intervention while it is {}", current.workflow)));
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let i = match check(&state, &value) {
        Ok(i) => i,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &e.0, l)),
    };
    if i.organisation != current.organisation_id {
        let d = may_edit(&who, i.organisation, current.workflow);
        if !d.allowed() {
            return Err(refused(d, &format!("move records to organisation {}", i.organisation)));
        }
    }
    let actor = Actor::of(caller);
    let org = i.organisation;
    let out = state
        .pool
        .run(move |s| {
            if s.organisation(org)?.is_none() {
                return Ok(None);
            }
            Ok(Some(s.update_intervention(&actor, id, expected, &i, now())?))
        })
        .await?;
    match out {
        None => {
            let err = FieldError::new("organisation", Problem::UnknownOrganisation(org));
            Ok(invalid(StatusCode::BAD_REQUEST, &[err], l))
        }
        Some(Updated::NotFound) => Err(not_found(&raw)),
        Some(Updated::Conflict(_)) => {
            // Shown as the caller may see it now (it may have moved to another organisation).
            let now_seen = state.pool.run(move |s| s.intervention_seen(id, scope, sight)).await?;
            match now_seen {
                Some(r) => Ok(edit_conflict(&r, l)),
                None => Err(not_found(&raw)),
            }
        }
        Some(Updated::Done(r, warnings)) => {
            let etag = etag(r.version);
            let dto = CreatedDto { id, warnings: field_problems(&warnings, l), record: Some(*r) };
            let mut resp = Json(dto).into_response();
            if let Ok(v) = HeaderValue::from_str(&etag) {
                resp.headers_mut().insert(header::ETAG, v);
            }
            Ok(resp)
        }
    }
}

/// 409 for an edit of a stale version: the current version, state and record.
fn edit_conflict(current: &InterventionRecord, l: Lang) -> Response {
    let detail = match l {
        Lang::En => format!(
            "the intervention changed meanwhile: it is at version {} ({}); nothing written. Read it again and redo the edit from it",
            current.version, current.workflow
        ),
        Lang::Es => format!(
            "la intervención cambió entretanto: está en la versión {} ({}); no se escribió nada. Léala de nuevo y rehaga el cambio a partir de ella",
            current.version, current.workflow
        ),
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": detail,
        "workflow": current.workflow.as_str(),
        "version": current.version,
        "current": current,
    });
    let mut r = (StatusCode::CONFLICT, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Ok(v) = HeaderValue::from_str(&etag(current.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
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
#[utoipa::path(post, path = "/interventions",
    params(("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "The record (see README, Entering interventions)"),
    security(("bearer" = [])),
    responses((status = 201, description = "Saved as a draft: id, warnings, record", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    headers: HeaderMap,
    Query(q): Query<LangParam>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let l = lang(&headers, q.lang.as_deref());
    let (who, caller) = editor(identity, "enter interventions")?;
    let caller = &caller;
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let i = match check(&state, &value) {
        Ok(i) => i,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &e.0, l)),
    };
    let decision = i.may_create(&who);
    if !decision.allowed() {
        return Err(refused(decision, &format!("enter records of organisation {}", i.organisation)));
    }
    let actor = Actor::of(caller);
    let (scope, sight) = (ReadScope::of(&who), Sight::of(&who));
    let org = i.organisation;
    let out = state
        .pool
        .run(move |s| {
            if s.organisation(org)?.is_none() {
                return Ok(None);
            }
            let c = s.create_intervention(&actor, &i, now())?;
            let r = s.intervention_seen(c.id, scope, sight)?;
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
#[utoipa::path(post, path = "/interventions/{id}/workflow",
    params(("id" = i64, Path, description = "Intervention id"),
        ("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "{\"workflow\": \"submitted\", \"version\": 1}"),
    security(("bearer" = [])),
    responses((status = 200, description = "The record as it is now", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json")))]
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

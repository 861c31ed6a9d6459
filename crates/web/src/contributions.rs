//! Partner contributions through the JSON API (issue 18, item 2):
//!
//! - `GET /api/v1/contributions` (`line_of_effort`, `country`, `limit`): the contributions
//!   the caller may see (the store applies its `ReadScope` in SQL: the public sees published
//!   ones only, a partner editor also its own organisation's), latest first;
//! - `POST /api/v1/contributions`: a record as JSON, checked by
//!   `senda_core::contribution::parse_value` (the same function as `senda contribution add`),
//!   saved unpublished; the policy decides for the record itself
//!   (`Contribution::may_record`: a partner editor for its own organisation, a coordinator for
//!   any);
//! - `POST /api/v1/contributions/{id}/publish` (`{"published": true}`): a coordinator's
//!   (`senda_core::contribution::may_publish`).
//!
//! Problems are `application/problem+json` (400) with an `errors` list (field and message),
//! in Spanish with `?lang=es` or `Accept-Language: es`. A contribution to an intervention the
//! caller may not see is refused as an unknown intervention.

use crate::auth::Identity;
use crate::error::{ApiError, WebError};
use crate::interventions::{LangParam, bad, given, invalid, lang, principal, refused};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use senda_core::accounts::{Decision, Principal, ReadScope};
use senda_core::contribution::{Context, may_publish, parse_value};
use senda_core::intervention::{FieldError, Problem};
use senda_store::StoreError;
use senda_store::accounts::Actor;
use senda_store::contributions::{ContributionFilter, ContributionRecord, Published};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type St = State<Arc<AppState>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parameters of `GET /api/v1/contributions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A line of effort id (`LOE5`): contributions to it, or to an intervention serving it.
    pub line_of_effort: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<String>,
}

/// `GET /api/v1/contributions`: the contributions the caller may see, latest first.
#[utoipa::path(get, path = "/contributions", params(ListParams),
    responses((status = 200, description = "Contributions (senda_store::contributions::ContributionRecord)", body = Vec<Object>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<ContributionRecord>>, ApiError> {
    let scope = ReadScope::of(&principal(identity));
    let line_of_effort = match given(&p.line_of_effort) {
        None => None,
        Some(l) => {
            let known = state.strategies.iter().any(|s| s.lines_of_effort.iter().any(|x| x.id.eq_ignore_ascii_case(l)));
            if !known {
                return Err(bad("line_of_effort", format!("{l:?} is not a line of effort of any strategy")));
            }
            Some(l.to_ascii_uppercase())
        }
    };
    let filter = ContributionFilter {
        line_of_effort,
        country: given(&p.country)
            .map(|s| {
                senda_core::CountryCode::parse(s)
                    .map_err(|_| bad("country", format!("{s:?} is not an ISO 3166-1 alpha-2 code")))
            })
            .transpose()?,
        organisation_id: None,
        limit: match given(&p.limit) {
            None => 100,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("limit", format!("{s:?}: a whole number from 1 to 1000")))?,
        },
    };
    Ok(Json(state.pool.run(move |s| s.contributions(&filter, scope)).await?))
}

/// What `POST /api/v1/contributions` answers (201).
#[derive(Debug, Serialize)]
pub struct CreatedDto {
    /// The new id.
    pub id: i64,
    /// The record as stored.
    pub record: Option<ContributionRecord>,
}

/// `POST /api/v1/contributions`: checks the record (every problem named, nothing saved),
/// asks the policy whether the caller may record a contribution of that organisation, saves
/// it unpublished.
#[utoipa::path(post, path = "/contributions",
    params(("lang" = Option<String>, Query, description = "Language of messages: en or es")),
    request_body(content = Object, description = "The contribution (see README, Partner contributions)"),
    security(("bearer" = [])),
    responses((status = 201, description = "Saved, unpublished: id, record", body = Object),
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
    let (who, caller) = crate::interventions::editor(identity, "record contributions")?;
    let caller = &caller;
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")));
            return Ok(invalid(StatusCode::BAD_REQUEST, &[err], l));
        }
    };
    let ctx = Context { strategies: state.strategies.iter().map(|s| &**s).collect() };
    let c = match parse_value(&value, &ctx) {
        Ok(c) => c,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &e.0, l)),
    };
    let decision = c.may_record(&who);
    if !decision.allowed() {
        return Err(refused(decision, &format!("record contributions of organisation {}", c.organisation)));
    }
    let actor = Actor::of(caller);
    let scope = ReadScope::of(&who);
    let target = c.intervention;
    let out = state
        .pool
        .run(move |s| {
            // An intervention the caller may not see is, to it, one that does not exist.
            if let Some(i) = target
                && s.intervention(i, scope)?.is_none()
            {
                return Ok(Err(FieldError::new("intervention", Problem::UnknownIntervention(i))));
            }
            match s.create_contribution(&actor, &c, now()) {
                Ok(id) => Ok(Ok((id, s.contribution(id, scope)?))),
                Err(StoreError::Account { field: "organisation", .. }) => {
                    Ok(Err(FieldError::new("organisation", Problem::UnknownOrganisation(c.organisation))))
                }
                Err(StoreError::Account { field: "intervention", .. }) => Ok(Err(FieldError::new(
                    "intervention",
                    Problem::UnknownIntervention(c.intervention.unwrap_or_default()),
                ))),
                Err(e) => Err(e),
            }
        })
        .await?;
    let (id, record) = match out {
        Ok(v) => v,
        Err(e) => return Ok(invalid(StatusCode::BAD_REQUEST, &[e], l)),
    };
    let mut r = (StatusCode::CREATED, Json(CreatedDto { id, record })).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/contributions?id={id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// The body of `POST /api/v1/contributions/{id}/publish`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishIn {
    /// `true` to publish, `false` to take it back.
    pub published: bool,
}

/// `POST /api/v1/contributions/{id}/publish`: a coordinator publishes (or unpublishes) a
/// contribution. 404 for one the caller does not see.
#[utoipa::path(post, path = "/contributions/{id}/publish",
    params(("id" = i64, Path, description = "Contribution id")),
    request_body(content = Object, description = "{\"published\": true}"),
    security(("bearer" = [])),
    responses((status = 200, description = "The record as it is now", body = Object),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn publish(
    State(state): St,
    identity: Option<axum::Extension<Identity>>,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let not_found = || ApiError(WebError::NotFound(format!("contribution {raw}")));
    let id = raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(not_found)?;
    let who = principal(identity);
    let Principal::Person(caller) = &who else {
        return Err(refused(Decision::SignIn, "publish contributions"));
    };
    let input: PublishIn = serde_json::from_slice(&body)
        .map_err(|e| ApiError(WebError::BadRequest(format!("expected {{\"published\": true|false}}: {e}"))))?;
    let scope = ReadScope::of(&who);
    let Some(current) = state.pool.run(move |s| s.contribution(id, scope)).await? else {
        return Err(not_found());
    };
    let d = may_publish(&who, current.organisation_id, current.published);
    if !d.allowed() {
        return Err(refused(d, "publish contributions"));
    }
    let actor = Actor::of(caller);
    match state.pool.run(move |s| s.publish_contribution(&actor, id, input.published, now())).await? {
        Published::Done(r) | Published::Unchanged(r) => Ok(Json(*r).into_response()),
        Published::NotFound => Err(not_found()),
    }
}

//! The API's indicator, statistics and results endpoints (`/indicators`, `/statistics`,
//! `/statistics/{series}`, `POST /results`); their routes are in `api.rs`.

use super::*;

/// Which indicators to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// Strategy id (default cmms-2021).
    #[param(pattern = "^(cmms-2021|rc-2021)?$")]
    pub strategy: Option<String>,
    /// One country (ISO 3166-1 alpha-2); default: the strategy's focus countries together.
    #[param(pattern = "^([A-Za-z]{2})?$")]
    pub country: Option<String>,
    /// One department (ISO 3166-2, e.g. GT-GU).
    pub department: Option<String>,
    /// Only this line of effort.
    pub line_of_effort: Option<String>,
}

/// Progress of the strategy's indicators: for result indicators, the baseline, target and
/// latest actual (values as exact decimal strings in the indicator's unit, periods as
/// `2023-10`, `2023-Q4`, `FY2024`), percent of target and status; for context indicators, the
/// statistic per month (`progress.actuals`) and per fiscal year (`by_fiscal_year`).
#[utoipa::path(get, path = "/indicators", params(IndicatorQuery),
    responses((status = 200, description = "Indicator views (see senda_store::IndicatorView)", body = Vec<Object>),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn indicators(
    State(state): St,
    Query(q): Query<IndicatorQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let st = Arc::clone(pick_strategy(&state, &q.strategy)?);
    // An empty parameter (`country=`) is no parameter, as on every endpoint.
    let q = IndicatorQuery {
        country: given(&q.country),
        department: given(&q.department),
        line_of_effort: given(&q.line_of_effort),
        ..q
    };
    let scope = match (&q.country, &q.department) {
        (Some(_), Some(_)) => return Err(WebError::BadRequest("give country or department, not both".into()).into()),
        (None, Some(d)) => match department(d) {
            Some(code) => senda_core::indicator::Scope::Admin1(code),
            None => {
                return Err(WebError::BadRequest(format!(
                    "department: {d:?} is not a department code Senda knows (ISO 3166-2, e.g. GT-16)"
                ))
                .into());
            }
        },
        (Some(c), None) => match senda_core::CountryCode::parse(c) {
            Ok(cc) => senda_core::indicator::Scope::Countries(vec![cc]),
            Err(_) => {
                return Err(WebError::BadRequest(format!("country: {c:?} is not an ISO 3166-1 alpha-2 code")).into());
            }
        },
        (None, None) => senda_core::indicator::Scope::Countries(st.focus_countries.clone()),
    };
    if let Some(l) = q.line_of_effort.as_ref().filter(|l| st.line_of_effort(l).is_none()) {
        return Err(WebError::BadRequest(format!("line_of_effort: {l:?} is not a line of effort of {}", st.id)).into());
    }
    let stamp = state.interventions_stamp().await?;
    let key = format!("api-indicators|{}|{scope:?}|{stamp}", st.id);
    let views = state.cached(key, move |s| senda_store::indicator_views(s, &st, &scope)).await?;
    let list: Vec<&senda_store::IndicatorView> =
        views.iter().filter(|v| q.line_of_effort.as_ref().is_none_or(|l| &v.def.line_of_effort == l)).collect();
    Ok(Json(serde_json::to_value(list).map_err(|e| WebError::Internal(e.to_string()))?))
}

/// The canonical ISO 3166-2 code of a department code (`GT-16`, or a former `GT-AV`), checked
/// against the department lists of GT, HN and SV; `None` when it is not a department.
fn department(raw: &str) -> Option<String> {
    let p = senda_core::Place::parse(raw).ok()?;
    p.admin1()?;
    senda_stats::countries::canonical_admin1(p.country()?, raw)
}

/// The statistic series held (code, name, unit, source, number of values, period range,
/// countries).
#[utoipa::path(get, path = "/statistics", responses((status = 200, description = "Series", body = Vec<Object>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn statistics(State(state): St) -> Result<Json<serde_json::Value>, ApiError> {
    let mut series = state.pool.run(|s| s.stat_series()).await?;
    // An HXL file's series name the file as their source: its name, never the server's folders.
    for s in &mut series {
        s.series.source = crate::paths::shown(&s.series.source).to_owned();
    }
    Ok(Json(serde_json::to_value(series).map_err(|e| WebError::Internal(e.to_string()))?))
}

/// Which statistic values to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticQuery {
    /// One country (ISO 3166-1 alpha-2).
    #[param(pattern = "^([A-Za-z]{2})?$")]
    pub country: Option<String>,
}

/// The values of one statistic series: place, period, disaggregation, value (exact decimal
/// string) and origin (file:row).
#[utoipa::path(get, path = "/statistics/{series}", params(("series" = String, Path, description = "Series code"), StatisticQuery),
    responses((status = 200, description = "Values", body = Vec<Object>),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn statistic_values(
    State(state): St,
    Path(series): Path<String>,
    Query(q): Query<StatisticQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let country = match given(&q.country) {
        Some(c) => Some(
            senda_core::CountryCode::parse(&c)
                .map_err(|_| WebError::BadRequest(format!("country: {c:?} is not an ISO 3166-1 alpha-2 code")))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let s2 = series.clone();
    let (known, rows) = state
        .pool
        .run(move |s| {
            let known = s.stat_series()?.iter().any(|x| x.series.code == s2);
            let rows = s.observations(&senda_store::ObservationFilter {
                series: vec![s2],
                country,
                kinds: vec![senda_core::ValueKind::Observed],
            })?;
            Ok((known, rows))
        })
        .await?;
    if !known {
        return Err(WebError::NotFound(format!("statistic series {series:?} (see /api/v1/statistics)")).into());
    }
    // The file's name and row, never the server's folders.
    let rows: Vec<_> = rows
        .into_iter()
        .map(|mut r| {
            r.origin = crate::paths::origin(&r.origin);
            r
        })
        .collect();
    Ok(Json(serde_json::to_value(rows).map_err(|e| WebError::Internal(e.to_string()))?))
}

/// One indicator value sent to `POST /results`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultValueIn {
    /// Indicator code of the strategy (a result indicator).
    pub indicator: String,
    /// Place: country `GT` or department `GT-GU`.
    pub place: String,
    /// Period: `2023-10`, `2023-Q4`, `FY2024`, `2023`.
    pub period: String,
    /// `baseline`, `target` or `actual`.
    #[schema(pattern = "^(baseline|target|actual)$")]
    pub kind: String,
    /// The value as a decimal string (`"1234.5"`), in the indicator's unit.
    pub value: String,
    /// Ratio indicators: the denominator as a decimal string.
    pub denominator: Option<String>,
    /// Disaggregation, e.g. `{"sex": "female"}`.
    #[serde(default)]
    pub disaggregation: BTreeMap<String, String>,
}

/// A batch of indicator values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsIn {
    /// Strategy id (default cmms-2021).
    pub strategy: Option<String>,
    /// The values (at most 1,000; the request body is limited to 64 KiB).
    pub values: Vec<ResultValueIn>,
}

/// What a results upload changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsOut {
    /// Values new in the database.
    pub inserted: u64,
    /// Values changed.
    pub updated: u64,
    /// Values already stored with the same value.
    pub unchanged: u64,
    /// Values of a file or an earlier upload that were replaced, one line each.
    pub replaced: Vec<String>,
}

/// Adds or replaces indicator values (baselines, targets, actuals). Needs
/// `Authorization: Bearer <token>` where the token is the `SENDA_API_TOKEN` the server was
/// started with; without that variable, writes are disabled (403). The batch is all or
/// nothing: one invalid value refuses it (400 naming `values[i].field`).
#[utoipa::path(post, path = "/results", request_body = ResultsIn, security(("bearer" = [])),
    responses((status = 200, body = ResultsOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn post_results(
    State(state): St,
    identity: Option<axum::Extension<crate::auth::Identity>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ResultsOut>, ApiError> {
    use axum::http::StatusCode;
    // A signed-in caller (an API token or a session) got here through the policy
    // (crate::auth::identify); otherwise only the legacy SENDA_API_TOKEN writes.
    let caller = identity.and_then(|axum::Extension(i)| match i.principal {
        senda_core::accounts::Principal::Person(c) => Some(c),
        senda_core::accounts::Principal::Anonymous => None,
    });
    let signed_in = caller.is_some();
    // Who the audit trail records: the person (or their token), or the shared legacy token.
    let actor = match &caller {
        Some(c) => senda_store::accounts::Actor::of(c),
        None => senda_store::accounts::Actor { label: "SENDA_API_TOKEN".into(), ..senda_store::accounts::Actor::cli() },
    };
    let legacy = if signed_in { None } else { state.write_token.clone() };
    let Some(token) = legacy.or_else(|| signed_in.then(String::new)) else {
        return Err(WebError::Denied(
            StatusCode::FORBIDDEN,
            "writes are disabled: start `senda serve` with SENDA_API_TOKEN set (at least 16 characters)".into(),
        )
        .into());
    };
    // `Bearer` is a scheme name: case-insensitive (RFC 9110, 11.1).
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, t)| t.trim_start_matches(' '));
    // Constant-time comparison: the time taken does not tell how much of the token matched.
    let same = signed_in
        || given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(WebError::Denied(
            StatusCode::UNAUTHORIZED,
            "Authorization: Bearer <SENDA_API_TOKEN> required".into(),
        )
        .into());
    }
    let input: ResultsIn =
        serde_json::from_slice(&body).map_err(|e| WebError::BadRequest(format!("body: not a results batch: {e}")))?;
    let st = Arc::clone(pick_strategy(&state, &input.strategy)?);
    if input.values.len() > 1000 {
        return Err(WebError::BadRequest("values: at most 1000 per request".into()).into());
    }
    let mut obs = Vec::with_capacity(input.values.len());
    for (i, v) in input.values.iter().enumerate() {
        let bad = |field: &str, m: String| WebError::BadRequest(format!("values[{i}].{field}: {m}"));
        let def = st
            .indicator(&v.indicator)
            .ok_or_else(|| bad("indicator", format!("{:?} is not an indicator of {}", v.indicator, st.id)))?;
        if def.kind != senda_core::indicator::IndicatorKind::Result {
            return Err(bad("indicator", format!("{} is a context indicator, fed by statistics", def.code)).into());
        }
        let place = senda_core::Place::parse(&v.place).map_err(|e| bad("place", e.to_string()))?;
        let place = match (&place, place.country()) {
            (senda_core::Place::Country(_), _) => place,
            (senda_core::Place::Admin1 { .. }, Some(cc)) => match department(&v.place) {
                Some(code) => senda_core::Place::Admin1 { country: cc, code },
                None => return Err(bad("place", format!("{:?} is not a department Senda knows", v.place)).into()),
            },
            _ => return Err(bad("place", "a country (GT) or a department (GT-16)".into()).into()),
        };
        let period = senda_core::Period::parse(&v.period).map_err(|e| bad("period", e.to_string()))?;
        let kind = senda_core::ValueKind::parse(&v.kind)
            .filter(|k| *k != senda_core::ValueKind::Observed)
            .ok_or_else(|| bad("kind", format!("{:?}: expected baseline, target or actual", v.kind)))?;
        // The same number rule as files (docs/indicators.md): `1234.5`, `1,234`; never `1e5`.
        let value = senda_stats::number::parse_number(&v.value).map_err(|e| bad("value", e.to_string()))?;
        // The rules files follow too (`IndicatorDef::check_value`, `check_denominator`).
        def.check_value(value).map_err(|m| bad("value", m))?;
        let denominator = match &v.denominator {
            Some(d) => {
                let d2 = senda_stats::number::parse_number(d).map_err(|e| bad("denominator", e.to_string()))?;
                senda_core::indicator::IndicatorDef::check_denominator(d2).map_err(|m| bad("denominator", m))?;
                Some(d2)
            }
            None => None,
        };
        let ratio = def.over_places == senda_core::indicator::Aggregation::RatioOfSums;
        if ratio && denominator.is_none() {
            return Err(bad("denominator", format!("{} is a ratio: the denominator is required", def.code)).into());
        }
        def.check_disaggregation(&v.disaggregation).map_err(|m| bad("disaggregation", m))?;
        obs.push((
            senda_core::Observation {
                series: def.code.clone(),
                place,
                period,
                disaggregation: v.disaggregation.clone(),
                kind,
                value,
                denominator: if ratio { denominator } else { None },
                row: i as u64 + 1,
            },
            def.clone(),
        ));
    }
    // One value per key in a batch: a repeated key would be counted as an update of a value
    // that was never stored.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (o, _)) in obs.iter().enumerate() {
        let key =
            serde_json::json!([o.series, o.place.to_string(), o.period.to_string(), o.disaggregation, o.kind.as_str()])
                .to_string();
        if let Some(first) = seen.insert(key, i) {
            return Err(WebError::BadRequest(format!(
                "values[{i}]: the same indicator, place, period, kind and disaggregation as values[{first}] (send each value once)"
            ))
            .into());
        }
    }
    let st_id = st.id.clone();
    let out = state
        .pool
        .write(move |s| {
            let mut with_ids = Vec::with_capacity(obs.len());
            for (o, def) in obs {
                let v = s.ensure_indicator_definition(&st_id, &def)?;
                with_ids.push((o, Some(v.id)));
            }
            let out = s.import_values(&senda_store::ValueBatch {
                dataset: "results",
                path: None,
                format: "api".into(),
                content_hash: String::new(),
                series: vec![],
                observations: with_ids,
                report: serde_json::Value::Null,
                // The store records `results.upload` in the batch's transaction.
                actor: actor.clone(),
                audit_record: format!("values:results:{st_id}"),
            })?;
            Ok(out)
        })
        .await?;
    Ok(Json(ResultsOut {
        inserted: out.inserted,
        updated: out.updated,
        unchanged: out.unchanged,
        replaced: out.replaced.iter().map(|d| d.message.clone()).collect(),
    }))
}

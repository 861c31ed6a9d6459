//! The JSON API under `/api/v1`. Same data and filters as the pages (see [`crate::query`]);
//! money as exact decimal strings in U.S. dollars; errors as `application/problem+json`.
//! The OpenAPI 3.1 document is generated from these handlers and types (utoipa) and served at
//! `/api/v1/openapi.json`.

use crate::error::{ApiError, Problem, WebError};
use crate::query::{RawQuery, encode_cursor};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use senda_core::report::{Dimension, Report, Row, Totals};
use senda_core::strategy::{DEFAULT_STRATEGY, Strategy};
use senda_store::ActivityRow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

mod values;
pub use values::{IndicatorQuery, ResultValueIn, ResultsIn, ResultsOut, StatisticQuery};

type St = State<Arc<AppState>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

/// The API routes (nested under `/api/v1`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/strategies", get(strategies))
        .route("/strategies/{id}", get(strategy))
        .route("/activities", get(activities))
        .route("/activities/{*id}", get(activity))
        .route("/report", get(report))
        .route("/organisations", get(organisations))
        .route("/imports", get(imports))
        .route("/imports/{id}", get(import_run))
        .route("/indicators", get(values::indicators))
        .route("/statistics", get(values::statistics))
        .route("/statistics/{series}", get(values::statistic_values))
        .route("/results", axum::routing::post(values::post_results))
        // Interventions entered in Senda (issue 18): crate::interventions.
        .route("/interventions", get(crate::interventions::list).post(crate::interventions::create))
        .route("/interventions/{id}", get(crate::interventions::show).put(crate::interventions::update))
        .route("/interventions/{id}/workflow", axum::routing::post(crate::interventions::set_workflow))
        // Partner contributions (issue 18, item 2): crate::contributions.
        .route("/contributions", get(crate::contributions::list).post(crate::contributions::create))
        .route("/contributions/{id}/publish", axum::routing::post(crate::contributions::publish))
        // The reporting cycle (issue 18, item 5): crate::reports_api.
        .route("/reports", get(crate::reports_api::list).post(crate::reports_api::create))
        .route("/reports/{id}/review", axum::routing::post(crate::reports_api::review))
        .fallback(|| async { ApiError(WebError::NotFound("no such API endpoint (see /api/v1/openapi.json)".into())) })
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Senda API",
        description = "A strategy's portfolio (lines of effort, activities, money by country and fiscal year) from imported IATI data. Money: exact decimal strings, U.S. dollars unless a currency is named. Years: U.S. fiscal years (FY2023 = 1 Oct 2022 to 30 Sep 2023).",
        version = "1"
    ),
    paths(
        strategies,
        strategy,
        activities,
        activity,
        report,
        organisations,
        imports,
        import_run,
        values::indicators,
        values::statistics,
        values::statistic_values,
        values::post_results,
        crate::interventions::list,
        crate::interventions::create,
        crate::interventions::show,
        crate::interventions::update,
        crate::interventions::set_workflow,
        crate::contributions::list,
        crate::contributions::create,
        crate::contributions::publish,
        crate::reports_api::list,
        crate::reports_api::create,
        crate::reports_api::review
    ),
    components(schemas(
        Problem,
        StrategyDto,
        LineOfEffortDto,
        InstrumentDto,
        ActivityItem,
        ActivityPage,
        ActivityDetailDto,
        EvidenceDto,
        OverrideDto,
        OverrideEventDto,
        ReportDto,
        ReportRowDto,
        ResultValueIn,
        ResultsIn,
        ResultsOut,
        TotalsDto,
        OrganisationDto,
        RunDto
    )),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

/// The write token (`SENDA_API_TOKEN`) as an HTTP bearer security scheme.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The SENDA_API_TOKEN the server was started with (writes only)"))
            .build();
        doc.components.get_or_insert_with(Default::default).add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document as pretty JSON (what `/api/v1/openapi.json` serves; snapshot-tested).
pub fn openapi_document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc.to_pretty_json().unwrap_or_default()
}

async fn openapi_json() -> Response {
    let mut r = openapi_document().into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    r
}

/// A parameter's value, `None` when absent or empty (`country=` is no filter, everywhere).
fn given(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn pick_strategy<'a>(state: &'a AppState, s: &Option<String>) -> Result<&'a Arc<Strategy>, WebError> {
    state.strategy(s.as_deref().filter(|x| !x.is_empty()).unwrap_or(DEFAULT_STRATEGY))
}

/// A line of effort.
#[derive(Serialize, ToSchema)]
pub struct LineOfEffortDto {
    /// Id, e.g. `LOE5`.
    pub id: String,
    /// Title (English).
    pub title: String,
    /// Title (Spanish).
    pub title_es: Option<String>,
    /// Scope note (English).
    pub scope: String,
    /// Scope note (Spanish).
    pub scope_es: Option<String>,
}

/// An instrument of the strategy.
#[derive(Serialize, ToSchema)]
pub struct InstrumentDto {
    /// Id, e.g. `foreign_assistance`.
    pub id: String,
    /// Title (English).
    pub title: String,
    /// Title (Spanish).
    pub title_es: Option<String>,
}

/// A strategy and its lines of effort.
#[derive(Serialize, ToSchema)]
pub struct StrategyDto {
    /// Id, e.g. `cmms-2021`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Short title, e.g. `CMMS`.
    pub short_title: String,
    /// Publication date (ISO 8601).
    pub published: String,
    /// Focus countries (ISO 3166-1 alpha-2).
    pub focus_countries: Vec<String>,
    /// Lines of effort in the strategy's order.
    pub lines_of_effort: Vec<LineOfEffortDto>,
    /// Instruments.
    pub instruments: Vec<InstrumentDto>,
}

fn strategy_dto(s: &Strategy) -> StrategyDto {
    StrategyDto {
        id: s.id.clone(),
        title: s.title.clone(),
        short_title: s.short_title.clone(),
        published: s.published.clone(),
        focus_countries: s.focus_countries.iter().map(|c| c.as_str().to_owned()).collect(),
        lines_of_effort: s
            .lines_of_effort
            .iter()
            .map(|l| LineOfEffortDto {
                id: l.id.clone(),
                title: l.title.clone(),
                title_es: l.title_es.clone(),
                scope: l.scope.clone(),
                scope_es: l.scope_es.clone(),
            })
            .collect(),
        instruments: s
            .instruments
            .iter()
            .map(|i| InstrumentDto { id: i.id.clone(), title: i.title.clone(), title_es: i.title_es.clone() })
            .collect(),
    }
}

/// The built-in strategies.
#[utoipa::path(get, path = "/strategies", responses((status = 200, body = Vec<StrategyDto>), (status = 400, body = Problem, content_type = "application/problem+json")))]
async fn strategies(State(state): St) -> Json<Vec<StrategyDto>> {
    Json(state.strategies.iter().map(|s| strategy_dto(s)).collect())
}

/// One strategy.
#[utoipa::path(get, path = "/strategies/{id}", params(("id" = String, Path, description = "Strategy id")),
    responses((status = 200, body = StrategyDto), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn strategy(State(state): St, Path(id): Path<String>) -> ApiResult<StrategyDto> {
    Ok(Json(strategy_dto(state.strategy(&id)?)))
}

/// One activity of a list.
#[derive(Serialize, ToSchema)]
pub struct ActivityItem {
    /// `iati-identifier`.
    pub iati_identifier: String,
    /// `title/narrative` (English, else the default language).
    pub title: String,
    /// `reporting-org/narrative`.
    pub reporting_org: String,
    /// Countries (activity and transaction `recipient-country/@code`).
    pub countries: Vec<String>,
    /// Lines of effort after overrides (empty: not mapped).
    pub lines_of_effort: Vec<String>,
    /// An analyst's override decides the mapping.
    pub overridden: bool,
    /// `activity-status/@code`.
    pub status: String,
    /// Start date (actual, else planned), ISO 8601.
    pub start_date: String,
    /// End date (actual, else planned), ISO 8601.
    pub end_date: String,
    /// Sum of USD commitments (transaction type 2), exact decimal.
    pub commitments_usd: String,
    /// Sum of USD disbursements (type 3).
    pub disbursements_usd: String,
    /// Sum of USD expenditures (type 4).
    pub expenditures_usd: String,
    /// Synthetic (demo) data.
    pub synthetic: bool,
}

fn split(s: &str) -> Vec<String> {
    s.split(';').filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

impl From<&ActivityRow> for ActivityItem {
    fn from(r: &ActivityRow) -> Self {
        ActivityItem {
            iati_identifier: r.iati_identifier.clone(),
            title: r.title.clone(),
            reporting_org: r.reporting_org.clone(),
            countries: split(&r.countries),
            lines_of_effort: split(&r.lines_of_effort),
            overridden: r.overridden,
            status: r.status.clone(),
            start_date: r.start_date.clone(),
            end_date: r.end_date.clone(),
            commitments_usd: r.commitments_usd.clone(),
            disbursements_usd: r.disbursements_usd.clone(),
            expenditures_usd: r.expenditures_usd.clone(),
            synthetic: r.synthetic,
        }
    }
}

/// A page of activities (keyset pagination).
#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    /// The rows.
    pub items: Vec<ActivityItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Activities matching the filters (all pages).
    pub total: u64,
}

/// Columns of the activities CSV (pages and `senda activities --format csv` use the same).
pub const CSV_COLUMNS: [&str; 16] = [
    "iati_identifier",
    "title",
    "reporting_org",
    "countries",
    "lines_of_effort",
    "overridden",
    "status",
    "start_date",
    "end_date",
    "commitments_usd",
    "disbursements_usd",
    "expenditures_usd",
    "synthetic",
    "commitments_usd_in_view",
    "disbursements_usd_in_view",
    "expenditures_usd_in_view",
];

/// A text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage
/// return first) gets a leading `'` (OWASP's advice for CSV injection). Money columns are
/// numbers and are written as they are.
pub fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() }
}

/// One CSV record in [`CSV_COLUMNS`] order. `in_view`: the activity's USD money in the view
/// (`senda_store::money_in_view`: the part a report of the same filters counts); none is 0.
pub fn csv_record(r: &ActivityRow, in_view: Option<&senda_core::report::Totals>) -> [String; 16] {
    let v = in_view.copied().unwrap_or_default();
    [
        csv_text(&r.iati_identifier),
        csv_text(&r.title),
        csv_text(&r.reporting_org),
        r.countries.clone(),
        r.lines_of_effort.clone(),
        r.overridden.to_string(),
        r.status.clone(),
        r.start_date.clone(),
        r.end_date.clone(),
        r.commitments_usd.clone(),
        r.disbursements_usd.clone(),
        r.expenditures_usd.clone(),
        r.synthetic.to_string(),
        v.commitments.to_string(),
        v.disbursements.to_string(),
        v.expenditures.to_string(),
    ]
}

/// Activities, filtered, sorted, one page at a time (`limit` up to 1,000).
#[utoipa::path(get, path = "/activities", params(RawQuery),
    responses((status = 200, body = ActivityPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn activities(State(state): St, Query(raw): Query<RawQuery>) -> ApiResult<ActivityPage> {
    let st = pick_strategy(&state, &raw.strategy)?;
    let sel = raw.selection(st)?.resolve_orgs(&state).await?;
    let sort = raw.sort()?;
    let limit = raw.limit(1000)?;
    let cursor = raw.cursor()?;
    let p = crate::list::page(&state, &sel, sort, cursor, limit).await?;
    let (rows, total) = (p.rows, p.total);
    let next_cursor = p.next.as_ref().map(encode_cursor);
    Ok(Json(ActivityPage { items: rows.iter().map(ActivityItem::from).collect(), next_cursor, total }))
}

/// Why a rule mapped the activity.
#[derive(Serialize, ToSchema)]
pub struct EvidenceDto {
    /// Line of effort.
    pub line_of_effort: String,
    /// Rule id (strategy file), or `override`.
    pub rule: String,
    /// Rule kind (`sector`, `keyword`, ...).
    pub kind: String,
    /// IATI path of the field that matched.
    pub field: String,
    /// The value that matched.
    pub value: String,
    /// Why the rule exists (from the strategy file).
    pub rule_note: Option<String>,
}

/// An analyst's override.
#[derive(Serialize, ToSchema)]
pub struct OverrideDto {
    /// Lines of effort decided (empty: none).
    pub lines_of_effort: Vec<String>,
    /// Why.
    pub note: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// One decision in an activity's override history.
#[derive(Serialize, ToSchema)]
pub struct OverrideEventDto {
    /// `set` or `unset`.
    pub action: String,
    /// `set`: lines of effort decided (empty: none); `unset`: those the removed override held.
    pub lines_of_effort: Vec<String>,
    /// Why (may be empty for `unset`).
    pub note: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One activity with everything imported and its mapping.
#[derive(Serialize, ToSchema)]
pub struct ActivityDetailDto {
    /// The activity as imported (every modelled IATI element, and the unmodelled ones under
    /// `extensions`); dates ISO 8601, amounts exact decimal strings.
    #[schema(value_type = Object)]
    pub activity: serde_json::Value,
    /// Its `transaction` elements, in document order.
    #[schema(value_type = Vec<Object>)]
    pub transactions: serde_json::Value,
    /// Lines of effort in effect (after an override).
    pub lines_of_effort: Vec<String>,
    /// Lines of effort the rules found.
    pub rule_lines: Vec<String>,
    /// The rules' evidence.
    pub evidence: Vec<EvidenceDto>,
    /// The override, if any.
    #[serde(rename = "override")]
    pub override_: Option<OverrideDto>,
    /// Every override decision for this strategy, oldest first (removed ones included).
    pub override_history: Vec<OverrideEventDto>,
    /// Name of the file it was imported from (without the server's folders).
    pub source_file: String,
    /// Position of the activity in that file (1-based).
    pub source_position: u64,
    /// Synthetic (demo) data.
    pub synthetic: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StrategyParam {
    /// Strategy id (default `cmms-2021`).
    #[param(pattern = "^(cmms-2021|rc-2021)?$")]
    strategy: Option<String>,
}

/// One activity by `iati-identifier`.
#[utoipa::path(get, path = "/activities/{id}", params(("id" = String, Path, description = "iati-identifier"), StrategyParam),
    responses((status = 200, body = ActivityDetailDto), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn activity(
    State(state): St,
    Path(id): Path<String>,
    Query(p): Query<StrategyParam>,
) -> ApiResult<ActivityDetailDto> {
    let st = Arc::clone(pick_strategy(&state, &p.strategy)?);
    let sid = st.id.clone();
    let d = state.pool.run(move |s| s.activity(&id, &sid)).await?;
    let lines = d.override_.as_ref().map(|o| o.lines_of_effort.clone()).unwrap_or_else(|| d.rule_lines.clone());
    Ok(Json(ActivityDetailDto {
        activity: serde_json::to_value(&d.activity).map_err(|e| WebError::Internal(e.to_string()))?,
        transactions: serde_json::to_value(&d.activity.transactions).map_err(|e| WebError::Internal(e.to_string()))?,
        lines_of_effort: lines,
        rule_lines: d.rule_lines.clone(),
        evidence: d
            .evidence
            .iter()
            .map(|e| EvidenceDto {
                line_of_effort: e.line_of_effort.to_string(),
                rule: e.rule.to_string(),
                kind: e.kind.to_string(),
                field: e.field.clone(),
                value: e.value.clone(),
                rule_note: st.rules.iter().find(|r| r.id == e.rule).map(|r| r.note.clone()),
            })
            .collect(),
        override_: d.override_.as_ref().map(|o| OverrideDto {
            lines_of_effort: o.lines_of_effort.clone(),
            note: o.note.clone(),
            created_at: o.created_at.clone(),
        }),
        override_history: d
            .override_log
            .iter()
            .map(|e| OverrideEventDto {
                action: e.action.clone(),
                lines_of_effort: e.lines_of_effort.clone(),
                note: e.note.clone(),
                at: e.at.clone(),
            })
            .collect(),
        source_file: crate::paths::file_name(&d.source.0).to_owned(),
        source_position: d.source_number(),
        synthetic: d.synthetic,
    }))
}

/// Money by transaction type.
#[derive(Serialize, ToSchema)]
pub struct TotalsDto {
    /// Commitments (transaction type 2), exact decimal.
    pub commitments: String,
    /// Disbursements (type 3).
    pub disbursements: String,
    /// Expenditures (type 4).
    pub expenditures: String,
}

impl From<&Totals> for TotalsDto {
    fn from(t: &Totals) -> Self {
        TotalsDto {
            commitments: t.commitments.to_string(),
            disbursements: t.disbursements.to_string(),
            expenditures: t.expenditures.to_string(),
        }
    }
}

/// One group of a report.
#[derive(Serialize, ToSchema)]
pub struct ReportRowDto {
    /// Values of the grouping dimensions, in the order of `dimensions`.
    pub key: Vec<String>,
    /// Distinct activities with money or presence in the group.
    pub activities: u64,
    /// Totals in U.S. dollars.
    pub usd: TotalsDto,
    /// Totals in other currencies, unconverted, by ISO 4217 code.
    pub unconverted: BTreeMap<String, TotalsDto>,
}

impl From<&Row> for ReportRowDto {
    fn from(r: &Row) -> Self {
        ReportRowDto {
            key: r.key.clone(),
            activities: r.activities,
            usd: (&r.usd).into(),
            unconverted: r.unconverted.iter().map(|(k, v)| (k.clone(), v.into())).collect(),
        }
    }
}

/// A report: the same as `senda report --format json`.
#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    /// Strategy id.
    pub strategy: String,
    /// Grouping dimensions.
    pub dimensions: Vec<String>,
    /// Years are calendar years (`true`) or U.S. fiscal years.
    pub calendar_year: bool,
    /// Groups, sorted by key.
    pub rows: Vec<ReportRowDto>,
    /// Grand total (every view of the same filters has the same).
    pub total: ReportRowDto,
}

fn report_dto(strategy: &str, r: &Report) -> ReportDto {
    ReportDto {
        strategy: strategy.to_owned(),
        dimensions: r.dimensions.iter().map(|d| d.name().to_owned()).collect(),
        calendar_year: r.calendar_year,
        rows: r.rows.iter().map(ReportRowDto::from).collect(),
        total: (&r.total).into(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportParams {
    /// Comma-separated dimensions: line_of_effort, country, fiscal_year, reporting_org,
    /// implementing_org, instrument, sector, source (`iati` for imported activities, `entered`
    /// for interventions entered in Senda that the caller may see).
    #[param(
        pattern = "^((line_of_effort|country|fiscal_year|reporting_org|implementing_org|instrument|sector|source)(,(line_of_effort|country|fiscal_year|reporting_org|implementing_org|instrument|sector|source))*)?$"
    )]
    by: Option<String>,
    /// `true`: calendar years instead of U.S. fiscal years.
    calendar_year: Option<bool>,
    /// Only records of this source: `iati` or `entered`.
    #[param(pattern = "^(iati|entered)?$")]
    source: Option<String>,
}

/// Money grouped by dimensions, with the filters of `/activities` (status and words excepted).
#[utoipa::path(get, path = "/report", params(ReportParams, RawQuery),
    responses((status = 200, body = ReportDto), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn report(State(state): St, Query(p): Query<ReportParams>, Query(raw): Query<RawQuery>) -> ApiResult<ReportDto> {
    let st = pick_strategy(&state, &raw.strategy)?;
    let sel = raw.selection(st)?.resolve_orgs(&state).await?;
    // The list parameters do not apply to reports, but are checked as everywhere.
    raw.sort()?;
    raw.limit(1000)?;
    raw.cursor()?;
    let mut dims: Vec<Dimension> = Vec::new();
    for s in given(&p.by).as_deref().unwrap_or("line_of_effort").split(',').filter(|s| !s.trim().is_empty()) {
        let d = s.parse::<Dimension>().map_err(|e| WebError::BadRequest(format!("by: {e}")))?;
        if dims.contains(&d) {
            return Err(WebError::BadRequest(format!("by: {d} is named twice")).into());
        }
        dims.push(d);
    }
    if dims.is_empty() {
        return Err(WebError::BadRequest("by: name at least one dimension".into()).into());
    }
    let mut filters = sel.report_filters();
    match given(&p.source).as_deref() {
        None => {}
        Some(s @ (senda_core::report::SOURCE_IATI | senda_core::report::SOURCE_ENTERED)) => {
            filters.insert(Dimension::Source, vec![s.to_owned()]);
        }
        Some(other) => {
            return Err(WebError::BadRequest(format!("source: {other:?} is neither iati nor entered")).into());
        }
    }
    let r = state.report(&sel.strategy, dims, p.calendar_year.unwrap_or(false), filters).await?;
    Ok(Json(report_dto(&sel.strategy, &r)))
}

/// An organisation with its money.
#[derive(Serialize, ToSchema)]
pub struct OrganisationDto {
    /// Name (`reporting-org` name, or implementing organisation).
    pub name: String,
    /// `reporting` or `implementing`.
    pub role: String,
    /// Distinct activities.
    pub activities: u64,
    /// Totals in U.S. dollars.
    pub usd: TotalsDto,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OrgParams {
    /// `reporting` (agencies, default) or `implementing`.
    #[param(pattern = "^(reporting|implementing)?$")]
    role: Option<String>,
    /// Strategy id (default `cmms-2021`).
    #[param(pattern = "^(cmms-2021|rc-2021)?$")]
    strategy: Option<String>,
}

/// Organisations (agencies or implementers), largest first.
#[utoipa::path(get, path = "/organisations", params(OrgParams),
    responses((status = 200, body = Vec<OrganisationDto>), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn organisations(State(state): St, Query(p): Query<OrgParams>) -> ApiResult<Vec<OrganisationDto>> {
    let st = pick_strategy(&state, &p.strategy)?;
    let (dim, role) = match given(&p.role).as_deref().unwrap_or("reporting") {
        "reporting" => (Dimension::ReportingOrg, "reporting"),
        "implementing" => (Dimension::ImplementingOrg, "implementing"),
        other => {
            return Err(WebError::BadRequest(format!("role: {other:?} is not reporting or implementing")).into());
        }
    };
    let r = state.report(&st.id, vec![dim], false, Default::default()).await?;
    let mut out: Vec<OrganisationDto> = r
        .rows
        .iter()
        .map(|row| OrganisationDto {
            name: row.key[0].clone(),
            role: role.into(),
            activities: row.activities,
            usd: (&row.usd).into(),
        })
        .collect();
    let size = |o: &OrganisationDto| o.usd.disbursements.parse::<rust_decimal::Decimal>().unwrap_or_default();
    out.sort_by(|a, b| size(b).cmp(&size(a)).then_with(|| a.name.cmp(&b.name)));
    Ok(Json(out))
}

/// An import run and its report.
#[derive(Serialize, ToSchema)]
pub struct RunDto {
    /// Run id.
    pub id: i64,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub finished_at: String,
    /// The import report (files, activities created/updated/unchanged/rejected, diagnostics).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// Import runs, newest first (up to 100).
#[utoipa::path(get, path = "/imports", responses((status = 200, body = Vec<RunDto>), (status = 400, body = Problem, content_type = "application/problem+json")))]
async fn imports(State(state): St) -> ApiResult<Vec<RunDto>> {
    let runs = state.pool.run(|s| s.runs(100)).await?;
    Ok(Json(
        runs.into_iter()
            .map(|mut r| {
                crate::paths::relative_to_run(&mut [&mut r.report]);
                RunDto { id: r.id, started_at: r.started_at, finished_at: r.finished_at, report: r.report }
            })
            .collect(),
    ))
}

/// One import run.
#[utoipa::path(get, path = "/imports/{id}", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunDto), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn import_run(State(state): St, Path(id): Path<String>) -> ApiResult<RunDto> {
    let id: i64 = id.parse().map_err(|_| WebError::BadRequest(format!("id: {id:?} is not a run number")))?;
    let (runs, diags) = state.pool.run(move |s| Ok((s.runs(u64::MAX >> 1)?, s.run_diagnostics(id)?))).await?;
    let mut r = runs.into_iter().find(|r| r.id == id).ok_or_else(|| WebError::NotFound(format!("import run {id}")))?;
    // Diagnostics live in their own table; the single-run answer carries them all.
    if let Some(obj) = r.report.as_object_mut() {
        obj.insert("diagnostics".into(), serde_json::to_value(&diags).unwrap_or_default());
    }
    // Paths relative to what was imported, never the server's folders.
    crate::paths::relative_to_run(&mut [&mut r.report]);
    Ok(Json(RunDto { id: r.id, started_at: r.started_at, finished_at: r.finished_at, report: r.report }))
}

//! Server-rendered pages (maud: every interpolated value is HTML-escaped). Each page works
//! without JavaScript; filters are plain GET forms, so every view has a URL.
//!
//! The reader's language comes from `?lang=`, then the `senda_lang` cookie, then
//! `Accept-Language`; the strategy from `?strategy=`, then the `senda_strategy` cookie, then
//! `cmms-2021`. Choosing either by the parameter sets the cookie, so every later page follows.

use crate::charts::{self, ChartData};
use crate::error::WebError;
use crate::i18n::{Catalogs, Lang, Locale};
use crate::query::{RawQuery, Selection, enc, encode_cursor, query_string};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use rust_decimal::Decimal;
use senda_core::Activity;
use senda_core::indicator::Scope;
use senda_core::mapping::Evidence;
use senda_core::report::{Dimension, NOT_MAPPED, Report};
use senda_core::strategy::{DEFAULT_STRATEGY, Strategy};
use senda_core::text::pick_narrative;
use senda_store::{ActivityDetail, ActivityRow, ActivitySort, IndicatorView};
use std::collections::BTreeMap;
use std::sync::Arc;

mod contributions;
mod places;
mod plan;
mod records;
mod review;
mod tables;

use places::{country, line_of_effort};
use records::{activity, import_run, imports, organisation};
use review::review;
use tables::{activity_table, money_table};
mod coverage;

type St = State<Arc<AppState>>;

/// The page routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview))
        .route("/loe/{id}", get(line_of_effort))
        .route("/country/{code}", get(country))
        .route("/activities", get(activities))
        .route("/activities.csv", get(activities_csv))
        .route("/activity/{*id}", get(activity))
        .route("/review", get(review))
        .route("/organisation", get(organisation))
        .route("/imports", get(imports))
        .route("/coverage", get(coverage::coverage))
        .route("/imports/{id}", get(import_run))
        .route("/report", get(printable_report))
        .route("/static/senda.css", get(css))
        .route("/favicon.ico", get(favicon))
        .route("/static/favicon.svg", get(favicon))
        .fallback(not_found)
}

/// Per-request context: locale, strategy, where we are.
pub struct Ctx {
    /// The reader's locale.
    pub loc: Locale,
    /// The strategy pages are read through.
    pub strategy: Arc<Strategy>,
    /// Path of this page (for the switches).
    pub path: String,
    /// Query pairs of this page other than `lang` and `strategy`.
    pub rest: Vec<(String, String)>,
    /// Cookies to set (the choices made by parameter).
    pub set_cookies: Vec<String>,
    /// The state.
    pub state: Arc<AppState>,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

impl Ctx {
    fn new(state: &Arc<AppState>, headers: &HeaderMap, uri: &Uri, raw: &RawQuery) -> Result<Ctx, WebError> {
        let mut set_cookies = Vec::new();
        let loc = match raw.lang.as_deref().and_then(Locale::from_tag) {
            Some(l) => {
                set_cookies.push(format!("senda_lang={}; Path=/; Max-Age=31536000; SameSite=Lax", l.tag()));
                l
            }
            None => match cookie(headers, "senda_lang").as_deref().and_then(Locale::from_tag) {
                Some(l) => l,
                None => {
                    Locale::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""))
                }
            },
        };
        let strategy_id = match raw.strategy.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => {
                state.strategy(s)?;
                set_cookies.push(format!("senda_strategy={}; Path=/; Max-Age=31536000; SameSite=Lax", enc(s)));
                s.to_owned()
            }
            None => cookie(headers, "senda_strategy")
                .filter(|s| state.strategy(s).is_ok())
                .unwrap_or_else(|| DEFAULT_STRATEGY.to_owned()),
        };
        let strategy = Arc::clone(state.strategy(&strategy_id)?);
        let rest = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (!k.is_empty() && k != "lang" && k != "strategy" && k != "cursor").then(|| (k.to_owned(), v.to_owned()))
            })
            .collect();
        Ok(Ctx { loc, strategy, path: uri.path().to_owned(), rest, set_cookies, state: Arc::clone(state) })
    }

    fn lang(&self) -> Lang {
        self.loc.lang
    }
    fn lang_code(&self) -> &'static str {
        match self.loc.lang {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
    fn cat(&self) -> &Catalogs {
        &self.state.catalogs
    }
    /// A message.
    pub fn t(&self, key: &str) -> String {
        self.cat().t(self.lang(), key)
    }
    /// A message with arguments.
    pub fn ta(&self, key: &str, args: &[(&str, String)]) -> String {
        self.cat().t_args(self.lang(), key, args)
    }
    fn usd(&self, d: Decimal) -> String {
        self.loc.usd(d)
    }
    fn int(&self, n: u64) -> String {
        self.loc.int(n as i64)
    }
    fn date(&self, iso: &str) -> String {
        if iso.is_empty() { String::new() } else { self.cat().date(self.lang(), iso) }
    }
    fn fy(&self, y: &str) -> String {
        self.cat().fy_label(self.lang(), y)
    }
    /// `LOE5: Title` in the reader's language; `Not mapped` for NOT_MAPPED.
    fn loe_label(&self, id: &str) -> String {
        let title = self.cat().loe_title(self.lang(), &self.strategy, id);
        if id == NOT_MAPPED || self.strategy.line_of_effort(id).is_none() { title } else { format!("{id}: {title}") }
    }
    fn country_label(&self, code: &str) -> String {
        let key = format!("country-{code}");
        if self.cat().has(self.lang(), &key) { format!("{} ({code})", self.t(&key)) } else { code.to_owned() }
    }
    fn strategy_title(&self) -> String {
        format!("{} ({})", self.cat().strategy_title(self.lang(), &self.strategy), self.strategy.short_title)
    }
    fn status_label(&self, code: &str) -> String {
        if code.is_empty() { String::new() } else { format!("{} ({code})", self.t(&format!("status-{code}"))) }
    }
    /// The URL of this page with `lang` set.
    fn with_lang(&self, tag: &str) -> String {
        let mut pairs: Vec<(&str, String)> = self.rest.iter().map(|(k, v)| (k.as_str(), decode(v))).collect();
        pairs.push(("lang", tag.to_owned()));
        format!("{}?{}", self.path, query_string(&pairs))
    }

    fn page(&self, title: &str, body: Markup) -> Response {
        let lang = self.lang();
        let markup = html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Senda" }
                    link rel="stylesheet" href="/static/senda.css";
                    link rel="icon" type="image/svg+xml" href="/static/favicon.svg";
                }
                body {
                    a class="skip" href="#main" { (self.t("skip-to-content")) }
                    header class="top" {
                        a class="brand" href="/" { strong { (self.t("app-name")) } " " span { (self.t("app-tagline")) } }
                        nav aria-label=(self.t("nav-overview")) {
                            a href="/" { (self.t("nav-overview")) }
                            a href="/activities" { (self.t("nav-activities")) }
                            a href="/review" { (self.t("nav-review")) }
                            a href="/report" { (self.t("nav-report")) }
                            a href="/imports" { (self.t("nav-imports")) }
                            a href="/api/v1/openapi.json" { (self.t("nav-api")) }
                        }
                        form class="switch" method="get" action=(if self.path.starts_with("/loe/") { "/" } else { self.path.as_str() }) {
                            // Lines of effort belong to one strategy: the switch drops them.
                            @for (k, v) in self.rest.iter().filter(|(k, _)| k != "line_of_effort" && !self.path.starts_with("/loe/")) { input type="hidden" name=(k) value=(decode(v)); }
                            label for="strategy-switch" { (self.t("strategy-switch")) }
                            select id="strategy-switch" name="strategy" {
                                @for s in &self.state.strategies {
                                    option value=(s.id) selected[s.id == self.strategy.id] { (s.short_title) }
                                }
                            }
                            button type="submit" { (self.t("switch")) }
                        }
                        nav class="lang" aria-label=(self.t("lang-switch")) {
                            a href=(self.with_lang("en")) lang="en" hreflang="en" aria-current=[(lang == Lang::En).then_some("true")] { "English" }
                            a href=(self.with_lang("es")) lang="es" hreflang="es" aria-current=[(lang == Lang::Es).then_some("true")] { "Español" }
                        }
                    }
                    @if self.state.synthetic {
                        p class="banner synthetic" role="note" { (self.t("synthetic-banner")) }
                    }
                    main id="main" {
                        p class="strategy-name" { (self.strategy_title()) }
                        h1 { (title) }
                        (body)
                    }
                    footer { p { (self.t("footer-note")) } }
                }
            }
        };
        let mut r = markup.into_response();
        for c in &self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        r
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = || std::str::from_utf8(b.get(i + 1..i + 3)?).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match hex() {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A page-side error: a small page in the reader's language, never internals.
pub struct PageError(WebError, Locale, Option<Arc<AppState>>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let detail = match (&self.0, &self.2) {
            (WebError::UnknownOrg { param, error }, Some(st)) => unknown_org_text(st, self.1.lang, param, error),
            _ => self.0.public_detail(),
        };
        let (title, lang) = match &self.2 {
            Some(st) => (
                st.catalogs.t(self.1.lang, if status == StatusCode::NOT_FOUND { "not-found" } else { "error-title" }),
                self.1.lang,
            ),
            None => ("Error".to_owned(), Lang::En),
        };
        let m = html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head { meta charset="utf-8"; title { (title) " · Senda" } link rel="stylesheet" href="/static/senda.css"; }
                body { main id="main" { h1 { (title) } p class="problem" { (detail) } p { a href="/" { "Senda" } } } }
            }
        };
        (status, m).into_response()
    }
}

type PageResult = Result<Response, PageError>;

/// The organisation filters naming an organisation known but without data here (the view is
/// then empty): one note each, in the reader's language.
pub(crate) fn orgs_without_data(ctx: &Ctx, sel: &Selection) -> Markup {
    html! {
        @for (param, label) in &sel.orgs.without_data {
            p class="banner org-no-data" role="note" {
                (ctx.ta("org-no-data", &[
                    ("filter", ctx.t(if *param == "implementing_org" { "implementing-org" } else { "reporting-org" })),
                    ("org", label.clone()),
                ]))
            }
        }
    }
}

/// An unknown organisation filter, said in the reader's language: the filter's label, what was
/// typed and the close organisations of the data (or what may be typed).
fn unknown_org_text(st: &AppState, lang: Lang, param: &str, e: &senda_core::orgs::UnknownOrg) -> String {
    let c = &st.catalogs;
    let label = c.t(lang, if param == "implementing_org" { "implementing-org" } else { "reporting-org" });
    let head = c.t_args(lang, "unknown-org", &[("filter", label), ("input", e.input.clone())]);
    if e.suggestions.is_empty() {
        format!("{head} {}", c.t(lang, "unknown-org-hint"))
    } else {
        format!("{head} {}", c.t_args(lang, "unknown-org-suggest", &[("names", e.suggestions.join("; "))]))
    }
}

fn perr(state: &Arc<AppState>, headers: &HeaderMap) -> impl Fn(WebError) -> PageError {
    let loc = cookie(headers, "senda_lang").as_deref().and_then(Locale::from_tag).unwrap_or_else(|| {
        Locale::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""))
    });
    let st = Arc::clone(state);
    move |e| PageError(e, loc, Some(Arc::clone(&st)))
}

async fn not_found(State(state): St, headers: HeaderMap, uri: Uri) -> PageError {
    perr(&state, &headers)(WebError::NotFound(format!("page {}", uri.path())))
}

async fn favicon() -> Response {
    let mut r = include_str!("../static/favicon.svg").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

async fn css() -> Response {
    let mut r = include_str!("../static/senda.css").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// Computes the reports the overview needs for the default view, so the first visitor does not wait.
pub async fn warm(state: &Arc<AppState>) -> Result<(), WebError> {
    for s in &state.strategies {
        let sel = Selection { strategy: s.id.clone(), ..Default::default() };
        // Everything the default overview asks for, at once (the first strategy is the default
        // one: its overview is ready first).
        let (a, b, c) = tokio::join!(
            overview_reports(state, &sel),
            state.report(&sel.strategy, vec![Dimension::FiscalYear], false, Default::default()),
            state.report(&sel.strategy, vec![Dimension::LineOfEffort], false, sel.report_filters()),
        );
        a?;
        b?;
        c?;
    }
    Ok(())
}

struct OverviewData {
    by_loe_fy: Arc<Report>,
    by_loe_org: Arc<Report>,
    by_country: Arc<Report>,
}

async fn overview_reports(state: &Arc<AppState>, sel: &Selection) -> Result<OverviewData, WebError> {
    let f = sel.report_filters();
    let (a, b, c) = tokio::join!(
        state.report(&sel.strategy, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::LineOfEffort, Dimension::ReportingOrg], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::Country], false, f.clone()),
    );
    Ok(OverviewData { by_loe_fy: a?, by_loe_org: b?, by_country: c? })
}

/// Chart series from a report grouped by (line of effort, fiscal year): one series of
/// disbursements (USD) per line of effort of `strategy`, one value per year of `years`.
pub(crate) fn disbursement_series(strategy: &Strategy, r: &Report, years: &[String]) -> Vec<(String, Vec<Decimal>)> {
    strategy
        .lines_of_effort
        .iter()
        .map(|l| {
            let vals = years
                .iter()
                .map(|y| {
                    r.rows
                        .iter()
                        .find(|row| row.key[0] == l.id && &row.key[1] == y)
                        .map(|row| row.usd.disbursements)
                        .unwrap_or_default()
                })
                .collect();
            (l.id.clone(), vals)
        })
        .collect()
}

/// Per line of effort: distinct activities and totals (from a report grouped by line of effort first).
fn by_first_key(r: &Report) -> BTreeMap<String, (u64, senda_core::report::Totals)> {
    let mut m: BTreeMap<String, (u64, senda_core::report::Totals)> = BTreeMap::new();
    for row in &r.rows {
        let e = m.entry(row.key[0].clone()).or_default();
        e.0 = e.0.max(row.activities); // lower bound; exact counts come from a one-dimension report
        e.1.commitments += row.usd.commitments;
        e.1.disbursements += row.usd.disbursements;
        e.1.expenditures += row.usd.expenditures;
    }
    m
}

fn fy_form(ctx: &Ctx, sel: &Selection, years: &[String], hidden: &[(&str, String)]) -> Markup {
    let (from, to) = sel.fiscal_years.map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or_default();
    html! {
        form class="filters" method="get" action=(ctx.path) {
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            fieldset {
                legend { (ctx.t("fy-range")) }
                label { (ctx.t("fy-from")) " "
                    select name="fy_from" {
                        option value="" { (ctx.t("all-years")) }
                        @for y in years { option value=(y) selected[*y == from] { (ctx.fy(y)) } }
                    }
                }
                label { (ctx.t("fy-to")) " "
                    select name="fy_to" {
                        option value="" { (ctx.t("all-years")) }
                        @for y in years { option value=(y) selected[*y == to] { (ctx.fy(y)) } }
                    }
                }
                button type="submit" { (ctx.t("apply")) }
                " " a href=(ctx.path) { (ctx.t("reset")) }
            }
        }
    }
}

pub(crate) fn years_of(r: &Report, idx: usize) -> Vec<String> {
    let mut ys: Vec<String> =
        r.rows.iter().filter_map(|row| row.key.get(idx)).filter(|k| k.len() == 4).cloned().collect();
    ys.sort();
    ys.dedup();
    ys
}

async fn overview(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?.resolve_orgs(&state).await.map_err(&pe)?;
    let data = overview_reports(&state, &sel).await.map_err(&pe)?;
    // All years with data (unfiltered) for the range form.
    let all_years =
        state.report(&sel.strategy, vec![Dimension::FiscalYear], false, Default::default()).await.map_err(&pe)?;
    let years = years_of(&all_years, 0);
    let per_loe = by_first_key(&data.by_loe_fy);
    let loe_counts =
        state.report(&sel.strategy, vec![Dimension::LineOfEffort], false, sel.report_filters()).await.map_err(&pe)?;
    let count_of = |id: &str| loe_counts.rows.iter().find(|r| r.key[0] == id).map(|r| r.activities).unwrap_or(0);
    let mut top: BTreeMap<String, Vec<(String, Decimal)>> = BTreeMap::new();
    for row in &data.by_loe_org.rows {
        top.entry(row.key[0].clone())
            .or_default()
            .push((row.key[1].clone(), row.usd.disbursements + row.usd.expenditures));
    }
    for v in top.values_mut() {
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(3);
    }
    let total_disb = data.by_loe_fy.total.usd.disbursements;
    let not_mapped_disb = per_loe.get(NOT_MAPPED).map(|x| x.1.disbursements).unwrap_or_default();
    let share = if total_disb.is_zero() { Decimal::ZERO } else { not_mapped_disb * Decimal::from(100) / total_disb };
    // Chart: disbursements by fiscal year (x) and line of effort (series).
    let fy_keys = years_of(&data.by_loe_fy, 1);
    let series = disbursement_series(&ctx.strategy, &data.by_loe_fy, &fy_keys);
    let chart = ChartData {
        id: "chart-fy-loe".into(),
        title: ctx.t("chart-disb-fy-loe"),
        categories: fy_keys.iter().map(|y| ctx.fy(y)).collect(),
        series,
    };
    let countries: Vec<&senda_core::report::Row> = data.by_country.rows.iter().collect();
    let country_chart = ChartData {
        id: "chart-country".into(),
        title: ctx.t("chart-disb-country"),
        categories: countries.iter().map(|r| r.key[0].clone()).collect(),
        series: vec![(ctx.t("disbursements"), countries.iter().map(|r| r.usd.disbursements).collect())],
    };
    let hidden: Vec<(&str, String)> = vec![];
    let plan = plan::gap_rows(&state, &ctx.strategy.id, &plan::PlanPart::ByLine).await.map_err(&pe)?;
    let cov = crate::coverage::coverage(&state, &ctx.strategy).await.map_err(&pe)?;
    let body = html! {
        p class="lede" { (ctx.ta("overview-lede", &[("strategy", ctx.strategy.short_title.clone())])) }
        (orgs_without_data(&ctx, &sel))
        (coverage::gaps_notice(&ctx, &cov))
        (fy_form(&ctx, &sel, &years, &hidden))
        section aria-labelledby="loe-h" {
            h2 id="loe-h" { (ctx.t("lines-of-effort")) }
            ul class="tiles" {
                @for l in &ctx.strategy.lines_of_effort {
                    @let t = per_loe.get(&l.id).map(|x| x.1).unwrap_or_default();
                    li class="tile" {
                        h3 { a href=(format!("/loe/{}", l.id)) { (ctx.loe_label(&l.id)) } }
                        dl {
                            dt { (ctx.t("activities")) } dd { (ctx.int(count_of(&l.id))) }
                            dt { (ctx.t("commitments")) } dd { (crate::negative::usd_compact(ctx.cat(), ctx.loc, t.commitments)) }
                            dt { (ctx.t("disbursements")) } dd { (crate::negative::usd_compact(ctx.cat(), ctx.loc, t.disbursements)) }
                        }
                        @if let Some(orgs) = top.get(&l.id) {
                            p class="top" { (ctx.t("top-agencies")) ": "
                                @for (i, (o, _)) in orgs.iter().enumerate() {
                                    @if i > 0 { "; " }
                                    a href=(format!("/organisation?name={}", enc(o))) { (o) }
                                }
                            }
                        }
                    }
                }
            }
            @if per_loe.values().any(|(_, t)| crate::negative::is_negative(t)) || crate::negative::any_negative(&data.by_country) {
                (crate::negative::note(ctx.cat(), ctx.lang(), &sel.pairs()))
            }
        }
        section aria-labelledby="nm-h" class="not-mapped" {
            h2 id="nm-h" { (ctx.t("not-mapped-share")) }
            p class="big" { (ctx.loc.percent(share)) }
            p { (ctx.usd(not_mapped_disb)) " / " (ctx.usd(total_disb)) " · "
                a href=(format!("/activities?line_of_effort={NOT_MAPPED}")) { (ctx.t("activities")) } }
        }
        section { (charts::columns(&chart, ctx.cat(), ctx.loc, &ctx.t("usd-unit"))) }
        section aria-labelledby="country-h" {
            h2 id="country-h" { (ctx.t("split-by-country")) }
            (charts::bars(&country_chart, ctx.cat(), ctx.loc, &ctx.t("usd-unit")))
            (money_table(&ctx, &data.by_country, |k| html! {
                td { @if k[0].len() == 2 { a href=(format!("/country/{}", k[0])) { (ctx.country_label(&k[0])) } }
                @else { (ctx.country_label(&k[0])) } }
            }, &[ctx.t("country")]))
        }
        (plan::gap_section(&ctx, &plan::PlanPart::ByLine, plan.as_deref()))
    };
    Ok(ctx.page(&ctx.t("overview-title"), body))
}

/// Indicator views over the focus countries together, and per focus country (cached per
/// data generation).
type PerCountryViews = Vec<(String, Vec<IndicatorView>)>;
async fn indicator_views_by_country(
    state: &Arc<AppState>,
    strategy: &Arc<Strategy>,
) -> Result<(Arc<Vec<IndicatorView>>, Arc<PerCountryViews>), WebError> {
    // Approved reports count once their intervention is published: the key holds the stamp.
    let stamp = state.interventions_stamp().await?;
    let st = Arc::clone(strategy);
    let region = state
        .cached(format!("indicators|{}|region|{stamp}", st.id), move |s| {
            senda_store::indicator_views(s, &st, &Scope::Countries(st.focus_countries.clone()))
        })
        .await?;
    let st = Arc::clone(strategy);
    let per = state
        .cached(format!("indicators|{}|per-country|{stamp}", st.id), move |s| {
            st.focus_countries
                .iter()
                .map(|c| {
                    Ok((c.as_str().to_owned(), senda_store::indicator_views(s, &st, &Scope::Countries(vec![*c]))?))
                })
                .collect::<Result<Vec<_>, senda_store::StoreError>>()
        })
        .await?;
    Ok((region, per))
}

fn iati_results_table(ctx: &Ctx, rows: &[senda_store::IatiIndicatorView], cap: usize) -> Markup {
    html! {
        p class="note" { (ctx.ta("ind-iati-note", &[("count", rows.len().to_string())])) }
        table {
            thead { tr {
                th scope="col" { (ctx.t("activity")) }
                th scope="col" { (ctx.t("ind-indicator")) }
                th scope="col" class="num" { (ctx.t("ind-baseline")) }
                th scope="col" class="num" { (ctx.t("ind-target")) }
                th scope="col" class="num" { (ctx.t("ind-latest-actual")) }
                th scope="col" class="num" { (ctx.t("ind-percent-of-target")) }
            } }
            tbody {
                @for r in rows.iter().take(cap) {
                    tr {
                        td { a href=(format!("/activity/{}", r.iati_identifier)) { (r.iati_identifier) } }
                        td { (r.indicator_title) }
                        td class="num" { @if let Some((y, v)) = &r.baseline { (ctx.loc.decimal(*v, if v.fract().is_zero() { 0 } else { 2 })) @if let Some(y) = y { " (" (y) ")" } } @else { "—" } }
                        td class="num" { @if let Some((_, v)) = &r.target { (ctx.loc.decimal(*v, if v.fract().is_zero() { 0 } else { 2 })) } @else { "—" } }
                        td class="num" { @if let Some((d, v)) = &r.actual { (ctx.loc.decimal(*v, if v.fract().is_zero() { 0 } else { 2 })) " (" (ctx.date(d)) ")" } @else { "—" } }
                        td class="num" { @if let Some(p) = r.percent_of_target { (format!("{} %", ctx.loc.decimal(p, 1))) } @else { "—" } }
                    }
                }
            }
        }
    }
}

/// `GET /report`: the printable progress report ([`crate::printable`]) in the reader's locale
/// and strategy. Self-contained (inline styles and SVG), so this response alone allows inline
/// styles; scripts stay forbidden.
async fn printable_report(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let (strategy, lang) = (Arc::clone(&ctx.strategy), ctx.loc.lang);
    let opts = crate::printable::PrintOptions::default();
    let o = opts.clone();
    let stamp = state.interventions_stamp().await.map_err(&pe)?;
    let data = state
        .cached(format!("printable|{}|{}|{stamp}", strategy.id, lang.code()), move |s| {
            crate::printable::collect(s, &strategy, lang, &o)
        })
        .await
        .map_err(&pe)?;
    let html = crate::printable::render(&data, &ctx.strategy, ctx.cat(), ctx.loc, &opts);
    let mut r = html.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::PRINT_CSP));
    for c in &ctx.set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

fn select_opts(name: &str, label: String, current: Option<&str>, opts: Vec<(String, String)>, all: String) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                @if !all.is_empty() { option value="" { (all) } }
                @for (v, l) in opts { option value=(v) selected[current == Some(v.as_str())] { (l) } }
            }
        }
    }
}

async fn activities(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?.resolve_orgs(&state).await.map_err(&pe)?;
    let sort = raw.sort().map_err(&pe)?;
    let limit = raw.limit(1000).map_err(&pe)?;
    let cursor = raw.cursor().map_err(&pe)?;
    let lp = crate::list::page(&state, &sel, sort, cursor.clone(), limit).await.map_err(&pe)?;
    let (rows, total) = (lp.rows, lp.total);
    let mut pairs = sel.pairs();
    if sort != ActivitySort::Identifier {
        pairs.push(("sort", sort.name().to_owned()));
    }
    let next = lp.next.map(|c| {
        let mut p = pairs.clone();
        p.push(("cursor", encode_cursor(&c)));
        if limit != 50 {
            p.push(("limit", limit.to_string()));
        }
        format!("/activities?{}", query_string(&p))
    });
    let years: Vec<String> = (2005..=2030).map(|y| y.to_string()).collect();
    let fy = sel.fiscal_years.map(|(a, b)| (a.to_string(), b.to_string()));
    let st = &ctx.strategy;
    let body = html! {
        (orgs_without_data(&ctx, &sel))
        form class="filters" method="get" action="/activities" role="search" {
            fieldset {
                legend { (ctx.t("filter")) }
                (select_opts("line_of_effort", ctx.t("line-of-effort"), sel.line_of_effort.as_deref(),
                    st.lines_of_effort.iter().map(|l| (l.id.clone(), ctx.loe_label(&l.id))).chain([(NOT_MAPPED.to_owned(), ctx.t("not-mapped"))]).collect(), ctx.t("all")))
                (select_opts("country", ctx.t("country"), sel.country.as_deref(),
                    st.focus_countries.iter().map(|c| (c.as_str().to_owned(), ctx.country_label(c.as_str()))).chain(["MX", "REGIONAL", "UNKNOWN"].map(|c| (c.to_owned(), ctx.country_label(c)))).collect(), ctx.t("all")))
                label { (ctx.t("reporting-org")) " " input type="text" name="reporting_org" value=[sel.reporting_org.as_deref()]; }
                label { (ctx.t("implementing-org")) " " input type="text" name="implementing_org" value=[sel.implementing_org.as_deref()]; }
                (select_opts("instrument", ctx.t("instrument"), sel.instrument.as_deref(),
                    st.instruments.iter().map(|i| (i.id.clone(), match ctx.lang() { Lang::Es => i.title_es.clone().unwrap_or_else(|| i.title.clone()), Lang::En => i.title.clone() })).collect(), ctx.t("all")))
                (select_opts("fy_from", ctx.t("fy-from"), fy.as_ref().map(|x| x.0.as_str()), years.iter().map(|y| (y.clone(), ctx.fy(y))).collect(), ctx.t("all-years")))
                (select_opts("fy_to", ctx.t("fy-to"), fy.as_ref().map(|x| x.1.as_str()), years.iter().map(|y| (y.clone(), ctx.fy(y))).collect(), ctx.t("all-years")))
                (select_opts("status", ctx.t("status"), sel.status.as_deref(), (1..=6).map(|c| (c.to_string(), ctx.status_label(&c.to_string()))).collect(), ctx.t("all")))
                label { (ctx.t("free-text")) " " input type="search" name="q" value=[sel.text.as_deref()]; }
                label { input type="checkbox" name="negative_money" value="true" checked[sel.negative_money]; " " (ctx.t("negative-filter")) }
                (select_opts("sort", ctx.t("sort"), Some(sort.name()), ActivitySort::ALL.iter().map(|s| (s.name().to_owned(), ctx.t(&format!("sort-{}", s.name())))).collect(), String::new()))
                button type="submit" { (ctx.t("apply")) }
                " " a href="/activities" { (ctx.t("reset")) }
            }
        }
        p class="count" role="status" { (ctx.ta("matching", &[("count", ctx.int(total))])) }
        p { a class="csv" href=(format!("/activities.csv?{}", query_string(&pairs))) download { (ctx.t("download-csv")) } " " small { (ctx.t("csv-rows-note")) } }
        @if rows.is_empty() { p { (ctx.t("no-activities")) } } @else { (activity_table(&ctx, &rows)) }
        @if sel.negative_money || rows.iter().any(|r| r.commitments_usd.starts_with('-') || r.disbursements_usd.starts_with('-')) {
            (crate::negative::note(ctx.cat(), ctx.lang(), &sel.pairs().into_iter().filter(|(k, _)| *k != "negative_money").collect::<Vec<_>>()))
        }
        nav class="pager" aria-label="pages" {
            @if cursor.is_some() { a href=(format!("/activities?{}", query_string(&pairs))) { (ctx.t("first-page")) } " " }
            @if let Some(n) = next { a rel="next" href=(n) { (ctx.t("next-page")) } }
        }
    };
    Ok(ctx.page(&ctx.t("nav-activities"), body))
}

/// The CSV of every activity matching the filters (streamed page by page).
async fn activities_csv(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?.resolve_orgs(&state).await.map_err(&pe)?;
    let sort = raw.sort().map_err(&pe)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let pool = Arc::clone(&state.pool);
    let excludes = sel.excludes_iati();
    // Each activity's money in the view (the `*_in_view` columns), once for the whole export.
    let in_view = if excludes {
        Default::default()
    } else {
        let (strategy, filters) = (sel.strategy.clone(), sel.report_filters());
        pool.run(move |s| senda_store::money_in_view(s, &strategy, filters)).await.map_err(&pe)?
    };
    tokio::spawn(async move {
        let mut after = None;
        let mut first = true;
        loop {
            let filter = sel.activity_filter(sort, after.clone(), Some(5000));
            let rows = if excludes { Ok(Vec::new()) } else { pool.run(move |s| s.list_activities(&filter)).await };
            let rows = match rows {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let mut w = csv::Writer::from_writer(Vec::new());
            if first {
                let _ = w.write_record(crate::api::CSV_COLUMNS);
                first = false;
            }
            for r in &rows {
                let view = u32::try_from(r.db_id).ok().and_then(|id| in_view.get(&id));
                let _ = w.write_record(crate::api::csv_record(r, view));
            }
            let buf = w.into_inner().unwrap_or_default();
            if tx.send(Ok(buf)).await.is_err() {
                return; // client went away
            }
            match rows.last() {
                Some(last) if rows.len() == 5000 => {
                    after = Some(senda_store::ActivityCursor {
                        sort_value: sort.value_of(last),
                        iati_identifier: last.iati_identifier.clone(),
                        db_id: Some(last.db_id),
                    })
                }
                _ => return,
            }
        }
    });
    let stream = tokio_stream(rx);
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"senda-activities.csv\""));
    Ok(r)
}

fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

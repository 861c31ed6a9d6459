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
        .route("/organisation", get(organisation))
        .route("/imports", get(imports))
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
        format!("{} ({})", self.strategy.title, self.strategy.short_title)
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
        let detail = self.0.public_detail();
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
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?;
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
    let body = html! {
        p class="lede" { (ctx.ta("overview-lede", &[("strategy", ctx.strategy.short_title.clone())])) }
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
                            dt { (ctx.t("commitments")) } dd { (ctx.loc.usd_compact(t.commitments)) }
                            dt { (ctx.t("disbursements")) } dd { (ctx.loc.usd_compact(t.disbursements)) }
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
        }
        section aria-labelledby="nm-h" class="not-mapped" {
            h2 id="nm-h" { (ctx.t("not-mapped-share")) }
            p class="big" { (ctx.loc.percent(share)) }
            p { (ctx.usd(not_mapped_disb)) " / " (ctx.usd(total_disb)) " · "
                a href=(format!("/activities?line_of_effort={NOT_MAPPED}")) { (ctx.t("activities")) } }
        }
        section { (charts::columns(&chart, ctx.cat(), ctx.loc, &ctx.t("usd-millions"))) }
        section aria-labelledby="country-h" {
            h2 id="country-h" { (ctx.t("split-by-country")) }
            (charts::bars(&country_chart, ctx.cat(), ctx.loc, &ctx.t("usd-millions")))
            (money_table(&ctx, &data.by_country, |k| html! {
                td { @if k[0].len() == 2 { a href=(format!("/country/{}", k[0])) { (ctx.country_label(&k[0])) } }
                @else { (ctx.country_label(&k[0])) } }
            }, &[ctx.t("country")]))
        }
    };
    Ok(ctx.page(&ctx.t("overview-title"), body))
}

/// A table of a report: key columns rendered by `key`, then activities and money.
fn money_table(ctx: &Ctx, r: &Report, key: impl Fn(&[String]) -> Markup, heads: &[String]) -> Markup {
    html! {
        div class="table-scroll" tabindex="0" {
            table class="money" {
                thead { tr {
                    @for h in heads { th scope="col" { (h) } }
                    th scope="col" class="num" { (ctx.t("activities")) }
                    th scope="col" class="num" { (ctx.t("commitments")) }
                    th scope="col" class="num" { (ctx.t("disbursements")) }
                    th scope="col" class="num" { (ctx.t("expenditures")) }
                } }
                tbody {
                    @for row in &r.rows {
                        tr {
                            (key(&row.key))
                            td class="num" { (ctx.int(row.activities)) }
                            td class="num" { (ctx.usd(row.usd.commitments)) }
                            td class="num" { (ctx.usd(row.usd.disbursements)) }
                            td class="num" { (ctx.usd(row.usd.expenditures)) }
                        }
                    }
                    @if r.rows.is_empty() { tr { td colspan=(heads.len() + 4) { (ctx.t("no-data")) } } }
                }
                tfoot { tr {
                    th scope="row" colspan=(heads.len()) { (ctx.t("total")) }
                    td class="num" { (ctx.int(r.total.activities)) }
                    td class="num" { (ctx.usd(r.total.usd.commitments)) }
                    td class="num" { (ctx.usd(r.total.usd.disbursements)) }
                    td class="num" { (ctx.usd(r.total.usd.expenditures)) }
                } }
            }
        }
    }
}

fn org_link(name: &str) -> Markup {
    html! { a href=(format!("/organisation?name={}", enc(name))) { (name) } }
}

fn top_rows(r: &Report, n: usize) -> Report {
    let mut rows = r.rows.clone();
    rows.sort_by(|a, b| {
        (b.usd.disbursements + b.usd.expenditures + b.usd.commitments)
            .cmp(&(a.usd.disbursements + a.usd.expenditures + a.usd.commitments))
            .then_with(|| a.key.cmp(&b.key))
    });
    rows.truncate(n);
    Report { dimensions: r.dimensions.clone(), calendar_year: r.calendar_year, rows, total: r.total.clone() }
}

fn activity_table(ctx: &Ctx, rows: &[ActivityRow]) -> Markup {
    html! {
        div class="table-scroll" tabindex="0" {
            table class="activities" {
                thead { tr {
                    th scope="col" { (ctx.t("identifier")) }
                    th scope="col" { (ctx.t("title")) }
                    th scope="col" { (ctx.t("reporting-org")) }
                    th scope="col" { (ctx.t("countries")) }
                    th scope="col" { (ctx.t("lines-of-effort")) }
                    th scope="col" { (ctx.t("status")) }
                    th scope="col" { (ctx.t("start-date")) }
                    th scope="col" class="num" { (ctx.t("commitments")) }
                    th scope="col" class="num" { (ctx.t("disbursements")) }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(format!("/activity/{}", enc(&r.iati_identifier))) { (r.iati_identifier) } }
                            td { (r.title) }
                            td { (org_link(&r.reporting_org)) }
                            td { (r.countries.replace(';', ", ")) }
                            td { @if r.lines_of_effort.is_empty() { (ctx.t("not-mapped")) } @else { (r.lines_of_effort.replace(';', ", ")) } }
                            td { (ctx.status_label(&r.status)) }
                            td { (ctx.date(&r.start_date)) }
                            td class="num" { (ctx.usd(r.commitments_usd.parse().unwrap_or_default())) }
                            td class="num" { (ctx.usd(r.disbursements_usd.parse().unwrap_or_default())) }
                        }
                    }
                }
            }
        }
    }
}

async fn line_of_effort(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(mut raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let loe = ctx
        .strategy
        .lines_of_effort
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(&id))
        .cloned()
        .ok_or_else(|| pe(WebError::NotFound(format!("line of effort {id:?} in {}", ctx.strategy.id))))?;
    raw.line_of_effort = Some(loe.id.clone());
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?;
    let f = sel.report_filters();
    let (by_cfy, by_org, by_impl) = tokio::join!(
        state.report(&sel.strategy, vec![Dimension::Country, Dimension::FiscalYear], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ReportingOrg], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ImplementingOrg], false, f.clone()),
    );
    let (by_cfy, by_org, by_impl) = (by_cfy.map_err(&pe)?, by_org.map_err(&pe)?, by_impl.map_err(&pe)?);
    // The 20 largest by disbursements: a slice of the cached, ordered id list.
    let rows = crate::list::page(&state, &sel, ActivitySort::Disbursements, None, 20).await.map_err(&pe)?.rows;
    let scope = match ctx.lang() {
        Lang::Es => loe.scope_es.as_deref().unwrap_or(&loe.scope),
        Lang::En => &loe.scope,
    };
    let years = years_of(&by_cfy, 1);
    let (region_views, per_country) = indicator_views_by_country(&state, &ctx.strategy).await.map_err(&pe)?;
    let own: Vec<&IndicatorView> = region_views.iter().filter(|v| v.def.line_of_effort == loe.id).collect();
    let per_country_loe: Vec<(String, Vec<IndicatorView>)> = per_country
        .iter()
        .map(|(c, vs)| (ctx.country_label(c), vs.iter().filter(|v| v.def.line_of_effort == loe.id).cloned().collect()))
        .collect();
    let (st_id, loe_id, lang) = (ctx.strategy.id.clone(), loe.id.clone(), ctx.lang_code().to_owned());
    let iati = state
        .cached(format!("iati-results|{st_id}|{loe_id}|{lang}"), move |s| {
            senda_store::iati_indicator_views(s, &st_id, Some(&loe_id), None, &lang)
        })
        .await
        .map_err(&pe)?;
    let body = html! {
        section { h2 { (ctx.t("loe-scope")) } p class="scope" { (scope) } }
        section {
            h2 { (ctx.t("ind-heading")) }
            p class="note" { (ctx.t("ind-region-note")) }
            (crate::indicators::progress_table(ctx.cat(), ctx.loc, &own))
            details class="progress-charts" {
                summary { (ctx.t("ind-charts-heading")) }
                (crate::indicators::progress_charts(ctx.cat(), ctx.loc, &format!("ind-{}", loe.id.to_lowercase()), &own))
            }
        }
        section {
            h2 { (ctx.t("ind-context-heading")) }
            (crate::indicators::context_charts(ctx.cat(), ctx.loc, &format!("ctx-{}", loe.id.to_lowercase()), &per_country_loe))
        }
        @if !iati.is_empty() {
            section {
                h2 { (ctx.t("ind-iati-heading")) }
                (iati_results_table(&ctx, &iati, 25))
            }
        }
        (fy_form(&ctx, &sel, &years, &[]))
        section {
            h2 { (ctx.t("loe-money-country-fy")) }
            (money_table(&ctx, &by_cfy, |k| html! {
                td { @if k[0].len() == 2 { a href=(format!("/country/{}", k[0])) { (ctx.country_label(&k[0])) } } @else { (ctx.country_label(&k[0])) } }
                td { (ctx.fy(&k[1])) }
            }, &[ctx.t("country"), ctx.t("fy-range")]))
        }
        section { h2 { (ctx.t("agencies")) } (money_table(&ctx, &top_rows(&by_org, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("reporting-org")])) }
        section { h2 { (ctx.t("implementers")) } (money_table(&ctx, &top_rows(&by_impl, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("implementing-org")])) }
        section {
            h2 { (ctx.t("loe-activities")) }
            (activity_table(&ctx, &rows))
            p { a href=(format!("/activities?line_of_effort={}&sort=disbursements", loe.id)) { (ctx.t("see-all-activities")) } }
        }
    };
    Ok(ctx.page(&ctx.loe_label(&loe.id), body))
}

async fn country(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(code): Path<String>,
    Query(mut raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let known = code.eq_ignore_ascii_case("REGIONAL")
        || code.eq_ignore_ascii_case("UNKNOWN")
        || senda_core::CountryCode::parse(&code).is_ok();
    if !known {
        return Err(pe(WebError::NotFound(format!(
            "country {code:?} (an ISO 3166-1 alpha-2 code, REGIONAL or UNKNOWN)"
        ))));
    }
    raw.country = Some(code.clone());
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?;
    let c = sel.country.clone().unwrap_or_default();
    let f = sel.report_filters();
    let (by_lfy, by_org) = tokio::join!(
        state.report(&sel.strategy, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ReportingOrg], false, f.clone()),
    );
    let (by_lfy, by_org) = (by_lfy.map_err(&pe)?, by_org.map_err(&pe)?);
    let cc = c.clone();
    let depts = state.cached(format!("departments|{c}"), move |s| s.departments(&cc)).await.map_err(&pe)?;
    let years = years_of(&by_lfy, 1);
    let series = disbursement_series(&ctx.strategy, &by_lfy, &years);
    let chart = ChartData {
        id: "chart-country-fy".into(),
        title: format!("{} · {}", ctx.t("chart-disb-fy-loe"), ctx.country_label(&c)),
        categories: years.iter().map(|y| ctx.fy(y)).collect(),
        series,
    };
    let (views, iati) = match senda_core::CountryCode::parse(&c) {
        Ok(cc) => {
            let st = Arc::clone(&ctx.strategy);
            let key = format!("indicators|{}|{c}", st.id);
            let v = state
                .cached(key, move |s| senda_store::indicator_views(s, &st, &Scope::Countries(vec![cc])))
                .await
                .map_err(&pe)?;
            let (st_id, lang, c2) = (ctx.strategy.id.clone(), ctx.lang_code().to_owned(), c.clone());
            let iati = state
                .cached(format!("iati-results|{st_id}|country:{c2}|{lang}"), move |s| {
                    senda_store::iati_indicator_views(s, &st_id, None, Some(&c2), &lang)
                })
                .await
                .map_err(&pe)?;
            (Some(v), iati)
        }
        Err(_) => (None, Arc::new(Vec::new())),
    };
    let body = html! {
        (fy_form(&ctx, &sel, &years, &[]))
        section { (charts::columns(&chart, ctx.cat(), ctx.loc, &ctx.t("usd-millions"))) }
        @if let Some(views) = &views {
            section {
                h2 { (ctx.t("ind-context-heading")) }
                p class="note" { (ctx.t("ind-context-country-note")) }
                (crate::indicators::context_charts(ctx.cat(), ctx.loc, "ctx-country", &[(ctx.country_label(&c), views.as_ref().clone())]))
            }
            section {
                h2 { (ctx.t("ind-heading")) }
                (crate::indicators::progress_table(ctx.cat(), ctx.loc, &views.iter().collect::<Vec<_>>()))
                details class="progress-charts" {
                    summary { (ctx.t("ind-charts-heading")) }
                    (crate::indicators::progress_charts(ctx.cat(), ctx.loc, "ind-country", &views.iter().collect::<Vec<_>>()))
                }
            }
        }
        @if !iati.is_empty() {
            section { h2 { (ctx.t("ind-iati-heading")) } (iati_results_table(&ctx, &iati, 25)) }
        }
        section {
            h2 { (ctx.t("country-money-loe-fy")) }
            (money_table(&ctx, &by_lfy, |k| html! {
                td { @if k[0] == NOT_MAPPED { (ctx.loe_label(&k[0])) } @else { a href=(format!("/loe/{}", k[0])) { (ctx.loe_label(&k[0])) } } }
                td { (ctx.fy(&k[1])) }
            }, &[ctx.t("line-of-effort"), ctx.t("fy-range")]))
        }
        section { h2 { (ctx.t("agencies")) } (money_table(&ctx, &top_rows(&by_org, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("reporting-org")])) }
        section {
            h2 { (ctx.t("departments")) }
            @if depts.is_empty() { p { (ctx.t("no-departments")) } } @else {
                @let depts = &depts[..depts.len().min(100)];
                table {
                    thead { tr { th scope="col" { (ctx.t("vocabulary")) } th scope="col" { (ctx.t("department-code")) } th scope="col" { (ctx.t("department-names")) } th scope="col" class="num" { (ctx.t("activities")) } } }
                    tbody { @for d in depts { tr { td { (d.vocabulary) } td { (d.code) } td { (d.names) } td class="num" { (ctx.int(d.activities)) } } } }
                }
            }
        }
        p { a href=(format!("/activities?country={c}")) { (ctx.t("see-all-activities")) } }
    };
    Ok(ctx.page(&ctx.country_label(&c), body))
}

/// Indicator views over the focus countries together, and per focus country (cached per
/// data generation).
type PerCountryViews = Vec<(String, Vec<IndicatorView>)>;
async fn indicator_views_by_country(
    state: &Arc<AppState>,
    strategy: &Arc<Strategy>,
) -> Result<(Arc<Vec<IndicatorView>>, Arc<PerCountryViews>), WebError> {
    let st = Arc::clone(strategy);
    let region = state
        .cached(format!("indicators|{}|region", st.id), move |s| {
            senda_store::indicator_views(s, &st, &Scope::Countries(st.focus_countries.clone()))
        })
        .await?;
    let st = Arc::clone(strategy);
    let per = state
        .cached(format!("indicators|{}|per-country", st.id), move |s| {
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
    let data = state
        .cached(format!("printable|{}|{}", strategy.id, lang.code()), move |s| {
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
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?;
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
                (select_opts("sort", ctx.t("sort"), Some(sort.name()), ActivitySort::ALL.iter().map(|s| (s.name().to_owned(), ctx.t(&format!("sort-{}", s.name())))).collect(), String::new()))
                button type="submit" { (ctx.t("apply")) }
                " " a href="/activities" { (ctx.t("reset")) }
            }
        }
        p class="count" role="status" { (ctx.ta("matching", &[("count", ctx.int(total))])) }
        p { a class="csv" href=(format!("/activities.csv?{}", query_string(&pairs))) download { (ctx.t("download-csv")) } " " small { (ctx.t("csv-rows-note")) } }
        @if rows.is_empty() { p { (ctx.t("no-activities")) } } @else { (activity_table(&ctx, &rows)) }
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
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?;
    let sort = raw.sort().map_err(&pe)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let pool = Arc::clone(&state.pool);
    let excludes = sel.excludes_iati();
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
                let _ = w.write_record(crate::api::csv_record(r));
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

fn narrative_block(ctx: &Ctx, a: &Activity, ns: &[senda_core::Narrative]) -> Markup {
    let want = ctx.lang().code();
    let shown = pick_narrative(ns, Some(want), a.default_language.as_deref()).unwrap_or("");
    let others: Vec<&senda_core::Narrative> = ns.iter().filter(|n| n.text != shown).collect();
    html! {
        p { (shown) }
        @if !others.is_empty() {
            details { summary { (ctx.t("other-narratives")) }
                @for n in others { p lang=[n.lang.as_deref()] { small { "[" (n.lang.as_deref().or(a.default_language.as_deref()).unwrap_or("?")) "] " } (n.text) } }
            }
        }
    }
}

fn evidence_words(ctx: &Ctx, e: &Evidence) -> String {
    let field_kind = e.kind.as_str();
    let key = format!("field-{field_kind}");
    let field =
        if ctx.cat().has(ctx.lang(), &key) { format!("{} ({})", ctx.t(&key), e.field) } else { e.field.clone() };
    ctx.ta(
        "evidence-rule",
        &[
            ("rule", e.rule.to_string()),
            ("loe", ctx.loe_label(&e.line_of_effort)),
            ("field", field),
            ("value", format!("“{}”", e.value)),
        ],
    )
}

async fn activity(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let sid = ctx.strategy.id.clone();
    let ident = id.clone();
    let d: ActivityDetail = state.pool.run(move |s| s.activity(&ident, &sid)).await.map_err(&pe)?;
    let a = &d.activity;
    let title = pick_narrative(&a.title, Some(ctx.lang().code()), a.default_language.as_deref())
        .unwrap_or(a.iati_identifier.as_str())
        .to_owned();
    let rule_of = |rid: &str| ctx.strategy.rules.iter().find(|r| r.id == rid).map(|r| r.note.clone());
    let effective: Vec<String> =
        d.override_.as_ref().map(|o| o.lines_of_effort.clone()).unwrap_or_else(|| d.rule_lines.clone());
    let labels = |ls: &[String]| ls.iter().map(|l| ctx.loe_label(l)).collect::<Vec<_>>().join("; ");
    let body = html! {
        section aria-labelledby="map-h" class="mapping" {
            h2 id="map-h" { (ctx.t("mapping-explained")) }
            @if effective.is_empty() { p class="verdict" { (ctx.t("mapped-to-none")) } }
            @else { p class="verdict" { (ctx.ta("mapped-to", &[("lines", labels(&effective))])) } }
            @if let Some(o) = &d.override_ {
                p { @if o.lines_of_effort.is_empty() {
                        (ctx.ta("override-none", &[("date", ctx.date(&o.created_at)), ("note", o.note.clone())]))
                    } @else {
                        (ctx.ta("override-note", &[("lines", labels(&o.lines_of_effort)), ("date", ctx.date(&o.created_at)), ("note", o.note.clone())]))
                    } }
                p { (ctx.ta("rules-said", &[("lines", if d.rule_lines.is_empty() { ctx.t("not-mapped") } else { labels(&d.rule_lines) })])) }
            }
            @if !d.override_log.is_empty() {
                details class="override-history" {
                    summary { (ctx.t("override-history")) }
                    ol {
                        @for e in &d.override_log {
                            @let lines = if e.lines_of_effort.is_empty() { ctx.t("not-mapped") } else { labels(&e.lines_of_effort) };
                            @let key = if e.action == "set" { "override-history-set" } else { "override-history-unset" };
                            li { (ctx.ta(key, &[("date", ctx.date(&e.at)), ("lines", lines), ("note", e.note.clone())])) }
                        }
                    }
                }
            }
            @if d.evidence.is_empty() { p { (ctx.t("evidence-none")) } } @else {
                ul class="evidence" {
                    @for e in &d.evidence {
                        li { (evidence_words(&ctx, e))
                            @if let Some(n) = rule_of(&e.rule) { br; small { (ctx.ta("evidence-note", &[("note", n)])) } } }
                    }
                }
            }
        }
        section aria-labelledby="f-h" {
            h2 id="f-h" { (ctx.t("activity-fields")) }
            dl class="fields" {
                dt { (ctx.t("identifier")) } dd { code { (a.iati_identifier.as_str()) } }
                dt { (ctx.t("reporting-org")) } dd { (org_link(a.reporting_org.display_name())) @if let Some(r) = &a.reporting_org.r#ref { " " code { (r) } } }
                dt { (ctx.t("title")) } dd { (narrative_block(&ctx, a, &a.title)) }
                @for dsc in &a.descriptions { dt { (ctx.t("description")) @if let Some(t) = &dsc.description_type { " (" (t) ")" } } dd { (narrative_block(&ctx, a, &dsc.narratives)) } }
                dt { (ctx.t("status")) } dd { (ctx.status_label(a.status.as_deref().unwrap_or(""))) }
                dt { (ctx.t("dates")) } dd { ul { @for dt_ in &a.dates { li { (ctx.t(&format!("datetype-{}", dt_.date_type))) ": " (ctx.date(&dt_.date.to_string())) } } } }
                dt { (ctx.t("humanitarian")) } dd { (match a.humanitarian { Some(true) => ctx.t("yes"), Some(false) => ctx.t("no"), None => String::new() }) }
                @if let Some(v) = &a.iati_version { dt { "iati-version" } dd { (v) } }
                @if let Some(v) = &a.default_language { dt { "default-language" } dd { (v) } }
                @if let Some(v) = &a.last_updated { dt { "last-updated-datetime" } dd { (v) } }
                @if let Some(v) = &a.hierarchy { dt { "hierarchy" } dd { (v) } }
                @if let Some(v) = &a.scope { dt { "activity-scope" } dd { (v) } }
                @if let Some(v) = &a.collaboration_type { dt { "collaboration-type" } dd { (v) } }
                @if let Some(v) = &a.default_flow_type { dt { "default-flow-type" } dd { (v) } }
                @if let Some(v) = &a.default_finance_type { dt { "default-finance-type" } dd { (v) } }
                @if !a.default_aid_types.is_empty() { dt { "default-aid-type" } dd { (a.default_aid_types.join(", ")) } }
                dt { (ctx.t("source")) } dd { (ctx.ta("source-file", &[("file", d.source.0.rsplit('/').next().unwrap_or("").to_owned()), ("position", d.source.1.to_string())])) }
            }
        }
        @if !a.participating_orgs.is_empty() { section { h2 { (ctx.t("participating-orgs")) } table {
            thead { tr { th scope="col" { (ctx.t("organisation")) } th scope="col" { "ref" } th scope="col" { (ctx.t("role")) } } }
            tbody { @for p in &a.participating_orgs { tr { td { (org_link(p.org.display_name())) } td { (p.org.r#ref.as_deref().unwrap_or("")) }
                td { @if let Some(r) = &p.role { (ctx.t(&format!("orgrole-{r}"))) } } } } }
        } } }
        section { h2 { (ctx.t("recipient-countries")) } ul {
            @for c in &a.recipient_countries { li { a href=(format!("/country/{}", c.code.as_str())) { (ctx.country_label(c.code.as_str())) } @if let Some(p) = &c.percentage { " · " (ctx.loc.percent(p.value())) } } }
            @for r in &a.recipient_regions { li { (ctx.t("recipient-regions")) ": " (r.code) " (" (r.vocabulary) ")" @if let Some(p) = &r.percentage { " · " (ctx.loc.percent(p.value())) } } }
        } }
        @if !a.sectors.is_empty() { section { h2 { (ctx.t("sectors")) } table {
            thead { tr { th scope="col" { (ctx.t("code")) } th scope="col" { (ctx.t("vocabulary")) } th scope="col" { (ctx.t("title")) } th scope="col" class="num" { (ctx.t("percentage")) } } }
            tbody { @for s in &a.sectors { tr { td { (s.code) } td { (s.vocabulary) } td { (s.name.as_deref().unwrap_or("")) } td class="num" { @if let Some(p) = &s.percentage { (ctx.loc.percent(p.value())) } } } } }
        } } }
        @if !a.policy_markers.is_empty() { section { h2 { (ctx.t("policy-markers")) } ul { @for p in &a.policy_markers { li { (p.code) " (" (p.vocabulary) ")" @if let Some(s) = p.significance { " · " (ctx.t("significance")) " " (s) } } } } } }
        @if !a.tags.is_empty() { section { h2 { (ctx.t("tags")) } ul { @for t in &a.tags { li { (t.code) " (" (t.vocabulary) ")" @if let Some(n) = &t.name { " " (n) } } } } } }
        @if !a.locations.is_empty() { section { h2 { (ctx.t("locations")) } ul { @for l in &a.locations { li {
            (pick_narrative(&l.name, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or(""))
            @for ad in &l.administratives { " · " (ad.vocabulary.as_deref().unwrap_or("")) "/" (ad.level.as_deref().unwrap_or("")) " " (ad.code) }
            @if let Some(p) = &l.point { " · " (format!("{:.4}, {:.4}", p.lat, p.lon)) }
        } } } } }
        section { h2 { (ctx.t("transactions")) " (" (ctx.int(a.transactions.len() as u64)) ")" } div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("transaction-type")) } th scope="col" { (ctx.t("date")) } th scope="col" class="num" { (ctx.t("value")) } th scope="col" { (ctx.t("currency")) } th scope="col" { (ctx.t("value-date")) } th scope="col" { (ctx.t("provider")) } th scope="col" { (ctx.t("receiver")) } th scope="col" { (ctx.t("description")) } } }
            tbody { @for t in a.transactions.iter().take(2000) { tr {
                td { (ctx.t(&format!("ttype-{}", t.transaction_type))) }
                td { (t.date.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                td class="num" { @if let Some(m) = &t.value { (ctx.loc.decimal(m.amount, 2)) } }
                td { @if let Some(m) = &t.value { (m.currency.as_str()) } }
                td { @if let Some(m) = &t.value { (m.value_date.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) } }
                td { (t.provider_org.as_ref().map(|o| o.display_name()).unwrap_or("")) }
                td { (t.receiver_org.as_ref().map(|o| o.display_name()).unwrap_or("")) }
                td { (pick_narrative(&t.description, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("")) }
            } } }
        } } @if a.transactions.len() > 2000 { p { "… " (ctx.int(a.transactions.len() as u64 - 2000)) " · " a href=(format!("/api/v1/activities/{}", enc(a.iati_identifier.as_str()))) { "JSON" } } } }
        @if !a.budgets.is_empty() { section { h2 { (ctx.t("budgets")) } table {
            thead { tr { th scope="col" { (ctx.t("period")) } th scope="col" class="num" { (ctx.t("value")) } th scope="col" { (ctx.t("currency")) } th scope="col" { (ctx.t("status")) } } }
            tbody { @for b in &a.budgets { tr {
                td { (b.period_start.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) " – " (b.period_end.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                td class="num" { @if let Some(m) = &b.value { (ctx.loc.decimal(m.amount, 2)) } }
                td { @if let Some(m) = &b.value { (m.currency.as_str()) } }
                td { (b.status.as_deref().unwrap_or("")) }
            } } }
        } } }
        @if !a.results.is_empty() { section { h2 { (ctx.t("results")) } @for r in &a.results {
            h3 { (pick_narrative(&r.title, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("")) }
            table { thead { tr { th scope="col" { (ctx.t("indicator")) } th scope="col" { (ctx.t("baseline")) } th scope="col" { (ctx.t("period")) } th scope="col" { (ctx.t("target")) } th scope="col" { (ctx.t("actual")) } } }
                tbody { @for i in &r.indicators {
                    @let base = i.baselines.iter().map(|b| format!("{}{}", b.value.clone().unwrap_or_default(), b.year.map(|y| format!(" ({y})")).unwrap_or_default())).collect::<Vec<_>>().join("; ");
                    @let ititle = pick_narrative(&i.title, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("").to_owned();
                    @if i.periods.is_empty() { tr { td { (ititle) } td { (base) } td {} td {} td {} } }
                    @for p in &i.periods { tr {
                        td { (ititle) } td { (base) }
                        td { (p.start.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) " – " (p.end.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                        td { (p.targets.iter().filter_map(|v| v.value.clone()).collect::<Vec<_>>().join("; ")) }
                        td { (p.actuals.iter().filter_map(|v| v.value.clone()).collect::<Vec<_>>().join("; ")) }
                    } }
                } }
            }
        } } }
        @if !a.related_activities.is_empty() { section { h2 { (ctx.t("related-activities")) } ul { @for r in &a.related_activities { li { (r.relation_type) ": " a href=(format!("/activity/{}", enc(&r.r#ref))) { (r.r#ref) } } } } } }
        @if !a.extensions.is_empty() { section { h2 { (ctx.t("other-elements")) } table {
            thead { tr { th scope="col" { "element" } th scope="col" { "parent" } th scope="col" { "attributes" } th scope="col" { (ctx.t("value")) } } }
            tbody { @for x in a.extensions.iter().take(500) { tr {
                td { code { @if let Some(n) = &x.namespace { "{" (n) "}" } (x.name) } } td { code { (x.parent) } }
                td { (x.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")) } td { (x.value) }
            } } }
        } } }
    };
    Ok(ctx.page(&title, body))
}

#[derive(serde::Deserialize)]
struct OrgQuery {
    name: Option<String>,
    strategy: Option<String>,
    lang: Option<String>,
}

async fn organisation(State(state): St, headers: HeaderMap, uri: Uri, Query(q): Query<OrgQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let raw = RawQuery { strategy: q.strategy.clone(), lang: q.lang.clone(), ..Default::default() };
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let name = q
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| pe(WebError::BadRequest("name: give the organisation's name (?name=...)".into())))?;
    let sid = ctx.strategy.id.clone();
    let f_rep = [(Dimension::ReportingOrg, vec![name.clone()])].into_iter().collect();
    let f_imp = [(Dimension::ImplementingOrg, vec![name.clone()])].into_iter().collect();
    let (rep, imp) = tokio::join!(
        state.report(&sid, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f_rep),
        state.report(&sid, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f_imp),
    );
    let (rep, imp) = (rep.map_err(&pe)?, imp.map_err(&pe)?);
    if rep.rows.is_empty() && imp.rows.is_empty() {
        return Err(pe(WebError::NotFound(format!("organisation {name:?}"))));
    }
    let key = |k: &[String]| {
        html! {
            td { @if k[0] == NOT_MAPPED { (ctx.loe_label(&k[0])) } @else { a href=(format!("/loe/{}", k[0])) { (ctx.loe_label(&k[0])) } } }
            td { (ctx.fy(&k[1])) }
        }
    };
    let heads = [ctx.t("line-of-effort"), ctx.t("fy-range")];
    let body = html! {
        @if !rep.rows.is_empty() { section { h2 { (ctx.t("org-as-funder")) } (money_table(&ctx, &rep, key, &heads))
            p { a href=(format!("/activities?reporting_org={}", enc(&name))) { (ctx.t("see-all-activities")) } } } }
        @if !imp.rows.is_empty() { section { h2 { (ctx.t("org-as-implementer")) } (money_table(&ctx, &imp, key, &heads))
            p { a href=(format!("/activities?implementing_org={}", enc(&name))) { (ctx.t("see-all-activities")) } } } }
    };
    Ok(ctx.page(&name, body))
}

fn num(v: &serde_json::Value, k: &str) -> u64 {
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(0)
}

async fn imports(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let (runs, quality) = state.pool.run(|s| Ok((s.runs(100)?, s.data_quality()?))).await.map_err(&pe)?;
    let body = html! {
        @if runs.is_empty() { p { (ctx.t("imports-none")) } } @else {
            div class="table-scroll" tabindex="0" { table {
                thead { tr { th scope="col" { "#" } th scope="col" { (ctx.t("started")) } th scope="col" class="num" { (ctx.t("files")) }
                    th scope="col" class="num" { (ctx.t("created")) } th scope="col" class="num" { (ctx.t("updated")) } th scope="col" class="num" { (ctx.t("unchanged")) }
                    th scope="col" class="num" { (ctx.t("rejected")) } th scope="col" class="num" { (ctx.t("warnings")) } th scope="col" class="num" { (ctx.t("errors")) } } }
                tbody { @for r in &runs { tr {
                    td { a href=(format!("/imports/{}", r.id)) { (ctx.ta("run", &[("id", r.id.to_string())])) } }
                    td { (r.started_at.get(..19).unwrap_or(&r.started_at).replace('T', " ")) " UTC" }
                    td class="num" { (ctx.int(num(&r.report, "files"))) }
                    td class="num" { (ctx.int(num(&r.report, "created"))) }
                    td class="num" { (ctx.int(num(&r.report, "updated"))) }
                    td class="num" { (ctx.int(num(&r.report, "unchanged"))) }
                    td class="num" { (ctx.int(num(&r.report, "rejected"))) }
                    td class="num" { (ctx.int(num(&r.report, "warnings"))) }
                    td class="num" { (ctx.int(num(&r.report, "errors"))) }
                } } }
            } }
        }
        section { h2 { (ctx.t("data-quality")) }
            @if quality.is_empty() { p { (ctx.t("no-data")) } } @else { table {
                thead { tr { th scope="col" { (ctx.t("publisher")) } th scope="col" { (ctx.t("severity")) } th scope="col" class="num" { "n" } } }
                tbody { @for q in &quality { tr { td { (crate::paths::shown(&q.publisher)) } td { (q.severity) } td class="num" { (ctx.int(q.count)) } } } }
            } }
        }
    };
    Ok(ctx.page(&ctx.t("imports-title"), body))
}

async fn import_run(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let id: i64 = id.parse().map_err(|_| pe(WebError::NotFound(format!("import run {id:?}"))))?;
    let (runs, diags) =
        state.pool.run(move |s| Ok((s.runs(u64::MAX >> 1)?, s.run_diagnostics(id)?))).await.map_err(&pe)?;
    let run =
        runs.into_iter().find(|r| r.id == id).ok_or_else(|| pe(WebError::NotFound(format!("import run {id}"))))?;
    let mut files = run.report.get("file_reports").cloned().unwrap_or_default();
    // Diagnostics live in their own table (the stored report keeps the counts).
    let mut diags = serde_json::to_value(&diags).unwrap_or_default();
    // Paths relative to what was imported, never the server's folders.
    crate::paths::relative_to_run(&mut [&mut files, &mut diags]);
    let (files, diags) = (files.as_array().cloned().unwrap_or_default(), diags.as_array().cloned().unwrap_or_default());
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k).map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).unwrap_or_default()
    };
    let body = html! {
        p { (ctx.t("started")) ": " (run.started_at) " · " (ctx.t("finished")) ": " (run.finished_at) }
        h2 { (ctx.t("files")) }
        div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("files")) } th scope="col" { (ctx.t("status")) } th scope="col" class="num" { (ctx.t("created")) } th scope="col" class="num" { (ctx.t("updated")) } th scope="col" class="num" { (ctx.t("unchanged")) } th scope="col" class="num" { (ctx.t("rejected")) } th scope="col" { (ctx.t("errors")) } } }
            tbody { @for f in &files { tr { td { (s(f, "path")) } td { (s(f, "status")) } td class="num" { (num(f, "created")) } td class="num" { (num(f, "updated")) } td class="num" { (num(f, "unchanged")) } td class="num" { (num(f, "rejected")) } td { (s(f, "error").replace("null", "")) } } } }
        } }
        h2 { (ctx.t("diagnostics")) " (" (ctx.int(diags.len() as u64)) ")" }
        div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("severity")) } th scope="col" { (ctx.t("files")) } th scope="col" { (ctx.t("line-col")) } th scope="col" { (ctx.t("identifier")) } th scope="col" { "element" } th scope="col" { (ctx.t("message")) } } }
            tbody { @for d in diags.iter().take(1000) { tr {
                td { (s(d, "severity")) } td { (s(d, "file")) } td { (num(d, "line")) ":" (num(d, "column")) }
                td { (s(d, "identifier").replace("null", "")) } td { (s(d, "element").replace("null", "")) } td { (s(d, "message")) }
            } } }
        } }
    };
    Ok(ctx.page(&ctx.ta("run", &[("id", id.to_string())]), body))
}

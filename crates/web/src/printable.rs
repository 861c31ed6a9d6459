//! The printable progress report: ONE self-contained HTML document (inline print CSS for A4,
//! inline accessible SVG charts each followed by its data table, no script, no external asset,
//! no web font) in English or Spanish, which `senda report --format html|pdf|xlsx` writes and
//! `GET /report` serves.
//!
//! Content, in order: a cover with the summary (strategy, data as of, synthetic-data banner,
//! grand totals, unconverted amounts, one row per line of effort with indicator status counts);
//! one section per line of effort (money by country and fiscal year, main interventions,
//! indicators against targets, context trends, IATI results of the mapped activities); one
//! section per focus country (money by line of effort and fiscal year, indicators, context);
//! a data coverage section (publishers by focus country and fiscal years, the expected
//! publishers a focus country lacks, every file's generated-datetime), which the cover flags
//! when a focus country lacks an expected publisher.
//!
//! This module reads through the [`Store`] trait only and knows nothing of HTTP: the route
//! lives in `pages.rs`. [`collect`] gathers every figure once ([`PrintData`]); the HTML is
//! rendered from it, and the CLI's XLSX export reads the same data, so both agree.

use crate::charts::{self, ChartData};
use crate::i18n::{CatalogError, Catalogs, Lang, Locale};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;
use senda_core::accounts::ReadScope;
use senda_core::entered::{EnteredRecord, entered_report};
use senda_core::indicator::{Combined, Direction, IndicatorKind, SeriesPoint, Status};
use senda_core::indicator::{IndicatorDef, Scope};
use senda_core::report::{Dimension, Filters, NOT_MAPPED, Report, Totals, combine};
use senda_core::{Period, Strategy};
use senda_store::{ActivityFilter, ActivityRow, ActivitySort, IatiIndicatorView, IndicatorView, Store, StoreError};
use std::collections::BTreeMap;

mod cover;
mod coverage;
mod style;

pub use style::PRINT_CSS;

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Reading the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A message catalogue did not parse (a build defect).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// What goes into the report beyond the fixed layout.
#[derive(Debug, Clone)]
pub struct PrintOptions {
    /// Activities listed as main interventions per line of effort (largest disbursements first).
    pub top_activities: u64,
    /// IATI result indicators listed per line of effort at most (the count of all is printed).
    pub iati_results: usize,
    /// Fiscal years shown in the context tables of country sections (the latest ones).
    pub context_years: usize,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self { top_activities: 10, iati_results: 15, context_years: 6 }
    }
}

/// Every figure of the report, computed once from the store.
#[derive(Debug, Clone)]
pub struct PrintData {
    /// True when the database holds synthetic (demo) activities.
    pub synthetic: bool,
    /// The latest import (IATI run end, or statistics/results file import), RFC 3339.
    pub data_as_of: Option<String>,
    /// Money by line of effort (its total is the grand total of `senda report`).
    pub by_loe: Report,
    /// Money by line of effort and country (`NOT_MAPPED` rows included).
    pub by_loe_country: Report,
    /// Money by line of effort, country and fiscal year (`NOT_MAPPED` rows included).
    pub by_loe_country_fy: Report,
    /// Per focus country (ISO alpha-2): money by line of effort and fiscal year.
    pub by_country: BTreeMap<String, Report>,
    /// Per focus country (ISO alpha-2): money by line of effort.
    pub by_country_loe: BTreeMap<String, Report>,
    /// Indicators over the focus countries together (the region), in the strategy's order.
    pub regional: Vec<IndicatorView>,
    /// Indicators per focus country.
    pub per_country: BTreeMap<String, Vec<IndicatorView>>,
    /// Per line of effort: the largest activities by disbursements.
    pub top_activities: BTreeMap<String, Vec<ActivityRow>>,
    /// Per line of effort: IATI result indicators of its mapped activities (all of them).
    pub iati_results: BTreeMap<String, Vec<IatiIndicatorView>>,
    /// Activities with a negative commitment or disbursement (de-obligations, returns): per
    /// line of effort (and `NOT_MAPPED`), and in all under the key `""`.
    pub negative_activities: BTreeMap<String, u64>,
    /// Per line of effort: the **published** partner contributions to it (given on the
    /// contribution or through the intervention contributed to), latest first, at most 20.
    pub contributions: BTreeMap<String, Vec<senda_store::contributions::ContributionRecord>>,
    /// Which publishers have data for which focus country and fiscal years, and the gaps
    /// against the strategy's expected publishers (`senda_core::coverage`).
    pub coverage: senda_core::coverage::Coverage,
    /// Every imported file with its generated-datetime.
    pub files: Vec<senda_store::SourceFileInfo>,
}

/// Reads every figure the report shows. `lang` picks the narratives of IATI results.
pub fn collect(
    store: &dyn Store,
    strategy: &Strategy,
    lang: Lang,
    opts: &PrintOptions,
) -> Result<PrintData, StoreError> {
    let facts = senda_store::load_facts(store)?;
    let infos = store.activity_classes(&strategy.id)?;
    // A document for the public: imported activities and the **published** entered
    // interventions (their money once; see `senda_core::entered`).
    let entered_records = store.interventions_for_report(&strategy.id, ReadScope::PublishedOnly)?;
    let entered: Vec<EnteredRecord<'_>> = entered_records
        .iter()
        .map(|r| EnteredRecord { organisation_name: &r.organisation_name, intervention: &r.intervention })
        .collect();
    let report = |dims: Vec<Dimension>, filters: Filters| {
        combine(
            dims,
            false,
            filters,
            |d, f| facts.report(&infos, d, false, f),
            |d, f| entered_report(&entered, &strategy.id, d, false, f),
        )
    };
    let by_loe = report(vec![Dimension::LineOfEffort], Filters::new());
    let by_loe_country = report(vec![Dimension::LineOfEffort, Dimension::Country], Filters::new());
    let by_loe_country_fy =
        report(vec![Dimension::LineOfEffort, Dimension::Country, Dimension::FiscalYear], Filters::new());
    let mut by_country = BTreeMap::new();
    let mut by_country_loe = BTreeMap::new();
    let mut per_country = BTreeMap::new();
    for c in &strategy.focus_countries {
        let mut f = Filters::new();
        f.insert(Dimension::Country, vec![c.as_str().to_owned()]);
        by_country
            .insert(c.as_str().to_owned(), report(vec![Dimension::LineOfEffort, Dimension::FiscalYear], f.clone()));
        by_country_loe.insert(c.as_str().to_owned(), report(vec![Dimension::LineOfEffort], f));
        per_country
            .insert(c.as_str().to_owned(), senda_store::indicator_views(store, strategy, &Scope::Countries(vec![*c]))?);
    }
    let regional = senda_store::indicator_views(store, strategy, &Scope::Countries(strategy.focus_countries.clone()))?;
    let mut top_activities = BTreeMap::new();
    let mut iati_results = BTreeMap::new();
    for l in &strategy.lines_of_effort {
        let rows = store.list_activities(&ActivityFilter {
            strategy: strategy.id.clone(),
            line_of_effort: Some(l.id.clone()),
            sort: ActivitySort::Disbursements,
            limit: Some(opts.top_activities),
            ..Default::default()
        })?;
        top_activities.insert(l.id.clone(), rows);
        iati_results.insert(
            l.id.clone(),
            senda_store::iati_indicator_views(store, &strategy.id, Some(&l.id), None, lang.code())?,
        );
    }
    let mut contributions = BTreeMap::new();
    for l in &strategy.lines_of_effort {
        let filter = senda_store::contributions::ContributionFilter {
            line_of_effort: Some(l.id.clone()),
            limit: 20,
            ..Default::default()
        };
        // A printed report leaves the server: published contributions only, whoever prints it.
        contributions
            .insert(l.id.clone(), store.contributions(&filter, senda_core::accounts::ReadScope::PublishedOnly)?);
    }
    let mut negative_activities = BTreeMap::new();
    let lines = strategy.lines_of_effort.iter().map(|l| Some(l.id.clone())).chain([Some(NOT_MAPPED.to_owned()), None]);
    for l in lines {
        let n = store.count_activities_matching(&ActivityFilter {
            strategy: strategy.id.clone(),
            line_of_effort: l.clone(),
            negative_money: true,
            ..Default::default()
        })?;
        negative_activities.insert(l.unwrap_or_default(), n);
    }
    let last_run = store.runs(1)?.into_iter().next().map(|r| r.finished_at);
    let last_values = store.value_files()?.into_iter().map(|f| f.imported_at).max();
    Ok(PrintData {
        synthetic: store.synthetic_presence()?.0,
        data_as_of: last_run.into_iter().chain(last_values).max(),
        by_loe,
        by_loe_country,
        by_loe_country_fy,
        by_country,
        by_country_loe,
        regional,
        per_country,
        top_activities,
        iati_results,
        negative_activities,
        contributions,
        coverage: senda_store::coverage::coverage_view(store, strategy)?,
        files: store.source_files()?,
    })
}

/// The whole report as one self-contained HTML document in `locale`'s language and number
/// format (see the module documentation for its content).
pub fn render_report_html(
    store: &dyn Store,
    strategy: &Strategy,
    locale: &Locale,
    opts: &PrintOptions,
) -> Result<String, PrintError> {
    let data = collect(store, strategy, locale.lang, opts)?;
    let cat = Catalogs::load()?;
    Ok(render(&data, strategy, &cat, *locale, opts))
}

/// Renders collected data (what [`render_report_html`] does after [`collect`]).
pub fn render(data: &PrintData, strategy: &Strategy, cat: &Catalogs, loc: Locale, opts: &PrintOptions) -> String {
    let p = Printer { cat, loc, st: strategy, data, opts };
    p.document().into_string()
}

/// Result indicators of line of effort `loe` over the focus countries, by status:
/// `[achieved, on track, off track, not assessable, no data]`. "Not assessable": values exist
/// but there is no target or no baseline, or they cannot be combined; "no data": no actual.
pub fn status_counts(data: &PrintData, loe: &str) -> [u64; 5] {
    let mut n = [0u64; 5];
    for v in data.regional.iter().filter(|v| v.def.line_of_effort == loe && v.def.kind == IndicatorKind::Result) {
        n[match v.progress.status {
            Status::Achieved => 0,
            Status::OnTrack => 1,
            Status::OffTrack => 2,
            Status::NoTarget | Status::NoBaseline | Status::NotAggregable => 3,
            Status::NoActual => 4,
        }] += 1;
    }
    n
}

struct Printer<'a> {
    cat: &'a Catalogs,
    loc: Locale,
    st: &'a Strategy,
    data: &'a PrintData,
    opts: &'a PrintOptions,
}

impl Printer<'_> {
    fn t(&self, key: &str) -> String {
        self.cat.t(self.loc.lang, key)
    }
    fn ta(&self, key: &str, args: &[(&str, String)]) -> String {
        self.cat.t_args(self.loc.lang, key, args)
    }
    fn usd(&self, d: Decimal) -> String {
        self.loc.usd(d)
    }
    fn int(&self, n: u64) -> String {
        self.loc.int(i64::try_from(n).unwrap_or(i64::MAX))
    }
    fn fy(&self, y: &str) -> String {
        self.cat.fy_label(self.loc.lang, y)
    }
    fn loe_title(&self, id: &str) -> String {
        self.cat.loe_title(self.loc.lang, self.st, id)
    }
    fn loe_label(&self, id: &str) -> String {
        if id == NOT_MAPPED { self.loe_title(id) } else { format!("{id}: {}", self.loe_title(id)) }
    }
    fn country_name(&self, code: &str) -> String {
        let key = format!("country-{code}");
        if self.cat.has(self.loc.lang, &key) { self.t(&key) } else { code.to_owned() }
    }
    fn period(&self, p: &Period) -> String {
        crate::indicators::period_label(self.cat, self.loc, p)
    }
    fn value(&self, unit: &str, v: Decimal) -> String {
        let dp = if v.fract().is_zero() { 0 } else { 1 };
        match unit {
            "percent" => self.loc.percent(v),
            "USD" => self.usd(v),
            _ => self.loc.decimal(v, dp),
        }
    }
    fn point(&self, unit: &str, p: &Option<SeriesPoint>, with_period: bool) -> Markup {
        match p {
            None => html! { span class="na" { "—" } },
            Some(sp) => match sp.value {
                Combined::NotAggregable => html! { span class="na" { (self.t("print-not-aggregable")) } },
                Combined::Value(v) => html! {
                    (self.value(unit, v))
                    @if with_period { br; span class="note" { (self.period(&sp.period)) } }
                },
            },
        }
    }
    fn status(&self, s: Status) -> Markup {
        html! { span class=(format!("status status-{}", s.as_str())) { (self.t(&format!("print-status-{}", s.as_str()))) } }
    }

    /// Page numbers and the report's name at the foot of every printed page (CSS paged media
    /// margin boxes, which Chromium prints; the text is the reader's language).
    fn page_footer_css(&self) -> String {
        let css_string = |s: String| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        format!(
            "@page {{ @bottom-left {{ content: {}; font-size: 8pt; color: #5f6b73; }} @bottom-right {{ content: {} counter(page) {} counter(pages); font-size: 8pt; color: #5f6b73; }} }}",
            css_string(format!("Senda · {} · {}", self.t("print-title"), self.st.short_title)),
            css_string(format!("{} ", self.t("print-page"))),
            css_string(format!(" {} ", self.t("print-page-of"))),
        )
    }

    fn document(&self) -> Markup {
        let title = format!("{} · {}", self.t("print-title"), self.st.short_title);
        html! {
            (DOCTYPE)
            html lang=(self.loc.lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="generator" content="Senda";
                    title { (title) }
                    style { (PreEscaped(PRINT_CSS)) (PreEscaped(self.page_footer_css())) }
                }
                body {
                    (self.cover())
                    @for l in &self.st.lines_of_effort { (self.loe_section(&l.id)) }
                    @for c in &self.st.focus_countries { (self.country_section(c.as_str())) }
                    (self.coverage_section())
                }
            }
        }
    }

    /// A money table: key cells, activities, commitments, disbursements, expenditures, total.
    fn money_table(
        &self,
        caption: &str,
        heads: &[String],
        rows: &[(Vec<String>, u64, Totals)],
        total: Option<(u64, Totals)>,
    ) -> Markup {
        html! {
            table class="money" {
                caption { (caption) }
                thead { tr {
                    @for h in heads { th scope="col" { (h) } }
                    th scope="col" class="num" { (self.t("activities")) }
                    th scope="col" class="num" { (self.t("commitments")) }
                    th scope="col" class="num" { (self.t("disbursements")) }
                    th scope="col" class="num" { (self.t("expenditures")) }
                } }
                tbody {
                    @for (keys, n, t) in rows {
                        tr {
                            @for (i, k) in keys.iter().enumerate() {
                                @if i == 0 { th scope="row" { (k) } } @else { td { (k) } }
                            }
                            td class="num" { (self.int(*n)) }
                            td class="num" { (self.signed(t.commitments)) }
                            td class="num" { (self.signed(t.disbursements)) }
                            td class="num" { (self.usd(t.expenditures)) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan=(heads.len() + 4) { (self.t("no-data")) } } }
                }
                @if let Some((n, t)) = total {
                    tfoot { tr {
                        th scope="row" colspan=(heads.len()) { (self.t("total")) }
                        td class="num" { (self.int(n)) }
                        td class="num" { (self.signed(t.commitments)) }
                        td class="num" { (self.signed(t.disbursements)) }
                        td class="num" { (self.usd(t.expenditures)) }
                    } }
                }
            }
            @if rows.iter().any(|r| crate::negative::is_negative(&r.2)) || total.is_some_and(|(_, t)| crate::negative::is_negative(&t)) {
                p class="note" { sup class="neg-mark" { "*" } " " (self.t("print-negative-see-summary")) }
            }
        }
    }

    fn loe_section(&self, loe: &str) -> Markup {
        let d = self.data;
        let rows: Vec<&senda_core::report::Row> = d.by_loe_country_fy.rows.iter().filter(|r| r.key[0] == loe).collect();
        let total = d.by_loe.rows.iter().find(|r| r.key[0] == loe).map(|r| (r.activities, r.usd));
        let table_rows: Vec<(Vec<String>, u64, Totals)> = d
            .by_loe_country
            .rows
            .iter()
            .filter(|r| r.key[0] == loe)
            .map(|r| (vec![self.country_label(&r.key[1])], r.activities, r.usd))
            .collect();
        // Chart: fiscal years on x, one series per country (the six largest; the rest summed).
        let mut years: Vec<String> = rows.iter().map(|r| r.key[2].clone()).filter(|y| y.len() == 4).collect();
        years.sort();
        years.dedup();
        let mut by_country: BTreeMap<&str, Decimal> = BTreeMap::new();
        for r in &rows {
            *by_country.entry(r.key[1].as_str()).or_default() += r.usd.disbursements;
        }
        let mut order: Vec<(&str, Decimal)> = by_country.into_iter().collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let shown: Vec<&str> = order.iter().take(6).map(|x| x.0).collect();
        let mut series: Vec<(String, Vec<Decimal>)> = shown
            .iter()
            .map(|c| {
                let vals = years
                    .iter()
                    .map(|y| {
                        rows.iter().filter(|r| r.key[1] == *c && &r.key[2] == y).map(|r| r.usd.disbursements).sum()
                    })
                    .collect();
                (self.country_name(c), vals)
            })
            .collect();
        if order.len() > shown.len() {
            let vals = years
                .iter()
                .map(|y| {
                    rows.iter()
                        .filter(|r| !shown.contains(&r.key[1].as_str()) && &r.key[2] == y)
                        .map(|r| r.usd.disbursements)
                        .sum()
                })
                .collect();
            series.push((self.t("print-other-countries"), vals));
        }
        let chart = ChartData {
            id: format!("chart-{loe}-country-fy"),
            title: format!("{} · {loe}", self.t("print-chart-country-fy")),
            categories: years.iter().map(|y| self.fy(y)).collect(),
            series,
        };
        let scope = self.st.line_of_effort(loe).map(|l| match self.loc.lang {
            Lang::Es => l.scope_es.clone().unwrap_or_else(|| l.scope.clone()),
            Lang::En => l.scope.clone(),
        });
        html! {
            section class="part loe-section" id=(format!("loe-{loe}")) aria-labelledby=(format!("loe-{loe}-h")) {
                p class="kicker" { (self.t("line-of-effort")) " " (loe) }
                h2 id=(format!("loe-{loe}-h")) { (self.loe_label(loe)) }
                @if let Some(s) = scope { p class="scope" { (s) } }
                h3 { (self.t("loe-money-country-fy")) }
                (printable_chart(charts::columns(&chart, self.cat, self.loc, &self.t("usd-unit"))))
                (self.money_table(&self.t("print-money-by-country"), &[self.t("country")], &table_rows, total))
                (self.interventions(loe))
                (self.contributions(loe))
                (self.indicator_table(&self.t("print-indicators"), self.data.regional.iter().filter(|v| v.def.line_of_effort == loe && v.def.kind == IndicatorKind::Result), true))
                (printable_chart(crate::indicators::progress_charts(self.cat, self.loc, &format!("print-ind-{}", loe.to_lowercase()),
                    &self.data.regional.iter().filter(|v| v.def.line_of_effort == loe).collect::<Vec<_>>())))
                (self.context_trends(loe))
                (self.iati_results(loe))
            }
        }
    }

    fn country_label(&self, code: &str) -> String {
        let name = self.country_name(code);
        if name == code { name } else { format!("{name} ({code})") }
    }

    /// The published partner contributions to `loe`: kind, organisation, description, money.
    fn contributions(&self, loe: &str) -> Markup {
        let rows = self.data.contributions.get(loe).map(Vec::as_slice).unwrap_or(&[]);
        let lang = match self.loc.lang {
            Lang::Es => senda_core::intervention::Lang::Es,
            Lang::En => senda_core::intervention::Lang::En,
        };
        // Nothing at all when there is none (a report without contributions is unchanged).
        html! {
            @if !rows.is_empty() {
                h3 { (self.t("contrib-heading")) }
                table class="contributions" {
                    thead { tr {
                        th scope="col" { (self.t("contrib-date")) }
                        th scope="col" { (self.t("contrib-kind")) }
                        th scope="col" { (self.t("contrib-organisation")) }
                        th scope="col" { (self.t("contrib-description")) }
                        th scope="col" class="num" { (self.t("contrib-money")) }
                    } }
                    tbody { @for r in rows {
                        @let c = &r.contribution;
                        tr {
                            td { (self.cat.date(self.loc.lang, &c.date.to_string())) }
                            td { (c.kind.label(lang)) " · " (c.form.label(lang)) }
                            td { (r.organisation_name) }
                            td { (clip(c.description.get(lang), 300)) }
                            td class="num" { @if let Some(m) = &c.money {
                                @if m.currency.as_str() == "USD" { (self.usd(m.amount)) } @else { (self.loc.decimal(m.amount, 2)) " " (m.currency.as_str()) }
                            } }
                        }
                    } }
                }
            }
        }
    }

    fn interventions(&self, loe: &str) -> Markup {
        let rows = self.data.top_activities.get(loe).map(Vec::as_slice).unwrap_or(&[]);
        html! {
            h3 { (self.ta("print-interventions", &[("count", self.opts.top_activities.to_string())])) }
            @if rows.is_empty() { p { (self.t("no-data")) } } @else {
                table class="activities" {
                    thead { tr {
                        th scope="col" { (self.t("title")) }
                        th scope="col" { (self.t("reporting-org")) }
                        th scope="col" { (self.t("countries")) }
                        th scope="col" class="num" { (self.t("commitments")) }
                        th scope="col" class="num" { (self.t("disbursements")) }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { (r.title) br; span class="ident" { (r.iati_identifier) } }
                                td { (r.reporting_org) }
                                td { (r.countries.replace(';', ", ")) }
                                td class="num" { (self.usd(r.commitments_usd.parse().unwrap_or_default())) }
                                td class="num" { (self.usd(r.disbursements_usd.parse().unwrap_or_default())) }
                            }
                        }
                    }
                }
                p class="note" { (self.t("print-interventions-note")) }
            }
        }
    }

    fn indicator_table<'v>(
        &self,
        heading: &str,
        views: impl Iterator<Item = &'v IndicatorView>,
        regional: bool,
    ) -> Markup {
        let views: Vec<&IndicatorView> = views.collect();
        let countries: Vec<String> = self.st.focus_countries.iter().map(|c| self.country_name(c.as_str())).collect();
        html! {
            h3 { (heading) }
            @if views.is_empty() { p { (self.t("print-no-indicators")) } } @else {
                @if regional { p class="note" { (self.ta("print-indicators-scope", &[("countries", countries.join(", "))])) } }
                table class="indicators" {
                    thead { tr {
                        th scope="col" { (self.t("indicator")) }
                        th scope="col" { (self.t("print-unit")) }
                        th scope="col" class="num" { (self.t("baseline")) }
                        th scope="col" class="num" { (self.t("target")) }
                        th scope="col" class="num" { (self.t("print-latest-actual")) }
                        th scope="col" class="num" { (self.t("print-percent-of-target")) }
                        th scope="col" { (self.t("status")) }
                    } }
                    tbody {
                        @for v in &views {
                            @let p = &v.progress;
                            tr {
                                td { strong { (v.def.code) } " " (v.def.name_in(self.loc.lang.code()))
                                    @if v.older_version_values > 0 { br; span class="note" { (self.ta("print-older-versions", &[("count", v.older_version_values.to_string())])) } } }
                                td { (self.cat.unit(self.loc.lang, &v.def.unit)) " " span class="note" { (self.t(match v.def.direction { Direction::Up => "print-direction-up", Direction::Down => "print-direction-down" })) } }
                                td class="num" { (self.point(&v.def.unit, &p.baseline, true)) }
                                td class="num" { (self.point(&v.def.unit, &p.target, true)) }
                                td class="num" { (self.point(&v.def.unit, &p.latest_actual, true)) }
                                td class="num" {
                                    @match (p.status, p.percent_of_target) {
                                        (Status::NotAggregable, _) => { span class="na" { (self.t("print-not-aggregable")) } }
                                        (_, Some(pct)) => { (self.loc.percent(pct)) }
                                        (_, None) => { span class="na" { "—" } }
                                    }
                                }
                                td { (self.status(p.status)) }
                            }
                        }
                    }
                }
            }
        }
    }

    fn context_trends(&self, loe: &str) -> Markup {
        let defs: Vec<&IndicatorDef> =
            self.st.indicators_of(loe).filter(|d| d.kind == IndicatorKind::Context).collect();
        html! {
            @if !defs.is_empty() {
                h3 { (self.t("print-context")) }
                @for def in defs { (self.context_chart(def)) }
            }
        }
    }

    fn context_chart(&self, def: &IndicatorDef) -> Markup {
        // Fiscal years on x, one series per focus country.
        let mut years: Vec<i32> = Vec::new();
        let mut per: Vec<(String, &IndicatorView)> = Vec::new();
        for c in &self.st.focus_countries {
            if let Some(v) =
                self.data.per_country.get(c.as_str()).and_then(|vs| vs.iter().find(|v| v.def.code == def.code))
            {
                years.extend(v.by_fiscal_year.iter().filter_map(|p| match p.period {
                    Period::FiscalYear(y) => Some(y),
                    _ => None,
                }));
                per.push((self.country_name(c.as_str()), v));
            }
        }
        years.sort_unstable();
        years.dedup();
        let value_of = |v: &IndicatorView, y: i32| -> Decimal {
            v.by_fiscal_year
                .iter()
                .find(|p| p.period == Period::FiscalYear(y))
                .and_then(|p| p.value.value())
                .unwrap_or_default()
        };
        let partial: Option<(i32, u32)> = years.last().and_then(|&y| {
            per.iter()
                .filter_map(|(_, v)| {
                    let i = v.by_fiscal_year.iter().position(|p| p.period == Period::FiscalYear(y))?;
                    v.fiscal_year_months.get(i).copied()
                })
                .max()
                .filter(|m| *m < 12)
                .map(|m| (y, m))
        });
        let chart = ChartData {
            id: format!("chart-{}", def.code),
            title: format!("{} · {}", def.code, def.name_in(self.loc.lang.code())),
            categories: years.iter().map(|y| self.fy(&y.to_string())).collect(),
            series: per
                .iter()
                .map(|(name, v)| (name.clone(), years.iter().map(|y| value_of(v, *y)).collect()))
                .collect(),
        };
        let unit = format!("{} · {}", self.cat.unit(self.loc.lang, &def.unit), self.t("print-per-fiscal-year"));
        html! {
            @if years.is_empty() {
                p { strong { (def.code) } " " (def.name_in(self.loc.lang.code())) ": " (self.t("print-context-none")) }
            } @else {
                (printable_chart(charts::count_columns(&chart, self.cat, self.loc, &unit)))
                @if let Some((y, m)) = partial {
                    p class="note" { (self.ta("print-partial-fy", &[("year", self.fy(&y.to_string())), ("months", m.to_string())])) }
                }
                p class="note" { (self.t("source")) ": " (def.source)
                    // Indicator notes are written in English only (strategy files).
                    @if let Some(n) = def.note.as_ref().filter(|_| self.loc.lang == Lang::En) { " " (n) } }
            }
        }
    }

    fn iati_results(&self, loe: &str) -> Markup {
        let all = self.data.iati_results.get(loe).map(Vec::as_slice).unwrap_or(&[]);
        let shown = &all[..all.len().min(self.opts.iati_results)];
        let activities = {
            let mut ids: Vec<&str> = all.iter().map(|r| r.iati_identifier.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        let pair = |p: &Option<(String, Decimal)>| -> Markup {
            match p {
                Some((date, v)) => {
                    html! { (self.loc.decimal(*v, if v.fract().is_zero() { 0 } else { 2 })) @if !date.is_empty() { br; span class="note" { (self.cat.date(self.loc.lang, date)) } } }
                }
                None => html! { span class="na" { "—" } },
            }
        };
        html! {
            h3 { (self.t("print-iati-results")) }
            @if all.is_empty() { p { (self.t("print-iati-none")) } } @else {
                p class="note" { (self.ta("print-iati-count", &[
                    ("shown", self.int(shown.len() as u64)),
                    ("total", self.int(all.len() as u64)),
                    ("activities", self.int(activities as u64)),
                ])) }
                table class="iati-results" {
                    thead { tr {
                        th scope="col" { (self.t("activity")) }
                        th scope="col" { (self.t("indicator")) }
                        th scope="col" class="num" { (self.t("baseline")) }
                        th scope="col" class="num" { (self.t("target")) }
                        th scope="col" class="num" { (self.t("actual")) }
                        th scope="col" class="num" { (self.t("print-percent-of-target")) }
                    } }
                    tbody {
                        @for r in shown {
                            tr {
                                td { (clip(&r.activity_title, 90)) br; span class="ident" { (r.iati_identifier) } }
                                td { (clip(&r.indicator_title, 120)) }
                                td class="num" { (pair(&r.baseline.map(|(y, v)| (y.map(|y| y.to_string()).unwrap_or_default(), v)))) }
                                td class="num" { (pair(&r.target)) }
                                td class="num" { (pair(&r.actual)) }
                                td class="num" { @match r.percent_of_target { Some(p) => { (self.loc.percent(p)) } None => { span class="na" { "—" } } } }
                            }
                        }
                    }
                }
            }
        }
    }

    fn country_section(&self, code: &str) -> Markup {
        let r = self.data.by_country.get(code);
        let empty = Report {
            dimensions: vec![],
            calendar_year: false,
            rows: vec![],
            total: senda_core::report::Row {
                key: vec![],
                activities: 0,
                usd: Totals::default(),
                unconverted: BTreeMap::new(),
            },
        };
        let r = r.unwrap_or(&empty);
        let years = crate::pages::years_of(r, 1);
        let chart = ChartData {
            id: format!("chart-{code}-loe-fy"),
            title: format!("{} · {}", self.t("chart-disb-fy-loe"), self.country_name(code)),
            categories: years.iter().map(|y| self.fy(y)).collect(),
            series: crate::pages::disbursement_series(self.st, r, &years),
        };
        let rows: Vec<(Vec<String>, u64, Totals)> = self
            .data
            .by_country_loe
            .get(code)
            .map(|r| r.rows.iter().map(|row| (vec![self.loe_label(&row.key[0])], row.activities, row.usd)).collect())
            .unwrap_or_default();
        let views = self.data.per_country.get(code).map(Vec::as_slice).unwrap_or(&[]);
        html! {
            section class="part country-section" id=(format!("country-{code}")) aria-labelledby=(format!("country-{code}-h")) {
                p class="kicker" { (self.t("country")) " " (code) }
                h2 id=(format!("country-{code}-h")) { (self.country_label(code)) }
                ul class="totals" {
                    li { span class="label" { (self.t("commitments")) } span class="value" { (self.signed(r.total.usd.commitments)) } }
                    li { span class="label" { (self.t("disbursements")) } span class="value" { (self.signed(r.total.usd.disbursements)) } }
                    li { span class="label" { (self.t("expenditures")) } span class="value" { (self.usd(r.total.usd.expenditures)) } }
                    li { span class="label" { (self.t("activities")) } span class="value" { (self.int(r.total.activities)) } }
                }
                h3 { (self.t("country-money-loe-fy")) }
                (printable_chart(charts::columns(&chart, self.cat, self.loc, &self.t("usd-unit"))))
                (self.money_table(&self.t("print-money-by-loe"), &[self.t("line-of-effort")], &rows, Some((r.total.activities, r.total.usd))))
                p class="note" { (self.t("print-country-money-note")) }
                (self.indicator_table(&self.t("print-indicators"), views.iter().filter(|v| v.def.kind == IndicatorKind::Result), false))
                (self.country_context(views))
            }
        }
    }

    fn country_context(&self, views: &[IndicatorView]) -> Markup {
        let ctx: Vec<&IndicatorView> =
            views.iter().filter(|v| v.def.kind == IndicatorKind::Context && !v.by_fiscal_year.is_empty()).collect();
        let mut years: Vec<Period> = ctx.iter().flat_map(|v| v.by_fiscal_year.iter().map(|p| p.period)).collect();
        years.sort();
        years.dedup();
        let years: Vec<Period> = years.split_off(years.len().saturating_sub(self.opts.context_years));
        html! {
            h3 { (self.t("print-context")) }
            @if ctx.is_empty() { p { (self.t("print-context-none")) } } @else {
                table class="context" {
                    caption { (self.t("print-context-table")) }
                    thead { tr {
                        th scope="col" { (self.t("indicator")) }
                        @for y in &years { th scope="col" class="num" { (self.period(y)) } }
                    } }
                    tbody {
                        @for v in &ctx {
                            tr {
                                th scope="row" { strong { (v.def.code) } " " (v.def.name_in(self.loc.lang.code())) }
                                @for y in &years {
                                    @let i = v.by_fiscal_year.iter().position(|p| p.period == *y);
                                    td class="num" {
                                        @match i.map(|i| (&v.by_fiscal_year[i], v.fiscal_year_months.get(i).copied().unwrap_or(12))) {
                                            None => { span class="na" { "—" } }
                                            Some((p, m)) => {
                                                @match p.value { Combined::Value(x) => { (self.value(&v.def.unit, x)) } Combined::NotAggregable => { span class="na" { (self.t("print-not-aggregable")) } } }
                                                @if m < 12 { br; span class="note" { (self.ta("print-months", &[("months", m.to_string())])) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p class="note" { (self.t("print-context-note")) }
            }
        }
    }
}

/// A chart as printed: its data table shown open (a closed `details` would not print).
fn printable_chart(m: Markup) -> Markup {
    PreEscaped(m.into_string().replace("<details class=\"chart-data\">", "<details class=\"chart-data\" open>"))
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

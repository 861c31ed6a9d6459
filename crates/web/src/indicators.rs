//! Indicator and statistics rendering shared by the dashboard pages and the printable report:
//! the progress table (baseline, target, latest actual, percent of target, status) and the
//! context charts (a statistic per fiscal year by country, beside the money).
//! No HTTP here: functions take the catalogues and the locale.

use crate::charts::{self, ChartData};
use crate::i18n::{Catalogs, Lang, Locale};
use maud::{Markup, html};
use rust_decimal::Decimal;
use senda_core::indicator::{Combined, IndicatorKind, SeriesPoint, Status};
use senda_store::IndicatorView;

fn t(cat: &Catalogs, loc: Locale, key: &str) -> String {
    cat.t(loc.lang, key)
}

/// A value in the locale (`not aggregable` for a value the rules cannot combine).
pub fn combined(cat: &Catalogs, loc: Locale, c: &Combined, unit: &str) -> String {
    match c {
        Combined::Value(v) => {
            let dp = if v.fract().is_zero() { 0 } else { 1 };
            let n = loc.decimal(*v, dp);
            if unit == "percent" { format!("{n} %") } else { n }
        }
        Combined::NotAggregable => t(cat, loc, "ind-not-aggregable"),
    }
}

/// A period label in the locale: `FY 2024` / `AF 2024`, `Oct 2023`, `Q4 2023` / `T4 2023`, `2023`.
pub fn period_label(cat: &Catalogs, loc: Locale, p: &senda_core::Period) -> String {
    match p {
        senda_core::Period::FiscalYear(y) => cat.fy_label(loc.lang, &y.to_string()),
        senda_core::Period::Month { year, month } => {
            format!("{} {year}", cat.t(loc.lang, &format!("month-{month}")))
        }
        senda_core::Period::Quarter { year, quarter } => match loc.lang {
            Lang::Es => format!("T{quarter} {year}"),
            Lang::En => format!("Q{quarter} {year}"),
        },
        senda_core::Period::Year(y) => y.to_string(),
    }
}

fn point(cat: &Catalogs, loc: Locale, p: &Option<SeriesPoint>, unit: &str) -> Markup {
    match p {
        Some(p) => html! { (combined(cat, loc, &p.value, unit)) br; small { (period_label(cat, loc, &p.period)) } },
        None => html! { "—" },
    }
}

/// The status word, translated, with a CSS class `status-<word>`.
pub fn status(cat: &Catalogs, loc: Locale, s: Status) -> Markup {
    html! { span class=(format!("status status-{}", s.as_str())) { (t(cat, loc, &format!("ind-status-{}", s.as_str()))) } }
}

/// The progress table of result indicators (`views` already filtered to what the page shows).
pub fn progress_table(cat: &Catalogs, loc: Locale, views: &[&IndicatorView]) -> Markup {
    let results: Vec<&&IndicatorView> = views.iter().filter(|v| v.def.kind == IndicatorKind::Result).collect();
    if results.is_empty() {
        return html! { p { (t(cat, loc, "ind-none")) } };
    }
    html! {
        table class="indicators" {
            thead { tr {
                th scope="col" { (t(cat, loc, "ind-indicator")) }
                th scope="col" class="num" { (t(cat, loc, "ind-baseline")) }
                th scope="col" class="num" { (t(cat, loc, "ind-target")) }
                th scope="col" class="num" { (t(cat, loc, "ind-latest-actual")) }
                th scope="col" class="num" { (t(cat, loc, "ind-percent-of-target")) }
                th scope="col" { (t(cat, loc, "ind-status")) }
            } }
            tbody {
                @for v in results {
                    @let p = &v.progress;
                    tr {
                        td {
                            strong { (v.def.code) } " " (v.def.name_in(if loc.lang == Lang::Es { "es" } else { "en" }))
                            br; small {
                                (t(cat, loc, "ind-unit")) ": " (cat.unit(loc.lang, &v.def.unit)) " · "
                                (t(cat, loc, if v.def.direction == senda_core::indicator::Direction::Up { "ind-direction-up" } else { "ind-direction-down" }))
                                @if v.older_version_values > 0 {
                                    " · " (cat.t_args(loc.lang, "ind-older-values", &[("count", v.older_version_values.to_string())]))
                                }
                            }
                        }
                        td class="num" { (point(cat, loc, &p.baseline, &v.def.unit)) }
                        td class="num" { (point(cat, loc, &p.target, &v.def.unit)) }
                        td class="num" { (point(cat, loc, &p.latest_actual, &v.def.unit)) }
                        td class="num" { @match p.percent_of_target { Some(x) => (format!("{} %", loc.decimal(x, 1))), None => "—" } }
                        td { (status(cat, loc, p.status)) }
                    }
                }
            }
        }
    }
}

/// Context indicators as charts: one chart per context indicator with data, the statistic per
/// fiscal year (categories) for each `(country label, views of that country)` (series).
/// Partial fiscal years are named in the chart's note.
pub fn context_charts(
    cat: &Catalogs,
    loc: Locale,
    id_prefix: &str,
    per_country: &[(String, Vec<IndicatorView>)],
) -> Markup {
    let Some((_, first)) = per_country.first() else { return html! {} };
    let lang = if loc.lang == Lang::Es { "es" } else { "en" };
    html! {
        @for (i, def) in first.iter().map(|v| &v.def).enumerate().filter(|(_, d)| d.kind == IndicatorKind::Context) {
            @let years: Vec<senda_core::Period> = per_country.iter().flat_map(|(_, vs)| vs[i].by_fiscal_year.iter().map(|p| p.period)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            @if years.is_empty() {
                p class="no-data" { strong { (def.code) } " " (def.name_in(lang)) ": " (t(cat, loc, "ind-no-statistics")) }
            } @else {
                @let series: Vec<(String, Vec<Decimal>)> = per_country.iter().map(|(label, vs)| {
                    let v = &vs[i];
                    (label.clone(), years.iter().map(|y| v.by_fiscal_year.iter().find(|p| p.period == *y).and_then(|p| p.value.value()).unwrap_or_default()).collect())
                }).collect();
                @let partial: Vec<String> = per_country.iter().flat_map(|(_, vs)| {
                    let v = &vs[i];
                    v.by_fiscal_year.iter().zip(&v.fiscal_year_months).filter(|(_, m)| **m < 12).map(|(p, m)| format!("{} ({m})", period_label(cat, loc, &p.period))).collect::<Vec<_>>()
                }).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
                @let chart = ChartData {
                    id: format!("{id_prefix}-{}", def.code.to_lowercase()),
                    title: format!("{} {}", def.code, def.name_in(lang)),
                    categories: years.iter().map(|y| period_label(cat, loc, y)).collect(),
                    series,
                };
                div class="context" {
                    (charts::count_columns(&chart, cat, loc, &cat.unit(loc.lang, &def.unit)))
                    p class="source" {
                        (t(cat, loc, "ind-source")) ": " (def.source)
                        @if !partial.is_empty() { " · " (t(cat, loc, "ind-partial-years")) ": " (partial.join(", ")) }
                    }
                }
            }
        }
    }
}

fn progress_chart_data(cat: &Catalogs, loc: Locale, id_prefix: &str, v: &IndicatorView) -> Option<ChartData> {
    let lang = if loc.lang == Lang::Es { "es" } else { "en" };
    let actuals: Vec<(senda_core::Period, Decimal)> =
        v.progress.actuals.iter().filter_map(|p| p.value.value().map(|x| (p.period, x))).collect();
    if actuals.is_empty() {
        return None;
    }
    let targets: Option<Vec<Decimal>> = actuals
        .iter()
        .map(|(period, _)| v.progress.targets.iter().find(|t| t.period == *period).and_then(|t| t.value.value()))
        .collect();
    let mut series = vec![(t(cat, loc, "ind-actual"), actuals.iter().map(|(_, x)| *x).collect::<Vec<_>>())];
    if let Some(tv) = targets {
        series.push((t(cat, loc, "ind-target"), tv));
    }
    Some(ChartData {
        id: format!("{id_prefix}-{}", v.def.code.to_lowercase()),
        title: format!("{} {} ({})", v.def.code, v.def.name_in(lang), cat.unit(loc.lang, &v.def.unit)),
        categories: actuals.iter().map(|(p, _)| period_label(cat, loc, p)).collect(),
        series,
    })
}

/// One time-series chart per result indicator with actuals: the actual per period, and the
/// target per period when every charted period has one. Periods whose value the rules cannot
/// combine are left out of the chart (the progress table says "not aggregable"); an indicator
/// with no numeric actual has no chart.
pub fn progress_charts(cat: &Catalogs, loc: Locale, id_prefix: &str, views: &[&IndicatorView]) -> Markup {
    html! {
        @for v in views.iter().filter(|v| v.def.kind == IndicatorKind::Result) {
            @if let Some(chart) = progress_chart_data(cat, loc, id_prefix, v) {
                div class="progress-chart" { (charts::count_columns(&chart, cat, loc, &cat.unit(loc.lang, &v.def.unit))) }
            }
        }
    }
}

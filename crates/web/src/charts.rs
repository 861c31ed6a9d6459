//! Accessible SVG charts. Drawing is done by the `charts-rs` library; Senda adds what a
//! screen-reader and keyboard user needs: `role="img"`, a `<title>` and `<desc>`, and the
//! values as a real table right after the chart (focusable, so it is reachable by keyboard),
//! which also prints.

use crate::i18n::{Catalogs, Locale};
use charts_rs::{BarChart, HorizontalBarChart, Series};
use maud::{Markup, PreEscaped, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// One chart: categories along an axis and one or more series of exact values.
pub struct ChartData {
    /// Element id prefix (unique on the page).
    pub id: String,
    /// Title (shown, and the SVG's accessible name).
    pub title: String,
    /// Category labels (x axis for columns, y axis for horizontal bars).
    pub categories: Vec<String>,
    /// Series: name and one value per category (USD, or counts for [`count_columns`]).
    pub series: Vec<(String, Vec<Decimal>)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Millions of USD as drawn (the table keeps exact values).
fn millions(d: &Decimal) -> f32 {
    (d / Decimal::from(1_000_000)).round_dp(2).to_f32().unwrap_or(0.0)
}

const COLORS: [&str; 10] =
    ["#1f5f8b", "#d9822b", "#3a8f5c", "#b53d3d", "#7356a8", "#8c6d31", "#c85a9e", "#5f6b73", "#2a9d9d", "#a3a32a"];

fn accessible(svg: String, id: &str, title: &str, desc: &str) -> String {
    let head = format!(
        "<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" focusable=\"false\" class=\"chart\" preserveAspectRatio=\"xMinYMin meet\""
    );
    let mut s = svg.replacen("<svg", &head, 1);
    if let Some(pos) = s.find('>') {
        s.insert_str(
            pos + 1,
            &format!("<title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>", esc(title), esc(desc)),
        );
    }
    // The library sizes the SVG in pixels; the viewBox makes it scale with the page.
    s
}

fn table(c: &ChartData, cat: &Catalogs, loc: Locale, fmt: &dyn Fn(Decimal) -> String) -> Markup {
    html! {
        details class="chart-data" {
            summary { (cat.t(loc.lang, "chart-data")) }
            div class="table-scroll" tabindex="0" role="region" aria-label=(c.title) {
                table {
                    caption { (c.title) }
                    thead { tr { th scope="col" { "" } @for (name, _) in &c.series { th scope="col" { (name) } } } }
                    tbody {
                        @for (i, label) in c.categories.iter().enumerate() {
                            tr {
                                th scope="row" { (label) }
                                @for (_, vals) in &c.series {
                                    td class="num" { (fmt(vals.get(i).copied().unwrap_or_default())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Grouped columns (categories on the x axis), values in millions of USD on the y axis.
pub fn columns(c: &ChartData, cat: &Catalogs, loc: Locale, y_label: &str) -> Markup {
    let series: Vec<Series> =
        c.series.iter().map(|(name, vals)| Series::new(name.clone(), vals.iter().map(millions).collect())).collect();
    let mut chart = BarChart::new(series, c.categories.clone());
    chart.width = 760.0;
    chart.height = 360.0;
    chart.title_text = String::new();
    chart.sub_title_text = String::new();
    let _ = y_label;
    chart.series_colors = COLORS.iter().map(|x| (*x).into()).collect();
    let svg = chart.svg().unwrap_or_default();
    figure(c, cat, loc, svg, y_label, &|v| loc.usd(v))
}

/// Horizontal bars (categories on the y axis), values in millions of USD.
pub fn bars(c: &ChartData, cat: &Catalogs, loc: Locale, x_label: &str) -> Markup {
    let series: Vec<Series> =
        c.series.iter().map(|(name, vals)| Series::new(name.clone(), vals.iter().map(millions).collect())).collect();
    let mut chart = HorizontalBarChart::new(series, c.categories.clone());
    chart.width = 760.0;
    chart.height = (80.0 + 28.0 * c.categories.len() as f32).max(160.0);
    chart.title_text = String::new();
    chart.legend_show = Some(c.series.len() > 1);
    let _ = x_label;
    chart.series_colors = COLORS.iter().map(|x| (*x).into()).collect();
    let svg = chart.svg().unwrap_or_default();
    figure(c, cat, loc, svg, x_label, &|v| loc.usd(v))
}

/// Grouped columns of counts (encounters, people, visas): values drawn as they are, the table
/// in the locale's integer format (one decimal when a value has a fraction).
pub fn count_columns(c: &ChartData, cat: &Catalogs, loc: Locale, y_label: &str) -> Markup {
    let series: Vec<Series> = c
        .series
        .iter()
        .map(|(name, vals)| Series::new(name.clone(), vals.iter().map(|v| v.to_f32().unwrap_or(0.0)).collect()))
        .collect();
    let mut chart = BarChart::new(series, c.categories.clone());
    chart.width = 760.0;
    chart.height = 320.0;
    chart.title_text = String::new();
    chart.sub_title_text = String::new();
    chart.series_colors = COLORS.iter().map(|x| (*x).into()).collect();
    let svg = chart.svg().unwrap_or_default();
    let dp = if c.series.iter().flat_map(|(_, v)| v).all(|v| v.fract().is_zero()) { 0 } else { 1 };
    figure(c, cat, loc, svg, y_label, &|v| loc.decimal(v, dp))
}

fn figure(
    c: &ChartData,
    cat: &Catalogs,
    loc: Locale,
    svg: String,
    unit: &str,
    fmt: &dyn Fn(Decimal) -> String,
) -> Markup {
    let desc = cat.t(loc.lang, "chart-desc");
    html! {
        figure class="chart-figure" id=(c.id) {
            figcaption { (c.title) " · " (unit) }
            @if c.categories.is_empty() {
                p { (cat.t(loc.lang, "no-data")) }
            } @else {
                (PreEscaped(accessible(svg, &c.id, &c.title, &desc)))
                (table(c, cat, loc, fmt))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_accessible_svg_with_a_table() {
        let cat = Catalogs::load().expect("catalogues");
        let c = ChartData {
            id: "c1".into(),
            title: "Disbursements <by> year".into(),
            categories: vec!["FY2022".into(), "FY2023".into()],
            series: vec![("LOE1".into(), vec![Decimal::from(1_500_000), Decimal::from(2_250_000)])],
        };
        let html = columns(&c, &cat, Locale::EN, "USD millions").into_string();
        assert!(html.contains("<svg role=\"img\" aria-labelledby=\"c1-t c1-d\""), "{}", &html[..300.min(html.len())]);
        assert!(html.contains("<title id=\"c1-t\">Disbursements &lt;by&gt; year</title>"));
        assert!(html.contains("$2,250,000"), "exact values in the table");
        assert!(html.contains("FY2023"));
        assert!(!html.contains("<script"));
    }
}

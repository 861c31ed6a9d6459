//! Accessible SVG charts. Senda draws the SVG itself ([`draw`]: bars from zero, negatives
//! below it, round ticks in the reader's locale, stacked bars or small multiples for many
//! series, the container's width, the page's font); this module adds what a screen-reader and
//! keyboard user needs: `role="img"`, a `<title>` and `<desc>`, and the values as a real table
//! right after the chart (focusable, so it is reachable by keyboard), which also prints.

pub mod draw;

use crate::i18n::{Catalogs, Locale};
use draw::{Layout, Measure, Plot};
use maud::{Markup, PreEscaped, html};
use rust_decimal::Decimal;

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

fn accessible(svg: String, id: &str, title: &str, desc: &str) -> String {
    let head = format!("<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" focusable=\"false\" class=\"chart\"");
    let mut s = svg.replacen("<svg", &head, 1);
    if let Some(pos) = s.find('>') {
        s.insert_str(
            pos + 1,
            &format!("<title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>", draw::esc(title), draw::esc(desc)),
        );
    }
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

/// The layout for money: side by side for a few series, stacked for more (money adds up).
fn money_layout(c: &ChartData) -> Layout {
    if c.series.len() <= draw::GROUPED_MAX { Layout::Grouped } else { Layout::Stacked }
}

/// Columns of U.S. dollars (categories on the x axis): grouped for up to three series, stacked
/// for more (positive parts above zero, negative parts below).
pub fn columns(c: &ChartData, cat: &Catalogs, loc: Locale, y_label: &str) -> Markup {
    let layout = money_layout(c);
    let p = Plot { categories: &c.categories, series: &c.series, measure: Measure::Usd, loc };
    let svg = draw::columns(&p, layout, 280.0);
    figure(c, cat, loc, svg, layout, y_label, &|v| loc.usd(v))
}

/// Horizontal bars of U.S. dollars (categories on the y axis).
pub fn bars(c: &ChartData, cat: &Catalogs, loc: Locale, x_label: &str) -> Markup {
    let p = Plot { categories: &c.categories, series: &c.series, measure: Measure::Usd, loc };
    let svg = draw::bars(&p);
    figure(c, cat, loc, svg, Layout::Grouped, x_label, &|v| loc.usd(v))
}

/// Columns of counts (encounters, people, visas): grouped for up to three series, one small
/// panel per series on a shared scale for more (counts of different places or kinds are not
/// always additive, so they are not stacked). The table is in the locale's integer format
/// (one decimal when a value has a fraction).
pub fn count_columns(c: &ChartData, cat: &Catalogs, loc: Locale, y_label: &str) -> Markup {
    let layout = if c.series.len() <= draw::GROUPED_MAX { Layout::Grouped } else { Layout::SmallMultiples };
    let p = Plot { categories: &c.categories, series: &c.series, measure: Measure::Count, loc };
    let svg = draw::columns(&p, layout, 220.0);
    let dp = if c.series.iter().flat_map(|(_, v)| v).all(|v| v.fract().is_zero()) { 0 } else { 1 };
    figure(c, cat, loc, svg, layout, y_label, &|v| loc.decimal(v, dp))
}

fn figure(
    c: &ChartData,
    cat: &Catalogs,
    loc: Locale,
    svg: String,
    layout: Layout,
    unit: &str,
    fmt: &dyn Fn(Decimal) -> String,
) -> Markup {
    let desc = cat.t(
        loc.lang,
        match layout {
            Layout::Grouped => "chart-desc",
            Layout::Stacked => "chart-desc-stacked",
            Layout::SmallMultiples => "chart-desc-panels",
        },
    );
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

//! The SVG geometry of Senda's charts, drawn by Senda itself (no charting library): a value
//! axis that always contains zero with round ticks (1, 2 or 5 times a power of ten) written in
//! the reader's locale, bars that start at zero (negative values go below the zero line, or
//! left of it), grouped bars for up to [`GROUPED_MAX`] series, stacked bars (positive parts
//! above zero, negative parts below) or small multiples (one panel per series on one shared
//! scale) for more, a legend that wraps, category labels thinned so that they never overlap,
//! and a `viewBox` so the chart takes the width of its container. No font is named: text
//! inherits the page's font.
//!
//! Coordinates are `f64` (drawing only); the values and tick labels come from exact decimals.

use crate::i18n::{Lang, Locale};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

/// Series drawn side by side at most; more are stacked or drawn as small multiples.
pub const GROUPED_MAX: usize = 3;

/// Series colours (colour-blind-safe order first; the legend names every one).
pub const COLORS: [&str; 10] =
    ["#1f5f8b", "#d9822b", "#3a8f5c", "#b53d3d", "#7356a8", "#8c6d31", "#c85a9e", "#5f6b73", "#2a9d9d", "#a3a32a"];

/// The width of every chart's coordinate system (the SVG scales to its container).
pub const WIDTH: f64 = 960.0;
const FONT: f64 = 13.0;
/// Average advance of a character of a sans-serif font, in em (generous, so text is not clipped).
const CHAR_EM: f64 = 0.62;

/// How several series share the categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Side by side in each category.
    Grouped,
    /// On top of each other: positive parts upwards from zero, negative parts downwards.
    Stacked,
    /// One panel per series, all on the same scale.
    SmallMultiples,
}

/// What the value axis counts: U.S. dollars or plain counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// U.S. dollars.
    Usd,
    /// People, encounters, days, percentages: numbers as they are.
    Count,
}

/// Chart input: category labels and named series of exact values.
#[derive(Debug, Clone)]
pub struct Plot<'a> {
    /// Category labels.
    pub categories: &'a [String],
    /// Series: name and one value per category (missing values are zero).
    pub series: &'a [(String, Vec<Decimal>)],
    /// Unit of the values.
    pub measure: Measure,
    /// Reader's locale (tick labels).
    pub loc: Locale,
}

/// 10 to the power `e` (within what a `Decimal` holds).
fn pow10(e: i32) -> Decimal {
    if e >= 0 {
        (0..e.min(27)).fold(Decimal::ONE, |acc, _| acc * Decimal::TEN)
    } else {
        Decimal::new(1, (-e).min(27) as u32)
    }
}

/// A value axis: from `min` to `max` (both multiples of `step`, `min ≤ 0 ≤ max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// Lowest tick.
    pub min: Decimal,
    /// Highest tick.
    pub max: Decimal,
    /// Distance between ticks: 1, 2 or 5 times a power of ten.
    pub step: Decimal,
}

impl Axis {
    /// A round axis covering `lo..=hi` and zero with about `target` intervals.
    pub fn nice(lo: Decimal, hi: Decimal, target: u32) -> Axis {
        let lo = lo.min(Decimal::ZERO);
        let hi = hi.max(Decimal::ZERO);
        let range = hi - lo;
        if range.is_zero() {
            return Axis { min: Decimal::ZERO, max: Decimal::ONE, step: Decimal::ONE };
        }
        let raw = (range / Decimal::from(target.max(1))).to_f64().unwrap_or(1.0).max(1e-12);
        let exp = raw.log10().floor() as i32;
        let base = pow10(exp);
        let step = [1, 2, 5, 10]
            .iter()
            .map(|m| base * Decimal::from(*m))
            .find(|s| s.to_f64().unwrap_or(f64::MAX) >= raw * (1.0 - 1e-9))
            .unwrap_or(base * Decimal::from(10));
        let min = (lo / step).floor() * step;
        let max = (hi / step).ceil() * step;
        Axis { min: min.normalize(), max: max.normalize(), step: step.normalize() }
    }

    /// The ticks, lowest first.
    pub fn ticks(&self) -> Vec<Decimal> {
        let mut v = Vec::new();
        let mut t = self.min;
        while t <= self.max && v.len() < 200 {
            v.push(t);
            t += self.step;
        }
        v
    }

    /// `v` as a fraction of the axis (0 at `min`, 1 at `max`).
    fn frac(&self, v: Decimal) -> f64 {
        let span = (self.max - self.min).to_f64().unwrap_or(1.0);
        if span == 0.0 { 0.0 } else { (v - self.min).to_f64().unwrap_or(0.0) / span }
    }
}

/// A tick label in the reader's locale: whole numbers below a million (`1,500,000` is written
/// `1.5M` / `1,5 M`), millions and billions above, with just the decimals the step needs.
pub fn tick_label(loc: Locale, axis: &Axis, v: Decimal) -> String {
    let top = axis.min.abs().max(axis.max.abs());
    let (div, suffix) = if top >= Decimal::from(1_000_000_000i64) {
        (Decimal::from(1_000_000_000i64), if loc.lang == Lang::Es { "\u{a0}mil\u{a0}M" } else { "B" })
    } else if top >= Decimal::from(1_000_000i64) {
        (Decimal::from(1_000_000i64), if loc.lang == Lang::Es { "\u{a0}M" } else { "M" })
    } else {
        (Decimal::ONE, "")
    };
    let step = (axis.step / div).normalize();
    let dp = step.scale();
    if v.is_zero() {
        return "0".into();
    }
    format!("{}{suffix}", loc.decimal(v / div, dp))
}

fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * CHAR_EM
}

/// XML-escapes text and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn f(v: f64) -> String {
    // One decimal is plenty for a 960-unit-wide drawing, and keeps snapshots stable.
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

fn value_of(s: &(String, Vec<Decimal>), i: usize) -> Decimal {
    s.1.get(i).copied().unwrap_or_default()
}

/// The extent a layout needs: for stacks, the sums of positive and of negative parts.
fn extent(p: &Plot<'_>, layout: Layout) -> (Decimal, Decimal) {
    let (mut lo, mut hi) = (Decimal::ZERO, Decimal::ZERO);
    for i in 0..p.categories.len() {
        if layout == Layout::Stacked {
            let pos: Decimal = p.series.iter().map(|s| value_of(s, i)).filter(|v| *v > Decimal::ZERO).sum();
            let neg: Decimal = p.series.iter().map(|s| value_of(s, i)).filter(|v| *v < Decimal::ZERO).sum();
            hi = hi.max(pos);
            lo = lo.min(neg);
        } else {
            for s in p.series {
                let v = value_of(s, i);
                hi = hi.max(v);
                lo = lo.min(v);
            }
        }
    }
    (lo, hi)
}

/// Legend items laid out in rows across `width`: (x, row) per series, and the rows used.
fn legend_layout(names: &[&str], width: f64) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::new();
    let (mut x, mut row) = (0.0, 0usize);
    for n in names {
        let w = 16.0 + text_width(n, FONT) + 18.0;
        if x > 0.0 && x + w > width {
            x = 0.0;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    (out, if names.is_empty() { 0 } else { row + 1 })
}

fn legend(svg: &mut String, names: &[&str], left: f64, top: f64, width: f64) -> f64 {
    let (pos, rows) = legend_layout(names, width);
    let _ = write!(svg, "<g class=\"legend\">");
    for (i, (n, (x, row))) in names.iter().zip(pos).enumerate() {
        let y = top + row as f64 * 20.0;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            f(left + x),
            f(y),
            COLORS[i % COLORS.len()],
            f(left + x + 17.0),
            f(y + 11.0),
            esc(n)
        );
    }
    svg.push_str("</g>");
    rows as f64 * 20.0
}

fn open(svg: &mut String, height: f64) {
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" font-size=\"{}\" fill=\"#1b1f23\">",
        f(WIDTH),
        f(height),
        f(FONT)
    );
}

/// One panel of vertical bars: value axis on the left, categories below.
struct Panel {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Panel {
    fn y(&self, axis: &Axis, v: Decimal) -> f64 {
        self.top + self.height * (1.0 - axis.frac(v))
    }
}

fn value_axis(svg: &mut String, p: &Plot<'_>, axis: &Axis, panel: &Panel, labels: bool) {
    for t in axis.ticks() {
        let y = panel.y(axis, t);
        let zero = t.is_zero();
        let _ = write!(
            svg,
            "<line class=\"{}\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            if zero { "zero" } else { "grid" },
            f(panel.left),
            f(panel.left + panel.width),
            f(y),
            f(y),
            if zero { "#3d474f" } else { "#dfe5ea" },
            if zero { "1.5" } else { "1" }
        );
        if labels {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                f(panel.left - 6.0),
                f(y + FONT * 0.35),
                esc(&tick_label(p.loc, axis, t))
            );
        }
    }
}

fn category_labels(svg: &mut String, cats: &[String], panel: &Panel, size: f64) {
    let n = cats.len().max(1);
    let band = panel.width / n as f64;
    let widest = cats.iter().map(|c| text_width(c, size)).fold(0.0, f64::max);
    // Every k-th label, so that none overlaps its neighbour (every value is in the table).
    let k = (((widest + 8.0) / band).ceil() as usize).max(1);
    for (i, c) in cats.iter().enumerate() {
        if i % k != 0 {
            continue;
        }
        let x = panel.left + band * (i as f64 + 0.5);
        let _ = write!(
            svg,
            "<text class=\"category\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\">{}</text>",
            f(x),
            f(panel.top + panel.height + size + 6.0),
            f(size),
            esc(c)
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn bar(svg: &mut String, x: f64, w: f64, y0: f64, y1: f64, color: &str, series: &str, cat: &str, label: &str) {
    let (top, h) = (y0.min(y1), (y1 - y0).abs());
    let _ = write!(
        svg,
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\" data-series=\"{}\" data-category=\"{}\"><title>{} · {}: {}</title></rect>",
        f(x),
        f(top),
        f(w.max(0.5)),
        f(h.max(0.5)),
        esc(series),
        esc(cat),
        esc(series),
        esc(cat),
        esc(label)
    );
}

fn value_text(p: &Plot<'_>, v: Decimal) -> String {
    match p.measure {
        Measure::Usd => p.loc.usd(v),
        Measure::Count => p.loc.decimal(v, if v.fract().is_zero() { 0 } else { 1 }),
    }
}

fn tick_gutter(p: &Plot<'_>, axis: &Axis) -> f64 {
    axis.ticks().iter().map(|t| text_width(&tick_label(p.loc, axis, *t), FONT)).fold(0.0, f64::max) + 12.0
}

/// Vertical bars (columns): categories along the bottom, values up from zero (down when
/// negative). `layout` says how several series are drawn.
pub fn columns(p: &Plot<'_>, layout: Layout, plot_height: f64) -> String {
    if layout == Layout::SmallMultiples && p.series.len() > 1 {
        return small_multiples(p);
    }
    let (lo, hi) = extent(p, layout);
    let axis = Axis::nice(lo, hi, 5);
    let mut svg = String::new();
    let names: Vec<&str> = p.series.iter().map(|s| s.0.as_str()).collect();
    let gutter = tick_gutter(p, &axis);
    let legend_rows = if names.len() > 1 { legend_layout(&names, WIDTH - gutter - 8.0).1 } else { 0 };
    let top = 8.0 + legend_rows as f64 * 20.0 + if legend_rows > 0 { 8.0 } else { 0.0 };
    let panel = Panel { left: gutter, top: top + 6.0, width: WIDTH - gutter - 8.0, height: plot_height };
    let height = panel.top + panel.height + FONT + 14.0;
    open(&mut svg, height);
    if names.len() > 1 {
        legend(&mut svg, &names, gutter, 8.0, panel.width);
    }
    value_axis(&mut svg, p, &axis, &panel, true);
    draw_bars(&mut svg, p, &axis, &panel, layout, None);
    category_labels(&mut svg, p.categories, &panel, FONT);
    // The zero line again, over the bars.
    let z = panel.y(&axis, Decimal::ZERO);
    let _ = write!(
        svg,
        "<line class=\"zero-over\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#3d474f\" stroke-width=\"1.5\"/>",
        f(panel.left),
        f(panel.left + panel.width),
        f(z),
        f(z)
    );
    svg.push_str("</svg>");
    svg
}

fn draw_bars(svg: &mut String, p: &Plot<'_>, axis: &Axis, panel: &Panel, layout: Layout, only: Option<usize>) {
    let n = p.categories.len().max(1);
    let band = panel.width / n as f64;
    let zero = panel.y(axis, Decimal::ZERO);
    for (i, cat) in p.categories.iter().enumerate() {
        let x0 = panel.left + band * i as f64;
        match (layout, only) {
            (_, Some(s)) => {
                let v = value_of(&p.series[s], i);
                if !v.is_zero() {
                    let w = band * 0.7;
                    let color = COLORS[s % COLORS.len()];
                    bar(
                        svg,
                        x0 + (band - w) / 2.0,
                        w,
                        zero,
                        panel.y(axis, v),
                        color,
                        &p.series[s].0,
                        cat,
                        &value_text(p, v),
                    );
                }
            }
            (Layout::Stacked, None) => {
                let w = band * 0.72;
                let (mut pos, mut neg) = (Decimal::ZERO, Decimal::ZERO);
                for (si, s) in p.series.iter().enumerate() {
                    let v = value_of(s, i);
                    if v.is_zero() {
                        continue;
                    }
                    let base = if v > Decimal::ZERO { &mut pos } else { &mut neg };
                    let y0 = panel.y(axis, *base);
                    *base += v;
                    let y1 = panel.y(axis, *base);
                    bar(svg, x0 + (band - w) / 2.0, w, y0, y1, COLORS[si % COLORS.len()], &s.0, cat, &value_text(p, v));
                }
            }
            _ => {
                let ns = p.series.len().max(1) as f64;
                let inner = band * 0.8;
                let w = inner / ns;
                for (si, s) in p.series.iter().enumerate() {
                    let v = value_of(s, i);
                    if v.is_zero() {
                        continue;
                    }
                    let x = x0 + (band - inner) / 2.0 + w * si as f64;
                    bar(
                        svg,
                        x,
                        w * 0.92,
                        zero,
                        panel.y(axis, v),
                        COLORS[si % COLORS.len()],
                        &s.0,
                        cat,
                        &value_text(p, v),
                    );
                }
            }
        }
    }
}

fn small_multiples(p: &Plot<'_>) -> String {
    let (lo, hi) = extent(p, Layout::Grouped);
    let axis = Axis::nice(lo, hi, 4);
    let cols = if p.series.len() >= 5 { 3 } else { 2 };
    let rows = p.series.len().div_ceil(cols);
    let gutter = tick_gutter(p, &axis);
    let cell_w = WIDTH / cols as f64;
    let (title_h, plot_h, label_h) = (22.0, 130.0, FONT + 12.0);
    let cell_h = title_h + plot_h + label_h + 10.0;
    let mut svg = String::new();
    open(&mut svg, rows as f64 * cell_h + 4.0);
    for (si, s) in p.series.iter().enumerate() {
        let (cx, cy) = ((si % cols) as f64 * cell_w, (si / cols) as f64 * cell_h);
        let panel = Panel { left: cx + gutter, top: cy + title_h + 4.0, width: cell_w - gutter - 14.0, height: plot_h };
        let _ = write!(
            svg,
            "<g class=\"panel\"><text class=\"panel-title\" x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>",
            f(panel.left),
            f(cy + 15.0),
            esc(&s.0)
        );
        value_axis(&mut svg, p, &axis, &panel, true);
        draw_bars(&mut svg, p, &axis, &panel, Layout::Grouped, Some(si));
        category_labels(&mut svg, p.categories, &panel, FONT * 0.85);
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars: categories down the left, values from zero to the right (left when
/// negative), value axis at the bottom.
pub fn bars(p: &Plot<'_>) -> String {
    let (lo, hi) = extent(p, Layout::Grouped);
    let axis = Axis::nice(lo, hi, 5);
    let names: Vec<&str> = p.series.iter().map(|s| s.0.as_str()).collect();
    let label_chars = 32;
    let shown = |c: &str| -> String {
        if c.chars().count() <= label_chars {
            c.to_owned()
        } else {
            format!("{}…", c.chars().take(label_chars - 1).collect::<String>())
        }
    };
    let gutter = p.categories.iter().map(|c| text_width(&shown(c), FONT)).fold(40.0, f64::max) + 12.0;
    let right_pad = text_width(&tick_label(p.loc, &axis, axis.max), FONT) / 2.0 + 8.0;
    let legend_rows = if names.len() > 1 { legend_layout(&names, WIDTH - gutter).1 } else { 0 };
    let top = 8.0 + legend_rows as f64 * 20.0;
    let row_h = 26.0 * names.len().max(1) as f64 / (names.len().max(1) as f64).sqrt();
    let plot_h = row_h * p.categories.len().max(1) as f64;
    let (left, width) = (gutter, WIDTH - gutter - right_pad);
    let x = |v: Decimal| left + width * axis.frac(v);
    let height = top + plot_h + FONT + 18.0;
    let mut svg = String::new();
    open(&mut svg, height);
    if names.len() > 1 {
        legend(&mut svg, &names, gutter, 8.0, width);
    }
    for t in axis.ticks() {
        let zero = t.is_zero();
        let _ = write!(
            svg,
            "<line class=\"{}\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            if zero { "zero" } else { "grid" },
            f(x(t)),
            f(x(t)),
            f(top),
            f(top + plot_h),
            if zero { "#3d474f" } else { "#dfe5ea" },
            if zero { "1.5" } else { "1" },
            f(x(t)),
            f(top + plot_h + FONT + 6.0),
            esc(&tick_label(p.loc, &axis, t))
        );
    }
    let ns = p.series.len().max(1) as f64;
    for (i, cat) in p.categories.iter().enumerate() {
        let y0 = top + row_h * i as f64;
        let _ = write!(
            svg,
            "<text class=\"category\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}{}</text>",
            f(gutter - 8.0),
            f(y0 + row_h / 2.0 + FONT * 0.35),
            if shown(cat) != *cat { format!("<title>{}</title>", esc(cat)) } else { String::new() },
            esc(&shown(cat))
        );
        let inner = row_h * 0.76;
        let h = inner / ns;
        for (si, s) in p.series.iter().enumerate() {
            let v = value_of(s, i);
            if v.is_zero() {
                continue;
            }
            let (a, b) = (x(Decimal::ZERO), x(v));
            let yy = y0 + (row_h - inner) / 2.0 + h * si as f64;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" data-series=\"{}\" data-category=\"{}\"><title>{} · {}: {}</title></rect>",
                f(a.min(b)),
                f(yy),
                f((b - a).abs().max(0.5)),
                f(h * 0.92),
                COLORS[si % COLORS.len()],
                esc(&s.0),
                esc(cat),
                esc(&s.0),
                esc(cat),
                esc(&value_text(p, v))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests;

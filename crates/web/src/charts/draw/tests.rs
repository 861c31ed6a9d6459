//! Geometry tests: the axis, the tick labels, and where bars are drawn (read back from the SVG
//! as a reader's browser would see it), plus snapshots of whole charts.

use super::*;
use quick_xml::Reader;
use quick_xml::events::Event;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Every element named `tag` in `svg`, as its attributes.
fn elements(svg: &str, tag: &str) -> Vec<Vec<(String, String)>> {
    let mut r = Reader::from_str(svg);
    let mut out = Vec::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == tag.as_bytes() => {
                out.push(
                    e.attributes()
                        .filter_map(Result::ok)
                        .map(|a| {
                            (
                                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                                String::from_utf8_lossy(&a.value).into_owned(),
                            )
                        })
                        .collect(),
                );
            }
            Ok(Event::Eof) => break,
            Err(e) => panic!("the SVG does not parse: {e}"),
            _ => {}
        }
    }
    out
}

fn attr(e: &[(String, String)], k: &str) -> f64 {
    e.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.parse().ok()).unwrap_or_else(|| panic!("{k} in {e:?}"))
}

fn text_attr<'a>(e: &'a [(String, String)], k: &str) -> &'a str {
    e.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn bar_of<'a>(rects: &'a [Vec<(String, String)>], series: &str, cat: &str) -> &'a [(String, String)] {
    rects
        .iter()
        .find(|r| {
            text_attr(r, "class") == "bar"
                && text_attr(r, "data-series") == series
                && text_attr(r, "data-category") == cat
        })
        .unwrap_or_else(|| panic!("no bar {series}/{cat}"))
}

fn cats(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn axes_are_round_and_contain_zero() {
    let a = Axis::nice(d("-6600000"), d("184800"), 5);
    assert!(a.min <= d("-6600000") && a.max >= d("184800"), "{a:?}");
    assert_eq!(a.step, d("2000000"));
    assert!(a.ticks().contains(&Decimal::ZERO));
    let a = Axis::nice(Decimal::ZERO, d("17.4"), 5);
    assert_eq!((a.min, a.max, a.step), (d("0"), d("20"), d("5")));
    let a = Axis::nice(Decimal::ZERO, d("184800"), 5);
    assert_eq!((a.step, a.max), (d("50000"), d("200000")));
    let a = Axis::nice(Decimal::ZERO, Decimal::ZERO, 5);
    assert_eq!((a.min, a.max), (d("0"), d("1")), "an empty chart still has an axis");
    for (lo, hi) in [("0", "0.37"), ("-3", "1"), ("0", "987654321098"), ("-12.5", "0")] {
        let a = Axis::nice(d(lo), d(hi), 5);
        let m = (a.step / pow10(a.step.to_f64().unwrap_or(1.0).log10().floor() as i32)).normalize();
        assert!([d("1"), d("2"), d("5")].contains(&m), "{lo}..{hi}: step {} is not 1-2-5", a.step);
        assert!(a.ticks().len() <= 11 && a.ticks().len() >= 3, "{lo}..{hi}: {:?}", a.ticks());
    }
}

#[test]
fn tick_labels_follow_the_locale() {
    let a = Axis::nice(Decimal::ZERO, d("1700000"), 5);
    let labels = |loc: Locale| a.ticks().iter().map(|t| tick_label(loc, &a, *t)).collect::<Vec<_>>();
    assert_eq!(labels(Locale::EN), ["0", "0.5M", "1.0M", "1.5M", "2.0M"]);
    assert_eq!(labels(Locale::ES), ["0", "0,5\u{a0}M", "1,0\u{a0}M", "1,5\u{a0}M", "2,0\u{a0}M"]);
    let a = Axis::nice(Decimal::ZERO, d("184800"), 5);
    assert_eq!(tick_label(Locale::ES, &a, d("150000")), "150.000");
    assert_eq!(tick_label(Locale::EN, &a, d("150000")), "150,000");
    let a = Axis::nice(d("-6600000"), d("1000000"), 5);
    assert_eq!(tick_label(Locale::EN, &a, d("-6000000")), "-6M");
}

#[test]
fn a_negative_value_is_drawn_below_the_zero_line_and_zero_draws_nothing() {
    let c = cats(&["FY 2022", "FY 2023", "FY 2024"]);
    let series = vec![("LOE5".to_owned(), vec![d("2500000"), d("-6600000"), Decimal::ZERO])];
    for layout in [Layout::Grouped, Layout::Stacked] {
        let svg =
            columns(&Plot { categories: &c, series: &series, measure: Measure::Usd, loc: Locale::EN }, layout, 280.0);
        let zero = elements(&svg, "line").into_iter().find(|l| text_attr(l, "class") == "zero").expect("zero line");
        let zy = attr(&zero, "y1");
        let rects = elements(&svg, "rect");
        let neg = bar_of(&rects, "LOE5", "FY 2023");
        assert!((attr(neg, "y") - zy).abs() < 0.11, "{layout:?}: a negative bar starts at the zero line");
        assert!(attr(neg, "y") + attr(neg, "height") > zy + 100.0, "{layout:?}: it goes down, and is visible");
        let pos = bar_of(&rects, "LOE5", "FY 2022");
        assert!((attr(pos, "y") + attr(pos, "height") - zy).abs() < 0.11, "{layout:?}: a positive bar ends at zero");
        assert!(attr(pos, "y") < zy - 50.0);
        assert!(
            !rects.iter().any(|r| text_attr(r, "data-category") == "FY 2024"),
            "{layout:?}: a zero value draws no bar"
        );
    }
    // Horizontal bars: negative to the left of the zero line.
    let svg = bars(&Plot { categories: &c, series: &series, measure: Measure::Usd, loc: Locale::EN });
    let zero = elements(&svg, "line").into_iter().find(|l| text_attr(l, "class") == "zero").expect("zero line");
    let zx = attr(&zero, "x1");
    let rects = elements(&svg, "rect");
    let neg = bar_of(&rects, "LOE5", "FY 2023");
    assert!((attr(neg, "x") + attr(neg, "width") - zx).abs() < 0.11 && attr(neg, "x") < zx - 100.0);
}

#[test]
fn stacks_put_negative_parts_below_and_positive_parts_above() {
    let c = cats(&["FY 2023"]);
    let series: Vec<(String, Vec<Decimal>)> = (1..=8)
        .map(|i| (format!("LOE{i}"), vec![if i == 5 { d("-1000000") } else { Decimal::from(i * 1_000_000) }]))
        .collect();
    let svg = columns(
        &Plot { categories: &c, series: &series, measure: Measure::Usd, loc: Locale::EN },
        Layout::Stacked,
        280.0,
    );
    let zy = attr(&elements(&svg, "line").into_iter().find(|l| text_attr(l, "class") == "zero").expect("zero"), "y1");
    let rects = elements(&svg, "rect");
    let l1 = bar_of(&rects, "LOE1", "FY 2023");
    let l2 = bar_of(&rects, "LOE2", "FY 2023");
    assert!((attr(l1, "y") + attr(l1, "height") - zy).abs() < 0.11, "the first part sits on zero");
    assert!((attr(l2, "y") + attr(l2, "height") - attr(l1, "y")).abs() < 0.11, "the second sits on the first");
    let l5 = bar_of(&rects, "LOE5", "FY 2023");
    assert!((attr(l5, "y") - zy).abs() < 0.11, "the negative part hangs from zero");
    // Every series is in the legend.
    for i in 1..=8 {
        assert!(svg.contains(&format!(">LOE{i}</text>")), "LOE{i} in the legend");
    }
}

#[test]
fn charts_scale_to_their_container_and_use_the_page_font() {
    let c = cats(&["A", "B"]);
    let series = vec![("x".to_owned(), vec![d("1"), d("2")])];
    let svg = columns(
        &Plot { categories: &c, series: &series, measure: Measure::Count, loc: Locale::EN },
        Layout::Grouped,
        200.0,
    );
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 960 "), "{svg}");
    assert!(svg.contains("width=\"100%\""));
    assert!(!svg.contains("font-family"), "text inherits the page's font");
}

#[test]
fn twenty_years_of_labels_never_overlap() {
    let c: Vec<String> = (2005..=2026).map(|y| format!("FY {y}")).collect();
    let series = vec![("x".to_owned(), vec![d("1"); c.len()])];
    let svg = columns(
        &Plot { categories: &c, series: &series, measure: Measure::Count, loc: Locale::EN },
        Layout::Grouped,
        200.0,
    );
    let xs: Vec<f64> =
        elements(&svg, "text").iter().filter(|t| text_attr(t, "class") == "category").map(|t| attr(t, "x")).collect();
    assert!(xs.len() >= 5 && xs.len() < c.len(), "{} labels", xs.len());
    let width = text_width("FY 2026", FONT);
    assert!(xs.windows(2).all(|w| w[1] - w[0] > width), "{xs:?}");
}

#[test]
fn snapshot_stacked_money_with_a_negative_year() {
    let c = cats(&["FY 2021", "FY 2022", "FY 2023", "FY 2024"]);
    let series: Vec<(String, Vec<Decimal>)> = vec![
        ("LOE1".into(), vec![d("12000000"), d("15500000"), d("9000000"), d("0")]),
        ("LOE2".into(), vec![d("3000000"), d("0"), d("2500000"), d("1000000")]),
        ("LOE3".into(), vec![d("0"), d("4000000"), d("1000000"), d("0")]),
        ("LOE5".into(), vec![d("1000000"), d("-6600000"), d("250000"), d("-433098.20")]),
    ];
    let svg = columns(
        &Plot { categories: &c, series: &series, measure: Measure::Usd, loc: Locale::ES },
        Layout::Stacked,
        280.0,
    );
    insta::assert_snapshot!(svg);
}

#[test]
fn snapshot_small_multiples_of_counts() {
    let c = cats(&["FY 2022", "FY 2023", "FY 2024"]);
    let series: Vec<(String, Vec<Decimal>)> = vec![
        ("El Salvador".into(), vec![d("97030"), d("64000"), d("58000")]),
        ("Guatemala".into(), vec![d("232000"), d("221000"), d("184800")]),
        ("Honduras".into(), vec![d("213000"), d("200000"), d("150000")]),
        ("Other".into(), vec![d("1200"), d("900"), d("0")]),
    ];
    let svg = columns(
        &Plot { categories: &c, series: &series, measure: Measure::Count, loc: Locale::EN },
        Layout::SmallMultiples,
        220.0,
    );
    insta::assert_snapshot!(svg);
}

#[test]
fn snapshot_horizontal_bars_by_country() {
    let c = cats(&["GT", "HN", "SV", "REGIONAL"]);
    let series = vec![("Disbursements".to_owned(), vec![d("48000000"), d("21000000"), d("150300000"), d("-2000000")])];
    let svg = bars(&Plot { categories: &c, series: &series, measure: Measure::Usd, loc: Locale::EN });
    insta::assert_snapshot!(svg);
}

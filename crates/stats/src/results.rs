//! Indicator values (baselines, targets, actuals) of a strategy's result indicators, from a
//! plain CSV or an HXL-tagged CSV (`senda results import`).
//!
//! **Plain CSV** (header names case- and space-insensitive, order free): `indicator` (code, e.g.
//! `LOE5-1`), `country` (ISO 3166-1 alpha-2/alpha-3 or a name in any spelling), `admin1`
//! (optional: ISO 3166-2 code such as `GT-GU`, or a department name of that country), `period`
//! (`2023-10`, `2023-Q4`, `FY2024`, `2023`), `kind` (`baseline`, `target`, `actual`), `value`,
//! `denominator` (ratio indicators), `sex` (`female`, `male`), `age_group`, `population_group`
//! (`returnee`, `asylum_seeker`, `refugee`, `internally_displaced`, `migrant_worker`,
//! `host_community`), `note` (free text, ignored). Other columns are ignored with one warning.
//!
//! **HXL** (a hashtag row, possibly after a human header row and blank rows): `#indicator+code`,
//! `#country+code` or `#country+name`, `#adm1+code` or `#adm1+name`, `#date` (the period), and
//! one or more value columns `#indicator+value` with `+baseline`, `+target` or `+actual` (default
//! actual) and disaggregation attributes: `+f`/`+female`, `+m`/`+male` (sex); `+children`,
//! `+adolescents`, `+adults`, `+elderly` (age_group); `+returnees`, `+refugees`,
//! `+asylum_seekers`, `+idps`, `+migrants`/`+migrant_workers`, `+host` (population_group). A
//! wide file gives one value per value column per row. `#indicator+denominator` (same
//! attributes) carries a ratio's denominator.
//!
//! Rules (each refusal is an error diagnostic with row, column and field; the row's other
//! values are kept when they are valid on their own):
//! - an indicator code the strategy does not have, or a context indicator (fed by statistics,
//!   `senda stats import`), is refused;
//! - a disaggregation the indicator does not declare, or an unknown category, is refused;
//! - numbers follow [`crate::number::parse_number`] (never read as 0);
//! - a ratio indicator's value without a denominator is refused; a denominator for another
//!   indicator is ignored with a warning;
//! - the same key (indicator, place, period, disaggregation, kind) twice: the last row is kept,
//!   with a `duplicate-key` warning naming both rows.

use crate::number::parse_number;
use crate::{Parsed, StatsError};
use senda_core::indicator::{Aggregation, IndicatorKind};
use senda_core::observation::{Disaggregation, disaggregation_key};
use senda_core::{CountryCode, Diagnostic, Observation, Period, Place, Severity, Strategy, ValueKind};
use std::collections::HashMap;

fn diag(sev: Severity, code: &str, file: &str, row: u64, col: u64, field: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: sev,
        code: code.into(),
        message,
        file: file.into(),
        line: row,
        column: col,
        identifier: None,
        element: Some(field.into()),
    }
}

/// The columns of a results CSV, in the order `senda results template` writes them (the
/// header is matched by name, in any order).
pub const COLUMNS: [&str; 11] = [
    "indicator",
    "country",
    "admin1",
    "period",
    "kind",
    "value",
    "denominator",
    "sex",
    "age_group",
    "population_group",
    "note",
];

/// Other names accepted for the `note` column.
const NOTE_ALIASES: [&str; 2] = ["notes", "comment"];

/// A value column: where its number is, what kind and disaggregation it carries.
struct ValueColumn {
    col: usize,
    kind: Option<ValueKind>,
    disaggregation: Disaggregation,
    denominator_col: Option<usize>,
}

/// Where the fields of a row are.
struct Layout {
    indicator: usize,
    country: Option<usize>,
    admin1: Option<usize>,
    period: usize,
    kind: Option<usize>,
    values: Vec<ValueColumn>,
    disaggregation_cols: Vec<(usize, &'static str)>,
    names: Vec<String>,
}

fn attribute_disaggregation(attr: &str) -> Option<(&'static str, &'static str)> {
    Some(match attr {
        "f" | "female" => ("sex", "female"),
        "m" | "male" => ("sex", "male"),
        "children" => ("age_group", "children"),
        "adolescents" => ("age_group", "adolescents"),
        "adults" => ("age_group", "adults"),
        "elderly" => ("age_group", "elderly"),
        "returnees" => ("population_group", "returnee"),
        "refugees" => ("population_group", "refugee"),
        "asylum_seekers" => ("population_group", "asylum_seeker"),
        "idps" => ("population_group", "internally_displaced"),
        "migrants" | "migrant_workers" => ("population_group", "migrant_worker"),
        "host" => ("population_group", "host_community"),
        _ => return None,
    })
}

fn norm(h: &str) -> String {
    h.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

fn plain_layout(file: &str, header: &[String], diags: &mut Vec<Diagnostic>) -> Result<Layout, StatsError> {
    if header.len() == 1 && header[0].contains(';') {
        return Err(StatsError::Csv {
            file: file.into(),
            message: "the header is one column holding `;`: Senda reads comma-separated files (save the file as CSV with commas)"
                .into(),
        });
    }
    let find = |n: &str| header.iter().position(|h| norm(h) == n);
    for (i, h) in header.iter().enumerate() {
        if let Some(first) = header[..i].iter().position(|x| norm(x) == norm(h) && !norm(h).is_empty()) {
            diags.push(diag(
                Severity::Warning,
                "duplicate-column",
                file,
                1,
                i as u64 + 1,
                h,
                format!("column {} repeats column {} ({h:?}): only the first is read", i + 1, first + 1),
            ));
        }
    }
    let mut missing = Vec::new();
    for n in ["indicator", "country", "period", "kind", "value"] {
        if find(n).is_none() {
            missing.push(n);
        }
    }
    if !missing.is_empty() {
        return Err(StatsError::MissingColumns {
            file: file.into(),
            sheet: None,
            missing: missing.iter().map(|s| s.to_string()).collect(),
            // At most 20 headers of at most 40 characters: a broken file may have a huge header.
            found: header
                .iter()
                .take(20)
                .map(|h| {
                    if h.chars().count() > 40 {
                        format!("{}…", h.chars().take(39).collect::<String>())
                    } else {
                        h.clone()
                    }
                })
                .collect(),
        });
    }
    let known = |h: &str| COLUMNS.contains(&h) || NOTE_ALIASES.contains(&h);
    let extra: Vec<&String> = header.iter().filter(|h| !known(norm(h).as_str())).collect();
    if !extra.is_empty() {
        diags.push(diag(
            Severity::Warning,
            "extra-column",
            file,
            1,
            0,
            "header",
            format!("columns ignored: {}", extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
        ));
    }
    let value = find("value").unwrap_or(0);
    let mut dcols = Vec::new();
    for k in ["sex", "age_group", "population_group"] {
        if let Some(c) = find(k) {
            dcols.push((c, k));
        }
    }
    Ok(Layout {
        indicator: find("indicator").unwrap_or(0),
        country: find("country"),
        admin1: find("admin1"),
        period: find("period").unwrap_or(0),
        kind: find("kind"),
        values: vec![ValueColumn {
            col: value,
            kind: None,
            disaggregation: Disaggregation::new(),
            denominator_col: find("denominator"),
        }],
        disaggregation_cols: dcols,
        names: header.to_vec(),
    })
}

fn hxl_layout(file: &str, table: &crate::hxl::HxlTable, diags: &mut Vec<Diagnostic>) -> Result<Layout, StatsError> {
    let pos = |tag: &str, attr: Option<&str>| {
        table.columns.iter().position(|c| {
            c.as_ref().is_some_and(|t| t.hashtag == tag && attr.is_none_or(|a| t.attributes.iter().any(|x| x == a)))
        })
    };
    let indicator = pos("indicator", Some("code"));
    let country = pos("country", Some("code")).or_else(|| pos("country", Some("name")));
    let admin1 = pos("adm1", Some("code")).or_else(|| pos("adm1", Some("name")));
    let period = pos("date", None);
    let mut values = Vec::new();
    let mut denominators: Vec<(usize, Option<ValueKind>, Disaggregation)> = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let Some(t) = c else { continue };
        let is_value = (t.hashtag == "indicator" && t.has("value")) || t.hashtag == "value";
        let is_den = t.hashtag == "indicator" && t.has("denominator");
        if !is_value && !is_den {
            continue;
        }
        let mut kind = None;
        let mut d = Disaggregation::new();
        for a in &t.attributes {
            match a.as_str() {
                "baseline" => kind = Some(ValueKind::Baseline),
                "target" => kind = Some(ValueKind::Target),
                "actual" => kind = Some(ValueKind::Actual),
                "value" | "denominator" | "num" => {}
                other => match attribute_disaggregation(other) {
                    Some((k, v)) => {
                        d.insert(k.into(), v.into());
                    }
                    None => diags.push(diag(
                        Severity::Warning,
                        "unknown-attribute",
                        file,
                        0,
                        i as u64 + 1,
                        &format!("#{}", t.hashtag),
                        format!("attribute +{other} of column {} is not a known disaggregation: ignored", i + 1),
                    )),
                },
            }
        }
        if is_den {
            denominators.push((i, kind, d));
        } else {
            values.push(ValueColumn {
                col: i,
                kind: Some(kind.unwrap_or(ValueKind::Actual)),
                disaggregation: d,
                denominator_col: None,
            });
        }
    }
    for v in &mut values {
        v.denominator_col = denominators
            .iter()
            .find(|(_, k, d)| {
                k.unwrap_or(ValueKind::Actual) == v.kind.unwrap_or(ValueKind::Actual) && *d == v.disaggregation
            })
            .map(|(i, _, _)| *i);
    }
    let mut missing = Vec::new();
    if indicator.is_none() {
        missing.push("#indicator+code");
    }
    if country.is_none() && admin1.is_none() {
        missing.push("#country+code (or #country+name, #adm1+code)");
    }
    if period.is_none() {
        missing.push("#date");
    }
    if values.is_empty() {
        missing.push("#indicator+value (+baseline, +target or +actual)");
    }
    if !missing.is_empty() {
        let found: Vec<String> = table
            .columns
            .iter()
            .flatten()
            .map(|t| format!("#{}{}", t.hashtag, t.attributes.iter().map(|a| format!("+{a}")).collect::<String>()))
            .collect();
        return Err(StatsError::MissingColumns {
            file: file.into(),
            sheet: None,
            missing: missing.iter().map(|s| s.to_string()).collect(),
            found,
        });
    }
    Ok(Layout {
        indicator: indicator.unwrap_or(0),
        country,
        admin1,
        period: period.unwrap_or(0),
        kind: None,
        values,
        disaggregation_cols: vec![],
        names: table
            .columns
            .iter()
            .map(|c| c.as_ref().map(|t| format!("#{}", t.hashtag)).unwrap_or_default())
            .collect(),
    })
}

fn resolve_place(
    file: &str,
    row: u64,
    layout: &Layout,
    cells: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Option<Place> {
    let cell = |c: Option<usize>| c.and_then(|i| cells.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty());
    let country_raw = cell(layout.country);
    let admin_raw = cell(layout.admin1);
    let country: Option<CountryCode> = match country_raw {
        Some(raw) => match CountryCode::parse(raw).ok().or_else(|| crate::countries::country_from_name(raw)) {
            Some(c) => Some(c),
            None => {
                let col = layout.country.unwrap_or(0);
                diags.push(diag(
                    Severity::Error,
                    "unknown-country",
                    file,
                    row,
                    col as u64 + 1,
                    &layout.names[col],
                    format!("{raw:?} is not a country name or code Senda knows; the row is not stored"),
                ));
                return None;
            }
        },
        None => None,
    };
    match admin_raw {
        Some(raw) => {
            let col = layout.admin1.unwrap_or(0);
            // A code (`GT-16`, or a former `GT-AV`) or a name within the row's country; a code
            // alone names its country.
            let code_country = Place::parse(raw).ok().and_then(|p| p.admin1().and_then(|_| p.country()));
            let place = match (code_country, country) {
                (Some(cc), Some(c)) if cc != c => None,
                (Some(cc), _) => {
                    crate::countries::canonical_admin1(cc, raw).map(|code| Place::Admin1 { country: cc, code })
                }
                (None, Some(c)) => crate::countries::admin1_from_name(c, raw)
                    .map(|code| Place::Admin1 { country: c, code: code.to_owned() }),
                (None, None) => None,
            };
            if place.is_none() {
                diags.push(diag(
                    Severity::Error,
                    "unknown-department",
                    file,
                    row,
                    col as u64 + 1,
                    &layout.names[col],
                    format!(
                        "{raw:?} is not a department (ISO 3166-2 code or name) of {}; the row is not stored",
                        country.map_or_else(|| "the row's country".to_owned(), |c| c.as_str().to_owned())
                    ),
                ));
            }
            place
        }
        None => match country {
            Some(c) => Some(Place::Country(c)),
            None => {
                let col = layout.country.unwrap_or(0);
                diags.push(diag(
                    Severity::Error,
                    "missing-place",
                    file,
                    row,
                    col as u64 + 1,
                    layout.names.get(col).map_or("country", |s| s.as_str()),
                    "no country or department: the row is not stored".into(),
                ));
                None
            }
        },
    }
}

/// `results-hxl` when the bytes carry an HXL hashtag row, else `results-csv`.
pub fn results_format(file: &str, bytes: &[u8]) -> &'static str {
    if crate::hxl::read_hxl(file, bytes).is_ok() { "results-hxl" } else { "results-csv" }
}

/// Parses a results file (plain CSV or HXL) for `strategy`'s result indicators.
/// Errors: [`StatsError`] for a file that cannot be read at all (not UTF-8, empty, missing
/// columns); row problems are diagnostics and the rest is kept.
pub fn parse_results(file: &str, bytes: &[u8], strategy: &Strategy) -> Result<Parsed, StatsError> {
    let hxl = crate::hxl::read_hxl(file, bytes);
    let mut diags = Vec::new();
    let (layout, rows, blank_rows, format) = match hxl {
        Ok(t) => {
            diags.extend(t.diagnostics.iter().cloned());
            let l = hxl_layout(file, &t, &mut diags)?;
            (l, t.rows, t.blank_rows, "results-hxl")
        }
        Err(_) => {
            let text = crate::text::decode(file, bytes)?;
            let mut rows = Vec::new();
            let mut header: Option<Vec<String>> = None;
            let mut blank = 0u64;
            for (skipped, rec) in crate::text::records(file, text)? {
                blank += skipped;
                if rec.is_blank() {
                    blank += 1;
                    continue;
                }
                if header.is_none() {
                    header = Some(rec.cells);
                } else {
                    rows.push((rec.line, rec.cells));
                }
            }
            let header = header.ok_or_else(|| StatsError::Empty { file: file.into() })?;
            (plain_layout(file, &header, &mut diags)?, rows, blank, "results-csv")
        }
    };

    let mut by_key: HashMap<(String, String, String, String, ValueKind), usize> = HashMap::new();
    let mut observations: Vec<Observation> = Vec::new();
    let rows_read = rows.len() as u64;
    for (row, cells) in &rows {
        let row = *row;
        let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
        let code = cell(layout.indicator);
        let icol = layout.indicator as u64 + 1;
        let iname = layout.names[layout.indicator].as_str();
        let Some(def) = strategy.indicator(code) else {
            diags.push(diag(
                Severity::Error,
                "unknown-indicator",
                file,
                row,
                icol,
                iname,
                format!("{code:?} is not an indicator of {}; the row is not stored", strategy.id),
            ));
            continue;
        };
        if def.kind == IndicatorKind::Context {
            diags.push(diag(
                Severity::Error,
                "context-indicator",
                file,
                row,
                icol,
                iname,
                format!("{code} is a context indicator fed by statistics (`senda stats import`), not by results"),
            ));
            continue;
        }
        let Some(place) = resolve_place(file, row, &layout, cells, &mut diags) else { continue };
        let period = match Period::parse(cell(layout.period)) {
            Ok(p) => p,
            Err(e) => {
                diags.push(diag(
                    Severity::Error,
                    "invalid-period",
                    file,
                    row,
                    layout.period as u64 + 1,
                    &layout.names[layout.period],
                    format!("{e}; the row is not stored"),
                ));
                continue;
            }
        };
        let row_kind = match layout.kind {
            Some(k) => match ValueKind::parse(cell(k)).filter(|k| *k != ValueKind::Observed) {
                Some(v) => Some(v),
                None => {
                    diags.push(diag(
                        Severity::Error,
                        "invalid-kind",
                        file,
                        row,
                        k as u64 + 1,
                        &layout.names[k],
                        format!("{:?} is not baseline, target or actual; the row is not stored", cell(k)),
                    ));
                    continue;
                }
            },
            None => None,
        };
        let mut row_disagg = Disaggregation::new();
        for (c, k) in &layout.disaggregation_cols {
            let v = cell(*c);
            if !v.is_empty() {
                row_disagg.insert((*k).to_owned(), v.to_ascii_lowercase().replace([' ', '-'], "_"));
            }
        }
        for vc in &layout.values {
            let raw = cell(vc.col);
            if raw.is_empty() && vc.kind.is_some() {
                continue; // an empty cell of a wide HXL file: no value for that column
            }
            let mut d = row_disagg.clone();
            d.extend(vc.disaggregation.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Err(m) = def.check_disaggregation(&d) {
                diags.push(diag(
                    Severity::Error,
                    "invalid-disaggregation",
                    file,
                    row,
                    vc.col as u64 + 1,
                    &layout.names[vc.col],
                    format!("{m}; the value is not stored"),
                ));
                continue;
            }
            let value = match parse_number(raw) {
                Ok(v) => v,
                Err(e) => {
                    diags.push(diag(
                        Severity::Error,
                        "invalid-number",
                        file,
                        row,
                        vc.col as u64 + 1,
                        &layout.names[vc.col],
                        format!("{e}; the value is not stored"),
                    ));
                    continue;
                }
            };
            // The same rules as the API (`IndicatorDef::check_value`, `check_denominator`).
            if let Err(m) = def.check_value(value) {
                diags.push(diag(
                    Severity::Error,
                    "negative-value",
                    file,
                    row,
                    vc.col as u64 + 1,
                    &layout.names[vc.col],
                    format!("{m}; the value is not stored"),
                ));
                continue;
            }
            let ratio = def.over_places == Aggregation::RatioOfSums || def.over_time == Aggregation::RatioOfSums;
            let den_raw = vc.denominator_col.map(cell).unwrap_or("");
            let denominator = if den_raw.is_empty() {
                None
            } else {
                let dcol = vc.denominator_col.unwrap_or(0);
                match parse_number(den_raw) {
                    Ok(v) if ratio => match senda_core::indicator::IndicatorDef::check_denominator(v) {
                        Ok(()) => Some(v),
                        Err(m) => {
                            diags.push(diag(
                                Severity::Error,
                                "invalid-denominator",
                                file,
                                row,
                                dcol as u64 + 1,
                                &layout.names[dcol],
                                format!("{m}; the value is not stored"),
                            ));
                            continue;
                        }
                    },
                    Ok(_) => {
                        diags.push(diag(
                            Severity::Warning,
                            "denominator-ignored",
                            file,
                            row,
                            dcol as u64 + 1,
                            &layout.names[dcol],
                            format!("{code} is not a ratio indicator: the denominator is ignored"),
                        ));
                        None
                    }
                    Err(e) => {
                        diags.push(diag(
                            Severity::Error,
                            "invalid-number",
                            file,
                            row,
                            dcol as u64 + 1,
                            &layout.names[dcol],
                            format!("{e}; the value is not stored"),
                        ));
                        continue;
                    }
                }
            };
            if ratio && denominator.is_none() {
                diags.push(diag(
                    Severity::Error,
                    "missing-denominator",
                    file,
                    row,
                    vc.col as u64 + 1,
                    &layout.names[vc.col],
                    format!("{code} is a ratio (ratio_of_sums): a value needs its denominator; not stored"),
                ));
                continue;
            }
            let kind = vc.kind.or(row_kind).unwrap_or(ValueKind::Actual);
            let o = Observation {
                series: def.code.clone(),
                place: place.clone(),
                period,
                disaggregation: d,
                kind,
                value,
                denominator,
                row,
            };
            let key = (
                o.series.clone(),
                o.place.to_string(),
                o.period.to_string(),
                disaggregation_key(&o.disaggregation),
                kind,
            );
            if let Some(&i) = by_key.get(&key) {
                diags.push(diag(
                    Severity::Warning,
                    "duplicate-key",
                    file,
                    row,
                    vc.col as u64 + 1,
                    &layout.names[vc.col],
                    format!(
                        "{} {} {} {} ({}) also on row {}: the later row (this one) is kept",
                        key.0,
                        key.1,
                        key.2,
                        kind.as_str(),
                        key.3,
                        observations[i].row
                    ),
                ));
                observations[i] = o;
            } else {
                by_key.insert(key, observations.len());
                observations.push(o);
            }
        }
    }
    let _ = format;
    Ok(Parsed { series: vec![], observations, diagnostics: diags, rows_read, blank_rows })
}

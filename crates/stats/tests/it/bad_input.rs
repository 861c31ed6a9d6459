//! Small fixtures written in the tests: each bad input gives a diagnostic naming row, column
//! and value (or a file-level error naming what is missing), never a panic or a 0.

use rust_decimal::Decimal;
use senda_core::{Diagnostic, Place, Severity};
use senda_stats::{Format, Parsed, StatsError, detect, parse, read_hxl};

const SBO_HEADER: &str = "Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,Title of Authority,Encounter Type,Encounter Count";

fn sbo(rows: &[&str]) -> Vec<u8> {
    let mut s = String::from(SBO_HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s.into_bytes()
}

fn row(citizenship: &str, count: &str) -> String {
    format!("2023,FYTD,OCT,U.S. Border Patrol,Single Adults,{citizenship},Title 8,Apprehensions,{count}")
}

fn errors(p: &Parsed) -> Vec<&Diagnostic> {
    p.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect()
}

fn parse_sbo(rows: &[String]) -> Parsed {
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    parse("sbo.csv", &sbo(&refs)).expect("parses")
}

#[test]
fn unknown_country_is_an_error_with_row_column_and_name() {
    let p = parse_sbo(&[row("Guatemala", "5"), row("Atlantis", "7"), row("Honduras", "9")]);
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!((e[0].code.as_str(), e[0].line, e[0].column), ("unknown-country", 3, 6));
    assert_eq!(e[0].element.as_deref(), Some("Citizenship Grouping"));
    assert!(e[0].message.contains("\"Atlantis\""), "{}", e[0].message);
    assert_eq!(p.rows_read, 3);
    let stored: Vec<(String, u64)> = p.observations.iter().map(|o| (o.place.to_string(), o.row)).collect();
    assert_eq!(stored, [("GT".to_owned(), 2), ("HN".to_owned(), 4)]);
}

#[test]
fn refused_values_are_errors_never_zero() {
    let p = parse_sbo(&[
        row("Guatemala", "N/A"),
        row("Honduras", "<5"),
        row("El Salvador", "\"1,5\""),
        row("Mexico", ""),
        row("Other", "D"),
        "2023,FYTD,NOV,U.S. Border Patrol,Single Adults,Guatemala,Title 8,Apprehensions,12".to_owned(),
    ]);
    let e: Vec<(u64, u64, &str)> = errors(&p).iter().map(|d| (d.line, d.column, d.code.as_str())).collect();
    assert_eq!(
        e,
        [
            (2, 9, "invalid-number"),
            (3, 9, "invalid-number"),
            (4, 9, "invalid-number"),
            (5, 9, "invalid-number"),
            (6, 9, "invalid-number")
        ]
    );
    for (d, raw) in errors(&p).iter().zip(["\"N/A\"", "\"<5\"", "\"1,5\"", "\"\"", "\"D\""]) {
        assert!(d.message.contains(raw) && d.message.contains("Encounter Count"), "{}", d.message);
    }
    assert_eq!(p.observations.len(), 1);
    assert_eq!(p.observations[0].value, Decimal::from(12));
    assert!(p.observations.iter().all(|o| !o.value.is_zero()));
}

#[test]
fn thousands_separator_is_accepted() {
    let p = parse_sbo(&[row("Guatemala", "\"1,234\""), row("Honduras", "\" 1,234,567 \"")]);
    assert!(p.diagnostics.is_empty(), "{:#?}", p.diagnostics);
    let v: Vec<Decimal> = p.observations.iter().map(|o| o.value).collect();
    assert_eq!(v, [Decimal::from(1234), Decimal::from(1_234_567)]);
}

#[test]
fn duplicate_key_keeps_last_row_and_warns() {
    let p = parse_sbo(&[row("Guatemala", "5"), row("Honduras", "6"), row("Guatemala", "8")]);
    assert_eq!(p.observations.len(), 2);
    let gt = p.observations.iter().find(|o| o.place.to_string() == "GT").expect("GT");
    assert_eq!((gt.value, gt.row), (Decimal::from(8), 4));
    let w: Vec<&Diagnostic> = p.diagnostics.iter().filter(|d| d.code == "duplicate-key").collect();
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].severity, w[0].line), (Severity::Warning, 4));
    assert!(w[0].message.contains("rows 2 and 4"), "{}", w[0].message);
    assert_eq!(p.rows_read, 3);
}

#[test]
fn ragged_row_is_a_row_error_others_kept() {
    let p = parse_sbo(&[
        row("Guatemala", "5"),
        "2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Honduras".to_owned(),
        row("Mexico", "7"),
    ]);
    let e = errors(&p);
    assert_eq!((e.len(), e[0].code.as_str(), e[0].line), (1, "ragged-row", 3));
    assert!(e[0].message.contains("6 fields") && e[0].message.contains("9"), "{}", e[0].message);
    assert_eq!(p.observations.iter().map(|o| o.row).collect::<Vec<_>>(), [2, 4]);
}

#[test]
fn csv_missing_column_error_names_it() {
    let text = SBO_HEADER.replace(",Encounter Type", "")
        + "\n2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Guatemala,Title 8,5\n";
    let err = parse("sbo.csv", text.as_bytes()).expect_err("missing column");
    match &err {
        StatsError::MissingColumns { missing, found, .. } => {
            assert_eq!(missing, &["Encounter Type"]);
            assert!(found.contains(&"Encounter Count".to_owned()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "missing-column");
    assert!(err.to_string().contains("Encounter Type"), "{err}");
}

#[test]
fn columns_are_found_by_name_and_extra_columns_warn() {
    let text = "encounter count, CITIZENSHIP GROUPING ,Fiscal Year,Month (abbv),Component,Demographic,Title of Authority,Encounter Type,Notes\n\
                5,Guatemala,2023,oct,U.S. Border Patrol,UAC,Title 8,Apprehensions,checked\n";
    let p = parse("sbo.csv", text.as_bytes()).expect("parses");
    assert_eq!(p.observations.len(), 1);
    assert_eq!(p.observations[0].period.to_string(), "2022-10");
    let w = &p.diagnostics;
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].code.as_str(), w[0].severity, w[0].column), ("extra-column", Severity::Warning, 9));
    assert_eq!(w[0].element.as_deref(), Some("Notes"));
}

#[test]
fn nationwide_other_is_a_residual_group() {
    let text = "Fiscal Year,Month Grouping,Month (abbv),Land Border Region,State,Demographic,Citizenship,Title of Authority,Encounter Count\n\
                2023 (FYTD),FYTD,APR,Southwest Land Border,TX,Single Adults,OTHER,Title 8,4\n\
                2023 (FYTD),FYTD,APR,Southwest Land Border,TX,Single Adults,\"SALVADOR, EL\",Title 8,3\n\
                2023 (FYTD),FYTD,APR,Southwest Land Border,TX,Single Adults,Unknown,Title 8,3\n";
    assert_eq!(detect("n.csv", text.as_bytes()), Some(Format::CbpNationwide));
    let p = parse("n.csv", text.as_bytes()).expect("parses");
    let places: Vec<Place> = p.observations.iter().map(|o| o.place.clone()).collect();
    assert_eq!(places, [Place::Other("Other".into()), Place::parse("SV").expect("SV")]);
    assert_eq!(p.observations[1].disaggregation.get("us_state").map(String::as_str), Some("TX"));
    assert_eq!(p.observations[1].period.to_string(), "2023-04");
    assert_eq!(errors(&p).iter().map(|d| (d.code.as_str(), d.line)).collect::<Vec<_>>(), [("unknown-country", 4)]);
}

#[test]
fn empty_file_is_refused() {
    for bytes in [&b""[..], b"   \n\n"] {
        let err = parse("e.csv", bytes).expect_err("empty");
        assert_eq!(err.code(), "empty-file", "{err}");
    }
}

#[test]
fn binary_garbage_is_refused() {
    let garbage: Vec<u8> = (0..2048u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let err = parse("g.csv", &garbage).expect_err("garbage");
    assert_eq!(err.code(), "not-utf8", "{err}");
    // A zip that claims to be a workbook but is not one.
    let err = parse("g.xlsx", b"PK\x03\x04not really a zip").expect_err("bad zip");
    assert_eq!(err.code(), "invalid-xlsx", "{err}");
}

#[test]
fn non_utf8_is_refused_with_the_offset() {
    let mut bytes = sbo(&[]);
    bytes.extend_from_slice(b"2023,FYTD,OCT,U.S. Border Patrol,UAC,Per\xfa,Title 8,Apprehensions,5\n");
    let err = parse("latin1.csv", &bytes).expect_err("latin-1");
    match &err {
        StatsError::NotUtf8 { offset, .. } => assert_eq!(bytes[*offset as usize], 0xfa),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn unknown_format_names_what_was_found() {
    let err = parse("x.csv", b"a,b,c\n1,2,3\n").expect_err("unknown");
    assert_eq!(err.code(), "unknown-format");
    assert!(err.to_string().contains("a,b,c"), "{err}");
}

// --- HXL ---

#[test]
fn hxl_blank_rows_before_headers_and_inside_data_are_skipped_and_counted() {
    let text = "\n,,,,\nDate,Country,Indicator,Value,Sex\n#date,#country+name,#indicator+code,#indicator+value,#sex\n\
                2023-10,Guatemala,returns,10,female\n\n,,,,\n2023-11,Honduras,returns,\"1,200\",male\n";
    let t = read_hxl("h.csv", text.as_bytes()).expect("reads");
    assert_eq!(t.blank_rows, 4);
    assert_eq!(t.hashtag_line, 4);
    assert_eq!(t.labels, ["Date", "Country", "Indicator", "Value", "Sex"]);
    assert_eq!(t.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [5, 8]);
    assert_eq!(detect("h.csv", text.as_bytes()), Some(Format::Hxl));
    let p = parse("h.csv", text.as_bytes()).expect("parses");
    assert_eq!((p.rows_read, p.blank_rows, p.observations.len()), (2, 4, 2));
    assert!(p.diagnostics.is_empty(), "{:#?}", p.diagnostics);
    assert_eq!(p.observations[1].value, Decimal::from(1200));
    assert_eq!(p.observations[1].disaggregation.get("sex").map(String::as_str), Some("male"));
    assert_eq!(p.series.len(), 1);
    assert_eq!(
        (p.series[0].code.as_str(), p.series[0].unit.as_str(), p.series[0].source.as_str()),
        ("returns", "value", "h.csv")
    );
}

#[test]
fn hxl_invalid_attribute_leaves_column_untagged() {
    let text = "#date,#country+code,#indicator+code,#value,#reached+2020,#sex\n2023,SV,returns,5,99,f\n";
    let t = read_hxl("h.csv", text.as_bytes()).expect("reads");
    assert!(t.columns[4].is_none());
    assert_eq!(t.columns[5].as_ref().map(|c| c.hashtag.as_str()), Some("sex"));
    let w = &t.diagnostics;
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].code.as_str(), w[0].severity, w[0].line, w[0].column),
        ("invalid-hxl-tag", Severity::Warning, 1, 5)
    );
    assert!(w[0].message.contains("#reached+2020") && w[0].message.contains("+2020"), "{}", w[0].message);
    let p = parse("h.csv", text.as_bytes()).expect("parses");
    assert_eq!(p.observations.len(), 1);
    let o = &p.observations[0];
    assert_eq!(
        (o.place.to_string(), o.period.to_string(), o.value),
        ("SV".to_owned(), "2023".to_owned(), Decimal::from(5))
    );
    assert_eq!(o.disaggregation.keys().collect::<Vec<_>>(), ["sex"]);
}

#[test]
fn hxl_ragged_row_is_a_row_error_others_kept() {
    let text = "#date,#country+code,#indicator+code,#value\n2023,SV,returns,5\n2023,GT,returns\n2023,HN,returns,6,,\n";
    let t = read_hxl("h.csv", text.as_bytes()).expect("reads");
    assert_eq!(t.rows.iter().map(|(l, c)| (*l, c.len())).collect::<Vec<_>>(), [(2, 4), (4, 4)]);
    let d: Vec<(&str, Severity, u64)> = t.diagnostics.iter().map(|d| (d.code.as_str(), d.severity, d.line)).collect();
    assert_eq!(d, [("ragged-row", Severity::Error, 3)]);
    let p = parse("h.csv", text.as_bytes()).expect("parses");
    assert_eq!(p.observations.iter().map(|o| o.place.to_string()).collect::<Vec<_>>(), ["SV", "HN"]);
}

#[test]
fn hxl_statistics_places_periods_and_series() {
    let text = "#date,#country+code,#adm1+name,#indicator+code,#indicator+name,#indicator+unit,#indicator+value,#population+type\n\
                2023-10-15,GTM,Petén,returns,Returned persons,people,7,returnee\n\
                FY2024,SV,San Salvador,returns,,people,3,\n\
                2023-Q4,HN,,returns,,people,4,\n\
                2023-10,GT,Atlantis,returns,,people,4,\n\
                October 2023,GT,,returns,,people,4,\n\
                2023-10,GT,,,,people,4,\n";
    let p = parse("h.csv", text.as_bytes()).expect("parses");
    let got: Vec<(String, String, u64)> =
        p.observations.iter().map(|o| (o.place.to_string(), o.period.to_string(), o.row)).collect();
    assert_eq!(
        got,
        [
            ("GT-17".into(), "2023-10".into(), 2),
            ("SV-SS".into(), "FY2024".into(), 3),
            ("HN".into(), "2023-Q4".into(), 4)
        ]
    );
    assert_eq!(p.observations[0].disaggregation.get("population").map(String::as_str), Some("returnee"));
    assert!(p.observations[1].disaggregation.is_empty());
    let d: Vec<(&str, Severity, u64, u64)> =
        p.diagnostics.iter().map(|d| (d.code.as_str(), d.severity, d.line, d.column)).collect();
    assert_eq!(
        d,
        [
            ("day-date", Severity::Warning, 2, 1),
            ("unknown-admin1", Severity::Error, 5, 3),
            ("invalid-period", Severity::Error, 6, 1),
            ("missing-value", Severity::Error, 7, 4),
        ]
    );
    assert_eq!(p.series.len(), 1);
    assert_eq!((p.series[0].name.as_str(), p.series[0].unit.as_str()), ("Returned persons", "people"));
}

#[test]
fn hxl_missing_tags_are_named() {
    let err = parse("h.csv", b"#date,#country+code,#value\n2023,SV,4\n").expect_err("missing");
    match &err {
        StatsError::MissingColumns { missing, found, .. } => {
            assert_eq!(missing, &["#indicator+code"]);
            assert_eq!(found, &["#date", "#country+code", "#value"]);
        }
        other => panic!("{other:?}"),
    }
}

// --- Workbook ---

fn workbook(sheet: &str, header: &[&str], rows: &[(&str, &str, &str, Option<f64>, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    ws.write_string(0, 0, "KHSM Encounters (USBP): test title").expect("title");
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).expect("header");
    }
    for (i, (fy, month, cit, qty, qty_text)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string(r, 0, *fy).expect("fy");
        ws.write_string(r, 1, *month).expect("month");
        ws.write_string(r, 2, *cit).expect("cit");
        match qty {
            Some(q) => ws.write_number(r, 3, *q).expect("qty"),
            None => ws.write_string(r, 3, *qty_text).expect("qty"),
        };
    }
    wb.add_worksheet().set_name("Annual Count").expect("other sheet");
    wb.save_to_buffer().expect("xlsx")
}

const HEADER: [&str; 4] = ["Fiscal\nYear", "Month", "Citizenship", "Quantity"];

#[test]
fn workbook_with_title_rows_and_suppressed_values() {
    let bytes = workbook(
        "Monthly Citizenship",
        &HEADER,
        &[
            ("2024", "01 October", "Guatemala", Some(120.0), ""),
            ("2024", "01 October", "Honduras", None, "D"),
            ("2024", "02 November", "El Salvador", None, "-"),
            ("2024", "02 November", "Unknown", Some(10.0), ""),
            ("2024", "02 November", "Atlantis", Some(10.0), ""),
            ("2024", "02 November", "Mexico", None, "1,230"),
        ],
    );
    assert_eq!(detect("w.xlsx", &bytes), Some(Format::OhssWorkbook));
    let p = parse("w.xlsx", &bytes).expect("parses");
    let got: Vec<(String, String, Decimal, u64)> =
        p.observations.iter().map(|o| (o.place.to_string(), o.period.to_string(), o.value, o.row)).collect();
    assert_eq!(
        got,
        [
            ("GT".into(), "2023-10".into(), Decimal::from(120), 4),
            ("other:Unknown".into(), "2023-11".into(), Decimal::from(10), 7),
            ("MX".into(), "2023-11".into(), Decimal::from(1230), 9)
        ]
    );
    let d: Vec<(&str, u64, u64)> = p.diagnostics.iter().map(|d| (d.code.as_str(), d.line, d.column)).collect();
    assert_eq!(d, [("invalid-number", 5, 4), ("invalid-number", 6, 4), ("unknown-country", 8, 3)]);
    assert!(p.diagnostics[0].message.contains("\"D\""), "{}", p.diagnostics[0].message);
    assert!(p.diagnostics.iter().all(|d| d.identifier.as_deref() == Some("Monthly Citizenship")));
    assert_eq!(p.rows_read, 6);
}

#[test]
fn workbook_with_the_sheet_renamed_is_refused() {
    let bytes = workbook("Citizenship by Month", &HEADER, &[("2024", "01 October", "Guatemala", Some(1.0), "")]);
    let err = parse("w.xlsx", &bytes).expect_err("renamed sheet");
    match &err {
        StatsError::MissingSheet { sheet, found, .. } => {
            assert_eq!(sheet, "Monthly Citizenship");
            assert_eq!(found, &["Citizenship by Month", "Annual Count"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "missing-sheet");
}

#[test]
fn workbook_missing_a_column_is_refused() {
    let bytes = workbook("Monthly Citizenship", &["Fiscal Year", "Month", "Nationality", "Quantity"], &[]);
    let err = parse("w.xlsx", &bytes).expect_err("missing column");
    match &err {
        StatsError::MissingColumns { missing, found, sheet, .. } => {
            assert_eq!(missing, &["Citizenship"]);
            assert_eq!(found, &["Fiscal Year", "Month", "Nationality", "Quantity"]);
            assert_eq!(sheet.as_deref(), Some("Monthly Citizenship"));
        }
        other => panic!("{other:?}"),
    }
}

//! Tests of the reporting cycle's rules: periods, the strategy file's table, every bad actual,
//! the review's steps, due rows and approved actuals in progress.

use super::*;
use crate::intervention::{Context, parse_json};
use crate::observation::ValueKind;

fn st() -> Strategy {
    Strategy::builtin("cmms-2021").expect("strategy")
}

fn d(s: &str) -> Date {
    crate::codes::parse_iso_date(s).expect("date")
}

fn admin1(c: CountryCode, code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    (code.starts_with(c.as_str()) && ["HN-CR", "HN-FM", "GT-16", "SV-SS"].contains(&code.as_str())).then_some(code)
}

fn campaign() -> Intervention {
    let s = st();
    let ctx = Context { strategies: vec![&s], admin1 };
    let json = r#"{"organisation": 7, "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "messaging"}],
        "instrument": "public_messaging", "title": {"en": "Radio"}, "countries": ["HN"], "start": "2023-01-01",
        "status": "active", "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["youth"]}}"#;
    parse_json(json, &ctx).expect("intervention")
}

fn input<'a>(indicator: &'a str, period: &'a str, department: &'a str, value: &'a str) -> ActualInput<'a> {
    ActualInput { indicator, period, department, value, denominator: "", note: "" }
}

#[test]
fn the_builtin_strategy_reports_quarterly_and_periods_end_before_today() {
    let rules = st().reporting_def();
    assert_eq!(rules.frequency, Frequency::Quarterly);
    let today = d("2024-05-10");
    let ended = rules.ended_periods(today);
    assert_eq!(ended.last().map(ToString::to_string).as_deref(), Some("2024-Q1"));
    assert_eq!(rules.due_date(Period::parse("2024-Q1").expect("q")).to_string(), "2024-04-30");
    assert!(rules.check_period("2024-Q2", today).is_err(), "not ended yet");
    assert!(matches!(rules.check_period("2024-03", today), Err(Problem::PeriodOutside { .. })));
    assert!(matches!(rules.check_period("2001-Q1", today), Err(Problem::PeriodOutside { .. })));
    assert_eq!(rules.check_period("2024-q1", today), Ok(Period::Quarter { year: 2024, quarter: 1 }));
}

#[test]
fn bad_reporting_tables_are_refused_with_the_key() {
    let base = "id='x'\ntitle='t'\nshort_title='t'\npublished='2021-01-01'\nsource='s'\nfocus_countries=['GT']\n[[lines_of_effort]]\nid='A'\ntitle='a'\nscope='s'\n";
    let ok = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-02-15'\n");
    let s = Strategy::from_toml("ok.toml", &ok).expect("ok");
    assert_eq!(s.reporting_def().due_days, DEFAULT_DUE_DAYS);
    assert_eq!(s.reporting_def().first_period().to_string(), "2021-02");
    let weekly = format!("{base}[reporting]\nfrequency='weekly'\nstart='2021-02-15'\n");
    let e = Strategy::from_toml("f.toml", &weekly).expect_err("weekly").to_string();
    assert!(e.contains("weekly") && e.contains("monthly") && e.contains("quarterly"), "{e}");
    let bad_start = format!("{base}[reporting]\nfrequency='monthly'\nstart='Feb 2021'\n");
    let e = Strategy::from_toml("f.toml", &bad_start).expect_err("start").to_string();
    assert!(e.contains("f.toml") && e.contains("start") && e.contains("Feb 2021"), "{e}");
    let long = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-01-01'\ndue_days=900\n");
    let e = Strategy::from_toml("f.toml", &long).expect_err("due").to_string();
    assert!(e.contains("due_days"), "{e}");
    let neg = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-01-01'\ndue_days=-3\n");
    assert!(Strategy::from_toml("f.toml", &neg).is_err());
}

#[test]
fn bad_actuals_name_each_field_and_make_nothing() {
    let s = st();
    let iv = campaign();
    let locked = [Period::parse("2023-Q4").expect("q")];
    let ctx = ActualContext { strategy: &s, intervention: &iv, today: d("2024-05-10"), locked: &locked, admin1 };
    let ok = parse_actual(&input("loe7-1", "2024-Q1", "hn-cr", "1500"), &ctx).expect("valid");
    assert_eq!((ok.indicator.as_str(), ok.department.as_str(), ok.value), ("LOE7-1", "HN-CR", Decimal::from(1500)));
    for bad in ["N/A", "1,5", "<5", "", "1e3"] {
        let e = parse_actual(&input("LOE7-1", "2024-Q1", "HN-CR", bad), &ctx).expect_err(bad);
        assert_eq!(e.0.len(), 1, "{bad}: {e}");
        assert_eq!(e.0[0].field, "value");
    }
    let e = parse_actual(&input("LOE7-1", "2024-Q1", "HN-CR", "-3"), &ctx).expect_err("negative");
    assert_eq!(e.0[0].problem, Problem::Negative("-3".into()));
    let e = parse_actual(&input("LOE7-1", "2024-Q1", "GT-16", "3"), &ctx).expect_err("outside");
    assert_eq!(e.0[0].problem, Problem::DepartmentOutside("GT-16".into()));
    let e = parse_actual(&input("LOE7-1", "2023-Q4", "HN-CR", "3"), &ctx).expect_err("locked");
    assert_eq!(e.0[0].problem, Problem::PeriodLocked("2023-Q4".into()));
    let e = parse_actual(&input("LOE1-1", "2024-Q2", "HN-XX", "x"), &ctx).expect_err("all");
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["indicator", "period", "department", "value"]);
    assert!(e.0[1].message(crate::intervention::Lang::Es).contains("período de informe"));
    let mut i = input("LOE7-1", "2024-Q1", "HN-CR", "3");
    i.denominator = "10";
    i.note = "<script>alert(1)</script>";
    let e = parse_actual(&i, &ctx).expect_err("denominator");
    assert_eq!(e.0[0].problem, Problem::OnlyForRatio);
    i.denominator = "";
    assert_eq!(parse_actual(&i, &ctx).expect("markup is text").note.as_deref(), Some("<script>alert(1)</script>"));
}

#[test]
fn the_review_goes_from_draft_to_approved_or_returned_and_back() {
    use ReportState::*;
    assert_eq!(Step::Save.apply(None).map(|x| x.0), Ok(Draft));
    assert_eq!(Step::Submit.apply(Some(Returned)).map(|x| x.0), Ok(Submitted));
    assert_eq!(Step::Approve.apply(Some(Submitted)), Ok((Approved, Action::Approve)));
    assert_eq!(Step::Return.apply(Some(Approved)).map(|x| x.0), Ok(Returned));
    assert!(Step::Approve.apply(Some(Draft)).is_err());
    assert!(Step::Submit.apply(Some(Approved)).is_err(), "an approved report changes only after a return");
    assert!(Step::Save.apply(Some(Submitted)).is_err());
}

#[test]
fn due_rows_say_due_overdue_submitted_returned_approved() {
    let rules = st().reporting_def();
    let e = Expected { intervention_id: 1, organisation_id: 7, start: d("2023-11-15"), end: None };
    let q = |s: &str| Period::parse(s).expect("q");
    let reports = [(1, q("2023-Q4"), ReportState::Approved), (1, q("2024-Q1"), ReportState::Returned)];
    let rows = due_rows(&rules, d("2024-08-15"), std::slice::from_ref(&e), &reports, &[q("2023-Q4")]);
    let got: Vec<(String, &str, i64, bool)> =
        rows.iter().map(|r| (r.period.to_string(), r.status.as_str(), r.days_overdue, r.locked)).collect();
    assert_eq!(
        got,
        [
            ("2023-Q4".to_owned(), "approved", 0, true),
            ("2024-Q1".to_owned(), "returned", 107, false),
            ("2024-Q2".to_owned(), "overdue", 16, false),
        ]
    );
    let rows = due_rows(&rules, d("2024-07-10"), &[e], &[], &[]);
    assert_eq!(rows.last().map(|r| r.status), Some(DueStatus::Due));
}

#[test]
fn approved_values_of_several_partners_add_up_by_the_places_rule() {
    let s = st();
    let a = |v: i64| Actual {
        indicator: "LOE7-1".into(),
        period: Period::parse("2024-Q1").expect("q"),
        department: "HN-CR".into(),
        country: CountryCode::parse("HN").expect("hn"),
        value: Decimal::from(v),
        denominator: None,
        note: None,
    };
    let obs = approved_observations(&s, &[a(100), a(250)]);
    assert_eq!(obs.len(), 1);
    assert_eq!(
        (obs[0].value, obs[0].kind, obs[0].place.to_string()),
        (Decimal::from(350), ValueKind::Actual, "HN-CR".into())
    );
}

//! Tests of partner contributions: the one check (every bad input of issue 18 item 2) and the
//! policy.

use super::*;
use crate::accounts::{Caller, Principal, ReadScope, Role};
use serde_json::json;

fn check(v: Value) -> Result<Contribution, Invalid> {
    let s = Strategy::builtin("cmms-2021").expect("strategy");
    parse_value(&v, &Context { strategies: vec![&s] })
}

fn money() -> Value {
    json!({
        "organisation": 4,
        "line_of_effort": "loe5",
        "kind": "resources_mobilised",
        "form": "money",
        "date": "2024-05-02",
        "description": {"en": "Loan for returnee reintegration", "es": "Préstamo para la reintegración de retornados"},
        "countries": ["HN", "GT"],
        "source": "https://example.org/press/2024-05-02",
        "money": {"amount": "25000000.50", "currency": "usd", "date": "2024-05-02"}
    })
}

/// The errors of `v` as `field: English message` lines.
fn errors(v: Value) -> Vec<(String, Problem)> {
    match check(v) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(Invalid(e)) => e.into_iter().map(|e| (e.field, e.problem)).collect(),
    }
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

#[test]
fn money_contribution_is_read_exactly_and_round_trips() {
    let c = check(money()).expect("valid");
    assert_eq!(c.line_of_effort.as_deref(), Some("LOE5"));
    assert_eq!(c.kind, Kind::ResourcesMobilised);
    let m = c.money.as_ref().expect("money");
    assert_eq!(m.amount.to_string(), "25000000.50");
    assert_eq!(m.currency.as_str(), "USD");
    assert_eq!(c.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["HN", "GT"]);
    let again = check(serde_json::to_value(&c).expect("json")).expect("stored form is valid");
    assert_eq!(again, c);
}

#[test]
fn toml_file_is_read_like_json() {
    let s = Strategy::builtin("cmms-2021").expect("strategy");
    let ctx = Context { strategies: vec![&s] };
    let c = parse_toml(
        "organisation = 2\nintervention = 7\nkind = \"political_will\"\nform = \"agreement\"\ndate = 2024-02-01\n\
         countries = [\"GT\"]\nsource = \"Joint statement\"\n[description]\nes = \"Acuerdo de ampliar el asilo\"\n",
        &ctx,
    )
    .expect("valid");
    assert_eq!(c.intervention, Some(7));
    assert_eq!(c.line_of_effort, None);
    assert_eq!(c.date.to_string(), "2024-02-01");
    assert_eq!(c.description.get(Lang::En), "Acuerdo de ampliar el asilo");
}

#[test]
fn unknown_line_of_effort_is_refused_naming_the_field() {
    let e = errors(with(money(), "line_of_effort", json!("LOE9")));
    assert!(
        matches!(&e[..], [(f, Problem::NotOneOf { value, .. })] if f == "line_of_effort" && value == "LOE9"),
        "{e:?}"
    );
}

#[test]
fn neither_line_nor_intervention_is_refused() {
    let mut v = money();
    v.as_object_mut().expect("object").remove("line_of_effort");
    let e = errors(v);
    assert_eq!(e, [("line_of_effort".to_owned(), Problem::NoTarget)]);
}

#[test]
fn money_without_currency_or_with_a_non_iso_currency_is_refused() {
    let e = errors(with(money(), "money", json!({"amount": "100", "date": "2024-01-01"})));
    assert_eq!(e, [("money.currency".to_owned(), Problem::Missing)]);
    let e = errors(with(money(), "money", json!({"amount": "100", "currency": "XYZ", "date": "2024-01-01"})));
    assert_eq!(e, [("money.currency".to_owned(), Problem::Currency("XYZ".into()))]);
    let e = errors(with(money(), "money", json!({"amount": "100", "currency": "dollars", "date": "2024-01-01"})));
    assert_eq!(e, [("money.currency".to_owned(), Problem::Currency("dollars".into()))]);
}

#[test]
fn amounts_that_do_not_parse_are_refused() {
    for bad in ["N/A", "1,5", "<5", "1e6", ""] {
        let e = errors(with(money(), "money", json!({"amount": bad, "currency": "USD", "date": "2024-01-01"})));
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(e[0].0, "money.amount", "{bad}");
        assert!(matches!(e[0].1, Problem::Amount(_) | Problem::Empty), "{bad}: {e:?}");
    }
    let e = errors(with(money(), "money", json!({"amount": 1.5, "currency": "USD", "date": "2024-01-01"})));
    assert_eq!(e, [("money.amount".to_owned(), Problem::UnquotedDecimal)]);
}

#[test]
fn negative_or_zero_money_is_refused() {
    let e = errors(with(money(), "money", json!({"amount": "-500", "currency": "USD", "date": "2024-01-01"})));
    assert_eq!(e, [("money.amount".to_owned(), Problem::AmountNegative("-500".into()))]);
    let e = errors(with(money(), "money", json!({"amount": -500, "currency": "USD", "date": "2024-01-01"})));
    assert_eq!(e, [("money.amount".to_owned(), Problem::AmountNegative("-500".into()))]);
    let e = errors(with(money(), "money", json!({"amount": "0", "currency": "USD", "date": "2024-01-01"})));
    assert_eq!(e, [("money.amount".to_owned(), Problem::Amount("0".into()))]);
}

#[test]
fn a_date_that_is_not_a_date_is_refused() {
    for bad in ["2024-02-30", "02/05/2024", "yesterday"] {
        let e = errors(with(money(), "date", json!(bad)));
        assert_eq!(e, [("date".to_owned(), Problem::Date(bad.into()))], "{bad}");
    }
    let e = errors(with(money(), "money", json!({"amount": "1", "currency": "USD", "date": "2024-13-01"})));
    assert_eq!(e, [("money.date".to_owned(), Problem::Date("2024-13-01".into()))]);
}

#[test]
fn money_belongs_to_money_only_and_a_money_contribution_needs_it() {
    let mut v = with(money(), "form", json!("in_kind"));
    let e = errors(v.clone());
    assert_eq!(e, [("money".to_owned(), Problem::OnlyForMoney("in_kind".into()))]);
    v.as_object_mut().expect("object").remove("money");
    check(v).expect("in kind without money");
    let mut v = money();
    v.as_object_mut().expect("object").remove("money");
    assert_eq!(errors(v), [("money".to_owned(), Problem::Missing)]);
}

#[test]
fn a_form_of_another_kind_is_refused_with_the_kinds_forms() {
    let e = errors(with(with(money(), "kind", json!("informing")), "form", json!("law")));
    match &e[..] {
        [(f, Problem::NotOneOf { value, allowed })] => {
            assert_eq!(f, "form");
            assert_eq!(value, "law");
            assert_eq!(allowed, &["assessment", "data", "advice"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_problem_is_reported_at_once_in_both_languages() {
    let e = match check(json!({
        "organisation": "x", "kind": "gift", "form": "money", "date": "soon",
        "description": {}, "countries": ["Guatemala"], "colour": "red",
        "money": {"amount": "1,5", "currency": "EURO", "date": "2024-01-01"}
    })) {
        Err(Invalid(e)) => e,
        Ok(c) => panic!("{c:?}"),
    };
    let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "colour",
        "organisation",
        "line_of_effort",
        "kind",
        "date",
        "description",
        "countries[0]",
        "source",
        "money.amount",
        "money.currency",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    let amount = e.iter().find(|e| e.field == "money.amount").expect("amount");
    assert!(amount.message(Lang::En).contains("is not an amount"));
    assert!(amount.message(Lang::Es).contains("no es un importe"));
}

#[test]
fn markup_is_kept_as_text() {
    let c =
        check(with(money(), "description", json!({"en": "<script>alert(1)</script> & <b>loan</b>"}))).expect("valid");
    assert_eq!(c.description.get(Lang::Es), "<script>alert(1)</script> & <b>loan</b>");
}

fn person(role: Role, org: Option<i64>) -> Principal {
    Principal::Person(Caller {
        person_id: 1,
        email: "p@example.org".into(),
        role,
        organisation_id: org,
        token_id: None,
    })
}

#[test]
fn partner_records_its_own_coordinator_publishes_public_reads_published() {
    let c = check(money()).expect("valid");
    assert!(c.may_record(&person(Role::PartnerEditor, Some(4))).allowed());
    assert!(!c.may_record(&person(Role::PartnerEditor, Some(5))).allowed());
    assert!(c.may_record(&person(Role::Coordinator, None)).allowed());
    assert!(!c.may_record(&person(Role::Viewer, None)).allowed());
    assert_eq!(c.may_record(&Principal::Anonymous), crate::accounts::Decision::SignIn);
    assert!(may_publish(&person(Role::Coordinator, None), 4, false).allowed());
    assert!(!may_publish(&person(Role::PartnerEditor, Some(4)), 4, false).allowed());
    assert!(!ReadScope::of(&Principal::Anonymous).sees(Some(4), false));
    assert!(ReadScope::of(&Principal::Anonymous).sees(Some(4), true));
}

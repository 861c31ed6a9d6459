//! Tests of the intervention record: parsing, bad input, the workflow's policy.

use super::*;
use crate::accounts::{Caller, Decision, Principal, Role};
use crate::codes::CountryCode;
use crate::strategy::Strategy;
use serde_json::Value;

fn admin1(c: CountryCode, code: &str) -> Option<String> {
    let up = code.trim().to_ascii_uppercase();
    let known = ["GT-01", "GT-16", "HN-CR", "SV-SS"];
    (known.contains(&up.as_str()) && up.starts_with(c.as_str())).then_some(up)
}

fn with<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
    let s = Strategy::builtin("cmms-2021").expect("strategy");
    f(&Context { strategies: vec![&s], admin1 })
}

fn messaging() -> Value {
    serde_json::json!({
        "organisation": 3,
        "implementing_partners": ["Radio Progreso"],
        "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "campaign on the risks of irregular migration"}],
        "instrument": "public_messaging",
        "title": {"en": "Know before you go", "es": "Infórmate antes de partir"},
        "countries": ["HN", "GT"],
        "departments": ["HN-CR", "gt-16"],
        "start": "2024-01-01",
        "end": "2024-12-31",
        "population_groups": ["returnee"],
        "status": "active",
        "money": [{"kind": "budget", "amount": "250000.50", "currency": "usd", "date": "2024-01-01"}],
        "public_messaging": {
            "channels": ["radio", "WhatsApp"],
            "languages": ["es"],
            "audiences": ["young people"],
            "reach": [{"period": "2024-Q1", "country": "HN", "department": "HN-CR", "people_reached": 2000000, "impressions": "5000000"}]
        }
    })
}

fn fields(v: &Value) -> Vec<String> {
    with(|c| parse_value(v, c)).expect_err("refused").0.into_iter().map(|e| e.field).collect()
}

fn problems(v: &Value) -> Vec<FieldError> {
    with(|c| parse_value(v, c)).expect_err("refused").0
}

#[test]
fn a_messaging_campaign_parses_and_round_trips() {
    let i = with(|c| parse_value(&messaging(), c)).expect("valid");
    assert_eq!(i.strategy, "cmms-2021");
    assert_eq!(i.departments, ["HN-CR", "GT-16"]);
    assert_eq!(i.money[0].amount.to_string(), "250000.50");
    assert_eq!(i.money[0].currency.as_str(), "USD");
    let Details::PublicMessaging(m) = &i.details else { panic!("messaging") };
    assert_eq!(m.reach[0].impressions, Some(5_000_000));
    let stored = serde_json::to_value(&i).expect("serialise");
    assert_eq!(with(|c| parse_value(&stored, c)).expect("stored form parses"), i);
    let back: Intervention = serde_json::from_value(stored).expect("deserialise");
    assert_eq!(back, i);
}

#[test]
fn every_instrument_round_trips_through_json_and_toml() {
    let dip = r#"
organisation = 1
instrument = "diplomacy"
countries = ["GT"]
start = 2024-02-01
status = "active"
title = { es = "Compromiso de ampliar la capacidad de asilo" }
[[lines_of_effort]]
line_of_effort = "LOE2"
reason = "asylum capacity"
[diplomacy]
counterpart = "Ministerio de Relaciones Exteriores"
counterpart_kind = "government"
ask = "Expand asylum capacity"
[[diplomacy.history]]
date = "2024-02-01"
status = "raised"
[[diplomacy.history]]
date = 2024-05-01
status = "committed"
note = "announced"
"#;
    let path = r#"{"organisation": 1, "instrument": "immigration_initiatives", "countries": ["SV"],
        "start": "2023-06-01", "status": "active", "title": {"en": "Safe Mobility Office"},
        "lines_of_effort": [{"line_of_effort": "loe8", "reason": "lawful pathway"}],
        "immigration_initiatives": {"programme": "Safe Mobility Office",
           "figures": [{"period": "FY2024", "country": "SV", "applications": 12000, "approvals": 3000, "arrivals": 1000}]}}"#;
    let fa = r#"{"organisation": 1, "instrument": "foreign_assistance", "countries": ["GT"],
        "start": "2023-06-01", "status": "planned", "title": {"en": "Returnee reception"},
        "lines_of_effort": [{"line_of_effort": "LOE5", "reason": "reception of returnees"}],
        "foreign_assistance": {"iati_identifier": "US-GOV-1-72052022CA00001"}}"#;
    with(|c| {
        let d = parse_toml(dip, c).expect("diplomacy");
        let Details::Diplomacy(x) = &d.details else { panic!("diplomacy") };
        assert_eq!(x.status(), Some(CommitmentStatus::Committed));
        let p = parse_json(path, c).expect("pathway");
        assert_eq!(p.line_ids(), ["LOE8"]);
        let f = parse_json(fa, c).expect("foreign assistance");
        assert_eq!(f.iati_identifier().map(|i| i.as_str()), Some("US-GOV-1-72052022CA00001"));
        for i in [d, p, f] {
            let v = serde_json::to_value(&i).expect("serialise");
            assert_eq!(parse_value(&v, c).expect("again"), i);
        }
    });
}

#[test]
fn bad_input_names_the_field() {
    let mut v = messaging();
    v["end"] = "2023-12-31".into();
    assert_eq!(fields(&v), ["end"]);
    let e = &problems(&v)[0];
    assert_eq!(e.message(Lang::En), "the end is before the start");
    assert_eq!(e.message(Lang::Es), "la fecha de fin es anterior a la de inicio");

    let mut v = messaging();
    v["departments"] = serde_json::json!(["SV-SS"]);
    assert_eq!(fields(&v), ["departments[0]"], "a department of a country not chosen");
    let mut v = messaging();
    v["departments"] = serde_json::json!(["GT-99"]);
    assert_eq!(fields(&v), ["departments[0]"], "not a department of GT");

    for bad in ["N/A", "1,5", "<5", "1e5"] {
        let mut v = messaging();
        v["money"][0]["amount"] = bad.into();
        let p = problems(&v);
        assert_eq!((p[0].field.as_str(), &p[0].problem), ("money[0].amount", &Problem::Amount(bad.into())), "{bad}");
    }
    let mut v = messaging();
    v["money"][0]["amount"] = serde_json::json!(1500.25);
    assert_eq!(problems(&v)[0].problem, Problem::UnquotedDecimal);
    let mut v = messaging();
    v["money"][0]["amount"] = "-5".into();
    assert_eq!(fields(&v), ["money[0].amount"]);
    let mut v = messaging();
    v["money"][0]["currency"] = "XYZ".into();
    assert_eq!(fields(&v), ["money[0].currency"], "three letters, not ISO 4217");

    let mut v = messaging();
    v["public_messaging"]["reach"][0]["people_reached"] = serde_json::json!(-3);
    assert_eq!(problems(&v)[0].problem, Problem::Negative("-3".into()));
    let mut v = messaging();
    v["public_messaging"]["reach"][0]["impressions"] = "-3".into();
    assert_eq!(fields(&v), ["public_messaging.reach[0].impressions"]);
    let mut v = messaging();
    v["public_messaging"]["reach"][0]["department"] = "GT-16".into();
    assert_eq!(fields(&v), ["public_messaging.reach[0].department"], "GT-16 is not in HN");
    let mut v = messaging();
    v["public_messaging"]["reach"][0]["period"] = "Q1".into();
    assert_eq!(fields(&v), ["public_messaging.reach[0].period"]);

    let mut v = messaging();
    v["colour"] = "blue".into();
    assert_eq!(fields(&v), ["colour"]);
    let mut v = messaging();
    v["diplomacy"] = serde_json::json!({});
    assert_eq!(fields(&v), ["diplomacy"], "another instrument's section");
    let mut v = messaging();
    v["lines_of_effort"][0]["line_of_effort"] = "LOE9".into();
    v["lines_of_effort"][0]["reason"] = "".into();
    assert_eq!(fields(&v), ["lines_of_effort[0].line_of_effort", "lines_of_effort[0].reason"]);
    let mut v = messaging();
    v["title"] = serde_json::json!({});
    assert_eq!(fields(&v), ["title"]);
    let mut v = messaging();
    v["title"]["en"] = "bell\u{7}".into();
    assert_eq!(fields(&v), ["title.en"]);
    let mut v = messaging();
    v["status"] = "finished".into();
    let p = problems(&v);
    assert_eq!(p[0].field, "status");
    assert!(p[0].message(Lang::Es).contains("planned, active"), "{}", p[0].message(Lang::Es));
    let mut v = messaging();
    v["population_groups"] = serde_json::json!(["tourists"]);
    assert_eq!(fields(&v), ["population_groups[0]"]);
    let mut v = messaging();
    v["countries"] = serde_json::json!(["XX"]);
    assert!(fields(&v).contains(&"countries[0]".to_owned()));
    assert_eq!(fields(&serde_json::json!([1])), ["(record)"]);
    assert_eq!(with(|c| parse_json("{", c)).expect_err("syntax").0[0].field, "(record)");
}

#[test]
fn markup_is_kept_as_text() {
    let mut v = messaging();
    v["title"]["en"] = "<script>alert(1)</script>".into();
    let i = with(|c| parse_value(&v, c)).expect("kept as text");
    assert_eq!(i.title.en.as_deref(), Some("<script>alert(1)</script>"));
}

#[test]
fn foreign_assistance_carries_no_money_of_its_own() {
    let v = serde_json::json!({"organisation": 1, "instrument": "foreign_assistance", "countries": ["GT"],
        "start": "2023-06-01", "status": "planned", "title": {"en": "x"},
        "lines_of_effort": [{"line_of_effort": "LOE5", "reason": "r"}],
        "money": [{"kind": "budget", "amount": "1", "currency": "USD", "date": "2024-01-01"}],
        "foreign_assistance": {"iati_identifier": "US-1"}});
    assert_eq!(problems(&v)[0].problem, Problem::MoneyFromIati);
}

#[test]
fn diplomatic_history_is_in_date_order() {
    let v = serde_json::json!({"organisation": 1, "instrument": "diplomacy", "countries": ["GT"],
        "start": "2023-06-01", "status": "active", "title": {"en": "x"},
        "lines_of_effort": [{"line_of_effort": "LOE2", "reason": "r"}],
        "diplomacy": {"counterpart": "MINEX", "counterpart_kind": "government", "ask": "a",
           "history": [{"date": "2024-05-01", "status": "raised"}, {"date": "2024-01-01", "status": "stalled"}]}});
    assert_eq!(fields(&v), ["diplomacy.history[1].date"]);
}

#[test]
fn the_workflow_asks_the_policy() {
    let editor = Principal::Person(Caller {
        person_id: 1,
        email: "e@x.org".into(),
        organisation_id: Some(3),
        role: Role::PartnerEditor,
        token_id: None,
    });
    let coord = Principal::Person(Caller {
        person_id: 2,
        email: "c@x.org".into(),
        organisation_id: None,
        role: Role::Coordinator,
        token_id: None,
    });
    use Workflow::*;
    assert_eq!(may_move(&editor, 3, Draft, Submitted), Ok(Decision::Allow));
    assert_eq!(may_move(&editor, 4, Draft, Submitted), Ok(Decision::Deny));
    assert_eq!(may_move(&editor, 3, Submitted, Approved), Ok(Decision::Deny));
    assert_eq!(may_move(&coord, 3, Submitted, Approved), Ok(Decision::Allow));
    assert_eq!(may_move(&coord, 3, Approved, Published), Ok(Decision::Allow));
    assert_eq!(may_move(&Principal::Anonymous, 3, Draft, Submitted), Ok(Decision::SignIn));
    assert_eq!(may_move(&coord, 3, Draft, Published).expect_err("skips").field, "workflow");
    assert_eq!(may_edit_some(&editor), Decision::Allow);
    assert_eq!(may_edit_some(&coord), Decision::Allow);
    assert_eq!(may_edit_some(&Principal::Anonymous), Decision::SignIn);
    let viewer = Principal::Person(Caller {
        person_id: 3,
        email: "v@x.org".into(),
        organisation_id: Some(3),
        role: Role::Viewer,
        token_id: None,
    });
    assert_eq!(may_edit_some(&viewer), Decision::Deny);
    let i = with(|c| parse_value(&messaging(), c)).expect("valid");
    assert!(i.may_create(&editor).allowed());
    assert!(!i.may_create(&Principal::Anonymous).allowed());
}

#[test]
fn the_currency_list_is_sorted() {
    assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
}

fn person(id: i64, org: Option<i64>, role: Role) -> Principal {
    Principal::Person(Caller {
        person_id: id,
        email: format!("p{id}@x.org"),
        organisation_id: org,
        role,
        token_id: None,
    })
}

#[test]
fn editing_asks_the_policy_for_the_record_and_its_state() {
    use Workflow::*;
    let editor = person(1, Some(3), Role::PartnerEditor);
    let coord = person(2, None, Role::Coordinator);
    let viewer = person(3, Some(3), Role::Viewer);
    assert_eq!(may_edit(&editor, 3, Draft), Decision::Allow);
    assert_eq!(may_edit(&editor, 4, Draft), Decision::Deny, "another organisation's record");
    for w in [Submitted, Approved, Published] {
        assert_eq!(may_edit(&editor, 3, w), Decision::Deny, "past the draft: {w}");
        assert_eq!(may_edit(&coord, 3, w), Decision::Allow, "a coordinator, {w}");
    }
    assert_eq!(may_edit(&viewer, 3, Draft), Decision::Deny);
    assert_eq!(may_edit(&Principal::Anonymous, 3, Draft), Decision::SignIn);
}

fn diplomacy_with_secrets() -> Value {
    serde_json::json!({"organisation": 3, "instrument": "diplomacy", "countries": ["GT"],
        "start": "2024-01-01", "status": "active", "title": {"en": "Asylum capacity"},
        "description": {"en": "Talks with the vice-minister"},
        "lines_of_effort": [{"line_of_effort": "LOE2", "reason": "asylum"}],
        "not_for_publication": ["diplomacy_ask", "diplomacy_notes"],
        "diplomacy": {"counterpart": "MINEX", "counterpart_kind": "government", "ask": "Double the asylum officers",
           "history": [{"date": "2024-01-01", "status": "raised", "note": "said yes in private"}]}})
}

#[test]
fn restricted_fields_are_withheld_from_who_may_not_edit() {
    let i = with(|c| parse_value(&diplomacy_with_secrets(), c)).expect("valid");
    assert!(i.is_restricted(Restricted::DiplomacyAsk));
    let back = with(|c| parse_value(&serde_json::to_value(&i).expect("json"), c)).expect("round trip");
    assert_eq!(back, i);
    let mut shown = i.clone();
    assert_eq!(shown.withhold(), [Restricted::DiplomacyAsk, Restricted::DiplomacyNotes]);
    let text = serde_json::to_string(&shown).expect("json");
    assert!(!text.contains("asylum officers") && !text.contains("in private"), "{text}");
    assert!(text.contains("vice-minister"), "the description is not marked");

    assert_eq!(Sight::of(&person(1, Some(3), Role::PartnerEditor)), Sight::Own(3));
    assert!(Sight::of(&person(1, Some(3), Role::PartnerEditor)).sees(3));
    assert!(!Sight::of(&person(1, Some(4), Role::PartnerEditor)).sees(3), "another partner");
    assert!(!Sight::of(&person(1, Some(3), Role::Viewer)).sees(3), "a viewer");
    assert!(!Sight::of(&Principal::Anonymous).sees(3), "the public");
    assert!(Sight::of(&person(2, None, Role::Coordinator)).sees(3));

    let mut v = diplomacy_with_secrets();
    v["instrument"] = "public_messaging".into();
    v["public_messaging"] = serde_json::json!({"channels": ["radio"], "languages": ["es"], "audiences": ["youth"]});
    v.as_object_mut().expect("object").remove("diplomacy");
    assert_eq!(fields(&v), ["not_for_publication[0]", "not_for_publication[1]"], "diplomacy fields on a campaign");
    let mut v = diplomacy_with_secrets();
    v["not_for_publication"] = serde_json::json!(["title"]);
    assert_eq!(fields(&v), ["not_for_publication[0]"]);
}

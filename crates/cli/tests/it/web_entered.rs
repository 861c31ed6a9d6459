//! Entered interventions in the dashboard's reports (issue 18, item 3), through the access
//! policy: the API report counts a draft's money for its own organisation, viewers and
//! coordinators, never for the public or another partner; once published, for everyone; the
//! source is marked; the overview shows the plan's funding gap.

use crate::web::get;
use crate::web_interventions::{campaign, json_of, send, setup, token_of};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn entered_commitments(r: &crate::web::Resp) -> Option<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: Value = json_of(r);
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["key"][0] == "entered")
        .map(|row| row["usd"]["commitments"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn a_drafts_money_is_counted_only_for_those_who_may_see_it() {
    let (dir, app, rt, a, _b) = setup();
    let (ed_a, ed_b, coord, viewer) = (token_of("editora"), token_of("editorb"), token_of("coord"), token_of("viewer"));
    let mut body = campaign(a);
    body["money"] = json!([{"kind": "commitment", "amount": "1234.56", "currency": "USD", "date": "2024-02-01"}]);
    let r = send(&rt, &app, "POST", "/api/v1/interventions", Some(&ed_a), &body.to_string());
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = json_of(&r)["id"].as_i64().expect("id");

    let uri = "/api/v1/report?by=source";
    assert_eq!(entered_commitments(&get(&rt, &app, uri, &[])), None, "the public does not see a draft's money");
    assert_eq!(entered_commitments(&send(&rt, &app, "GET", uri, Some(&ed_b), "")), None, "nor another partner");
    for t in [&ed_a, &viewer, &coord] {
        assert_eq!(entered_commitments(&send(&rt, &app, "GET", uri, Some(t), "")).as_deref(), Some("1234.56"));
    }
    let only = send(&rt, &app, "GET", "/api/v1/report?by=instrument&source=entered", Some(&ed_a), "");
    assert_eq!(json_of(&only)["total"]["usd"]["commitments"], "1234.56", "{}", only.body);
    assert_eq!(get(&rt, &app, "/api/v1/report?source=both", &[]).status, StatusCode::BAD_REQUEST);

    let flow = format!("/api/v1/interventions/{id}/workflow");
    let to = |w: &str| json!({"workflow": w}).to_string();
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&ed_a), &to("submitted")).status, StatusCode::OK);
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&coord), &to("approved")).status, StatusCode::OK);
    assert_eq!(send(&rt, &app, "POST", &flow, Some(&coord), &to("published")).status, StatusCode::OK);
    // A change to interventions reaches cached reports within the generation TTL (250 ms).
    std::thread::sleep(senda_web::state::GENERATION_TTL + std::time::Duration::from_millis(100));
    assert_eq!(entered_commitments(&get(&rt, &app, uri, &[])).as_deref(), Some("1234.56"), "published: public");
    assert_eq!(entered_commitments(&send(&rt, &app, "GET", uri, Some(&ed_b), "")).as_deref(), Some("1234.56"));

    // The plan's gap on the overview, in both languages.
    let db = dir.path().join("senda.db");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(&db)
        .args(["plan", "set", "--line-of-effort", "LOE7", "--country", "HN", "--fiscal-year", "2024"])
        .args(["--amount", "2000", "--source", "test plan"])
        .output()
        .expect("senda plan set");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::thread::sleep(senda_web::state::GENERATION_TTL + std::time::Duration::from_millis(100));
    let en = get(&rt, &app, "/?lang=en", &[]);
    assert!(en.body.contains("Plan and funding gap") && en.body.contains("$765"), "gap 2,000 − 1,234.56: {}", en.body);
    assert!(en.body.contains("61.7%"), "percent funded");
    let es = get(&rt, &app, "/?lang=es", &[]);
    assert!(es.body.contains("Plan y brecha de financiamiento") && es.body.contains("61,7\u{a0}%"), "{}", es.body);
}

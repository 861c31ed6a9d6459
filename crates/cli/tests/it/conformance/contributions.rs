//! Partner contributions on every backend (issue 18, item 2): stored and read back whole
//! (money exact, markup as text); lists filtered by line of effort (given, or through the
//! intervention contributed to) and country; reads filtered by the access policy's scope in
//! SQL; publication; every write audited; unknown organisation or intervention refused with
//! nothing written.

use super::*;
use crate::support::*;
use senda_core::Strategy;
use senda_core::accounts::{NewOrganisation, ReadScope};
use senda_core::contribution::{Context, Contribution, Kind, parse_value};
use senda_core::intervention::Problem;
use senda_store::StoreError;
use senda_store::accounts::{Actor, AuditFilter};
use senda_store::contributions::{ContributionFilter, Published};
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn parse(v: serde_json::Value) -> Contribution {
    let s = Strategy::builtin(STRATEGY).expect("strategy");
    parse_value(&v, &Context { strategies: vec![&s] }).unwrap_or_else(|e| panic!("valid record: {e}"))
}

fn organisation(s: &dyn Store, name: &str) -> i64 {
    let o = NewOrganisation::parse(name, None, None, None, Some("GT"), &[]).expect("organisation");
    s.create_organisation(&Actor::cli(), &o, NOW).expect("create organisation")
}

fn money(org: i64, line: &str, country: &str, amount: &str) -> Contribution {
    parse(json!({
        "organisation": org, "line_of_effort": line, "kind": "resources_mobilised", "form": "money",
        "date": "2024-05-02", "countries": [country], "source": "https://example.org/loan",
        "description": {"en": "Loan <script>alert(1)</script> & \"quotes\"", "es": "Préstamo ñandú"},
        "money": {"amount": amount, "currency": "USD", "date": "2024-05-02"}
    }))
}

/// One published and one unpublished contribution (the copy test needs a row).
pub fn fill_contributions(s: &dyn Store) {
    let org = organisation(s, "Contributing bank");
    let a = s.create_contribution(&Actor::cli(), &money(org, "LOE5", "HN", "1000.25"), NOW).expect("create");
    s.create_contribution(&Actor::cli(), &money(org, "LOE2", "GT", "7"), NOW).expect("create");
    s.publish_contribution(&Actor::cli(), a, true, NOW).expect("publish");
}

#[test]
fn a_contribution_is_stored_and_read_back_whole_and_audited() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "Banco Centroamericano");
        let c = money(org, "LOE5", "HN", "25000000.123456");
        let id = db.create_contribution(&Actor::cli(), &c, NOW).expect("create");
        let r = db.contribution(id, ReadScope::Everything).expect("read").expect("exists");
        assert_eq!(r.contribution, c, "{b}");
        assert_eq!(r.contribution.money.as_ref().expect("money").amount.to_string(), "25000000.123456", "{b}");
        assert_eq!(r.contribution.description.en.as_deref(), Some("Loan <script>alert(1)</script> & \"quotes\""));
        assert_eq!(r.organisation_name, "Banco Centroamericano");
        assert!(!r.published);
        assert_eq!(r.version, 1);
        let events = db
            .audit_events(&AuditFilter { record: Some(format!("contribution:{id}")), limit: 10, ..Default::default() })
            .expect("audit");
        assert_eq!(events.len(), 1, "{b}");
        assert_eq!(events[0].action, "contribution.create");
    });
}

#[test]
fn unknown_organisation_or_intervention_is_refused_and_nothing_written() {
    for_each_backend(|b| {
        let db = b.db();
        let err = db.create_contribution(&Actor::cli(), &money(4242, "LOE5", "HN", "1"), NOW).expect_err("refused");
        match err {
            StoreError::Account { field, message } => {
                assert_eq!(field, "organisation");
                assert_eq!(message, Problem::UnknownOrganisation(4242).message(senda_core::intervention::Lang::En));
            }
            e => panic!("{b}: {e}"),
        }
        let org = organisation(&*db, "A");
        let mut c = money(org, "LOE5", "HN", "1");
        c.intervention = Some(77);
        match db.create_contribution(&Actor::cli(), &c, NOW).expect_err("refused") {
            StoreError::Account { field, .. } => assert_eq!(field, "intervention"),
            e => panic!("{b}: {e}"),
        }
        assert_eq!(rows_in(&*db, "contribution"), 0, "{b}");
        assert!(
            db.audit_events(&AuditFilter { limit: 100, ..Default::default() })
                .expect("audit")
                .iter()
                .all(|e| !e.record.starts_with("contribution:"))
        );
    });
}

#[test]
fn lists_filter_by_line_country_and_the_readers_scope() {
    for_each_backend(|b| {
        let db = b.db();
        let a = organisation(&*db, "A");
        let other = organisation(&*db, "B");
        let a1 = db.create_contribution(&Actor::cli(), &money(a, "LOE5", "HN", "1"), NOW).expect("create");
        let a2 = db.create_contribution(&Actor::cli(), &money(a, "LOE2", "GT", "2"), NOW).expect("create");
        let b1 = db.create_contribution(&Actor::cli(), &money(other, "LOE5", "GT", "3"), NOW).expect("create");
        // A contribution to an intervention appears under the intervention's lines of effort.
        let s = Strategy::builtin(STRATEGY).expect("strategy");
        let ictx = senda_core::intervention::Context {
            strategies: vec![&s],
            admin1: senda_stats::countries::canonical_admin1,
        };
        let i = senda_core::intervention::parse_value(
            &json!({"organisation": other, "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "r"}],
                "instrument": "public_messaging", "title": {"en": "t"}, "countries": ["SV"], "start": "2024-01-01",
                "status": "active", "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["youth"]}}),
            &ictx,
        )
        .expect("intervention");
        let iid = db.create_intervention(&Actor::cli(), &i, NOW).expect("intervention").id;
        let to_i = parse(json!({"organisation": other, "intervention": iid, "kind": "informing", "form": "assessment",
            "date": "2024-06-01", "countries": ["SV"], "source": "report", "description": {"es": "Evaluación"}}));
        let b2 = db.create_contribution(&Actor::cli(), &to_i, NOW).expect("create");
        db.publish_contribution(&Actor::cli(), b1, true, NOW).expect("publish");

        let ids = |f: ContributionFilter, scope: ReadScope| -> Vec<i64> {
            let mut v: Vec<i64> = db.contributions(&f, scope).expect("list").iter().map(|r| r.id).collect();
            v.sort();
            v
        };
        let line = |l: &str| ContributionFilter { line_of_effort: Some(l.into()), ..Default::default() };
        assert_eq!(ids(line("LOE5"), ReadScope::Everything), [a1, b1], "{b}");
        assert_eq!(ids(line("loe7"), ReadScope::Everything), [b2], "{b}: through the intervention");
        let gt = ContributionFilter {
            country: Some(senda_core::CountryCode::parse("GT").expect("cc")),
            ..Default::default()
        };
        assert_eq!(ids(gt.clone(), ReadScope::Everything), [a2, b1], "{b}");
        // The public: published only; a partner: published and its own.
        assert_eq!(ids(ContributionFilter::default(), ReadScope::PublishedOnly), [b1], "{b}");
        assert_eq!(ids(ContributionFilter::default(), ReadScope::PublishedAndOwn(a)), [a1, a2, b1], "{b}");
        assert_eq!(ids(gt, ReadScope::PublishedAndOwn(other)), [b1], "{b}");
        // A single read agrees with the list.
        assert!(db.contribution(a1, ReadScope::PublishedOnly).expect("read").is_none());
        assert!(db.contribution(a1, ReadScope::PublishedAndOwn(a)).expect("read").is_some());
        assert!(db.contribution(b2, ReadScope::PublishedAndOwn(a)).expect("read").is_none());
        assert_eq!(
            db.contribution(b1, ReadScope::PublishedOnly).expect("read").expect("published").contribution.kind,
            Kind::ResourcesMobilised
        );
    });
}

#[test]
fn publishing_is_audited_and_a_repeat_changes_nothing() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "A");
        let id = db.create_contribution(&Actor::cli(), &money(org, "LOE5", "HN", "1"), NOW).expect("create");
        match db.publish_contribution(&Actor::cli(), id, true, NOW + 1).expect("publish") {
            Published::Done(r) => assert!(r.published && r.version == 2, "{b}"),
            other => panic!("{b}: {other:?}"),
        }
        assert!(matches!(
            db.publish_contribution(&Actor::cli(), id, true, NOW + 2).expect("again"),
            Published::Unchanged(_)
        ));
        assert!(matches!(db.publish_contribution(&Actor::cli(), 999, true, NOW).expect("none"), Published::NotFound));
        match db.publish_contribution(&Actor::cli(), id, false, NOW + 3).expect("unpublish") {
            Published::Done(r) => assert!(!r.published && r.version == 3, "{b}"),
            other => panic!("{b}: {other:?}"),
        }
        let mut actions: Vec<String> = db
            .audit_events(&AuditFilter { record: Some(format!("contribution:{id}")), limit: 10, ..Default::default() })
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect();
        actions.sort();
        assert_eq!(actions, ["contribution.create", "contribution.publish", "contribution.unpublish"], "{b}");
    });
}

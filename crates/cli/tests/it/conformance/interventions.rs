//! Interventions entered in Senda on every backend (issue 18, item 1): each instrument stored
//! and read back whole; reads filtered by the access policy's scope (a list never shows what
//! a single read would not); the review workflow with its conflicts; every write audited; a
//! foreign-assistance record linked to its IATI activity once that is imported.

use super::*;
use crate::support::*;
use senda_core::Strategy;
use senda_core::accounts::{NewOrganisation, ReadScope};
use senda_core::intervention::{Context, Instrument, Intervention, Problem, Workflow, parse_value};
use senda_store::StoreError;
use senda_store::accounts::{Actor, AuditFilter};
use senda_store::interventions::{InterventionFilter, Moved};
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn parse(v: serde_json::Value) -> Intervention {
    let s = Strategy::builtin(STRATEGY).expect("strategy");
    let ctx = Context { strategies: vec![&s], admin1: senda_stats::countries::canonical_admin1 };
    parse_value(&v, &ctx).unwrap_or_else(|e| panic!("valid record: {e}"))
}

fn base(org: i64, instrument: &str) -> serde_json::Value {
    json!({
        "organisation": org,
        "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "information on the risks of irregular migration"}],
        "instrument": instrument,
        "title": {"en": format!("{instrument} of {org}"), "es": "Campaña <b>\"Infórmate\"</b>"},
        "countries": ["HN", "GT"],
        "departments": ["HN-CR", "GT-16"],
        "start": "2024-01-01",
        "status": "active",
    })
}

/// One record of each instrument for organisation `org`.
pub(super) fn records(org: i64) -> Vec<Intervention> {
    let mut m = base(org, "public_messaging");
    m["money"] = json!([{"kind": "budget", "amount": "250000.50", "currency": "USD", "date": "2024-01-01"}]);
    m["public_messaging"] = json!({"channels": ["radio", "WhatsApp"], "languages": ["es"], "audiences": ["youth"],
        "reach": [{"period": "2024-Q1", "country": "HN", "department": "HN-CR", "people_reached": 2000000}]});
    let mut d = base(org, "diplomacy");
    d["diplomacy"] = json!({"counterpart": "Ministerio de Relaciones Exteriores", "counterpart_kind": "government",
        "ask": "expand asylum capacity", "history": [{"date": "2024-01-10", "status": "raised"}, {"date": "2024-03-01", "status": "committed"}]});
    let mut p = base(org, "immigration_initiatives");
    p["immigration_initiatives"] = json!({"programme": "Safe Mobility Office",
        "figures": [{"period": "FY2024", "country": "GT", "applications": 12000, "approvals": 3000, "arrivals": 1000}]});
    let mut f = base(org, "foreign_assistance");
    f["foreign_assistance"] = json!({"iati_identifier": "XM-TEST-LINKED-1"});
    vec![parse(m), parse(d), parse(p), parse(f)]
}

pub(super) fn organisation(s: &dyn Store, name: &str) -> i64 {
    let o = NewOrganisation::parse(name, None, None, None, Some("HN"), &[]).expect("organisation");
    s.create_organisation(&Actor::cli(), &o, NOW).expect("create organisation")
}

/// An organisation with one record of each instrument, the oldest approved: rows in the
/// intervention table (the copy test uses it).
pub fn fill_interventions(s: &dyn Store) {
    let a = organisation(s, "Filled A");
    for i in records(a) {
        s.create_intervention(&Actor::cli(), &i, NOW).expect("create");
    }
    let first = s.interventions(&InterventionFilter::default(), ReadScope::Everything).expect("list");
    let id = first.last().expect("one").id;
    for (from, to) in [(Workflow::Draft, Workflow::Submitted), (Workflow::Submitted, Workflow::Approved)] {
        s.move_intervention(&Actor::cli(), id, from, to, NOW).expect("move");
    }
}

#[test]
fn every_instrument_is_stored_and_read_back_whole() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "Alianza");
        let mut ids = Vec::new();
        for i in records(org) {
            let c = db.create_intervention(&Actor::cli(), &i, NOW).expect("create");
            let r = db.intervention(c.id, ReadScope::Everything).expect("read").expect("found");
            assert_eq!(r.intervention, i, "read back whole, markup kept as text");
            assert_eq!((r.workflow, r.version, r.organisation_id), (Workflow::Draft, 1, org));
            assert_eq!(r.organisation_name, "Alianza");
            if i.instrument == Instrument::ForeignAssistance {
                assert_eq!(c.warnings.len(), 1, "the linked activity is not imported yet");
                assert_eq!(c.warnings[0].field, "foreign_assistance.iati_identifier");
                assert_eq!(r.iati_linked, Some(false));
            } else {
                assert!(c.warnings.is_empty());
                assert_eq!(r.iati_linked, None);
            }
            ids.push(c.id);
        }
        let all = db.interventions(&InterventionFilter::default(), ReadScope::Everything).expect("list");
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), ids.iter().rev().copied().collect::<Vec<_>>());
        let events = db.audit_events(&AuditFilter { limit: 100, ..Default::default() }).expect("audit");
        for id in &ids {
            let e = events.iter().find(|e| e.record == format!("intervention:{id}")).expect("audited");
            assert_eq!((e.action.as_str(), e.actor.as_str()), ("intervention.create", "cli"));
            assert!(e.after.as_deref().is_some_and(|a| a.contains("\"workflow\":\"draft\"")));
        }
    });
}

#[test]
fn a_linked_iati_activity_counts_once_it_is_imported() {
    for_each_backend(|b| {
        let mut db = b.db();
        let org = organisation(&*db, "Agency");
        let fa = records(org).pop().expect("foreign assistance");
        let id = db.create_intervention(&Actor::cli(), &fa, NOW).expect("create").id;
        let dir = tempfile::tempdir().expect("dir");
        let file =
            write(dir.path(), "a.xml", activity_xml("XM-TEST-LINKED-1", &transaction("3", "2024-02-01", "1000")));
        let r = import(&mut *db, &[file]);
        assert_eq!(r.files_rejected, 0, "{}", dump(&r));
        let rec = db.intervention(id, ReadScope::Everything).expect("read").expect("found");
        assert_eq!(rec.iati_linked, Some(true));
        assert!(rec.intervention.money.is_empty(), "its money is the IATI activity's, not its own");
    });
}

#[test]
fn reads_follow_the_policy_scope_in_lists_and_single_reads() {
    for_each_backend(|b| {
        let db = b.db();
        let a = organisation(&*db, "A");
        let o = organisation(&*db, "B");
        let mut ids = Vec::new();
        for org in [a, o] {
            for i in records(org).into_iter().take(2) {
                ids.push(db.create_intervention(&Actor::cli(), &i, NOW).expect("create").id);
            }
        }
        // Publish the first of each organisation.
        for id in [ids[0], ids[2]] {
            for (from, to) in [
                (Workflow::Draft, Workflow::Submitted),
                (Workflow::Submitted, Workflow::Approved),
                (Workflow::Approved, Workflow::Published),
            ] {
                assert!(matches!(
                    db.move_intervention(&Actor::cli(), id, from, to, NOW).expect("move"),
                    Moved::Done(_)
                ));
            }
        }
        let seen = |scope: ReadScope| -> Vec<i64> {
            let mut v: Vec<i64> = db
                .interventions(&InterventionFilter::default(), scope)
                .expect("list")
                .into_iter()
                .map(|r| r.id)
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(seen(ReadScope::Everything), ids);
        assert_eq!(seen(ReadScope::PublishedOnly), [ids[0], ids[2]], "the public sees published records only");
        assert_eq!(seen(ReadScope::PublishedAndOwn(a)), [ids[0], ids[1], ids[2]], "its own drafts too");
        for scope in [
            ReadScope::Everything,
            ReadScope::PublishedOnly,
            ReadScope::PublishedAndOwn(a),
            ReadScope::PublishedAndOwn(o),
        ] {
            let listed = seen(scope);
            for id in &ids {
                let single = db.intervention(*id, scope).expect("read").is_some();
                assert_eq!(single, listed.contains(id), "{scope:?} {id}: a single read agrees with the list");
            }
        }
        let published = InterventionFilter { workflow: Some(Workflow::Published), ..Default::default() };
        assert_eq!(db.interventions(&published, ReadScope::Everything).expect("list").len(), 2);
        let of_b = InterventionFilter { organisation_id: Some(o), ..Default::default() };
        assert!(db.interventions(&of_b, ReadScope::Everything).expect("list").iter().all(|r| r.organisation_id == o));
        let dip = InterventionFilter { instrument: Some(Instrument::Diplomacy), ..Default::default() };
        assert_eq!(db.interventions(&dip, ReadScope::Everything).expect("list").len(), 2);
        let gt = InterventionFilter { country: senda_core::CountryCode::parse("GT").ok(), ..Default::default() };
        assert_eq!(db.interventions(&gt, ReadScope::Everything).expect("list").len(), 4);
        let sv = InterventionFilter { country: senda_core::CountryCode::parse("SV").ok(), ..Default::default() };
        assert!(db.interventions(&sv, ReadScope::Everything).expect("list").is_empty());
        let one = InterventionFilter { limit: 1, ..Default::default() };
        assert_eq!(db.interventions(&one, ReadScope::Everything).expect("list").len(), 1);
    });
}

#[test]
fn the_workflow_changes_once_and_conflicts_are_told() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "A");
        let i = records(org).remove(0);
        let id = db.create_intervention(&Actor::cli(), &i, NOW).expect("create").id;
        let Moved::Done(r) =
            db.move_intervention(&Actor::cli(), id, Workflow::Draft, Workflow::Submitted, NOW + 1).expect("move")
        else {
            panic!("moved")
        };
        assert_eq!((r.workflow, r.version), (Workflow::Submitted, 2));
        // A second change decided from the old state writes nothing.
        let again =
            db.move_intervention(&Actor::cli(), id, Workflow::Draft, Workflow::Submitted, NOW + 2).expect("move");
        assert_eq!(again, Moved::Conflict { workflow: Workflow::Submitted, version: 2 });
        assert_eq!(
            db.move_intervention(&Actor::cli(), 999_999, Workflow::Draft, Workflow::Submitted, NOW).expect("move"),
            Moved::NotFound
        );
        let events = db
            .audit_events(&AuditFilter { record: Some(format!("intervention:{id}")), limit: 10, ..Default::default() })
            .expect("audit");
        assert_eq!(
            events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["intervention.workflow", "intervention.create"]
        );
        assert!(events[0].before.as_deref().is_some_and(|v| v.contains("draft")));
        assert!(events[0].after.as_deref().is_some_and(|v| v.contains("submitted")));
    });
}

#[test]
fn an_unknown_organisation_is_refused_and_nothing_is_written() {
    for_each_backend(|b| {
        let db = b.db();
        let i = records(4242).remove(0);
        match db.create_intervention(&Actor::cli(), &i, NOW).expect_err("refused") {
            StoreError::Account { field, message } => {
                assert_eq!(field, "organisation");
                assert_eq!(message, Problem::UnknownOrganisation(4242).message(senda_core::intervention::Lang::En));
            }
            other => panic!("expected a refusal naming the field, got {other}"),
        }
        assert_eq!(rows_in(&*db, "intervention"), 0);
        assert_eq!(rows_in(&*db, "audit_event"), 0, "no audit event for a write that did not happen");
    });
}

/// The public's views follow `published_interventions_stamp`: a draft saved again leaves it
/// alone (the full stamp moves), publishing a record moves it (issue 18's editors benchmark:
/// partners saving drafts must not empty the public's caches).
#[test]
fn saving_a_draft_leaves_the_published_stamp_alone_and_publishing_moves_it() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "A");
        let mut recs = records(org);
        let draft = recs.remove(0);
        let published = recs.remove(0);
        let pid = db.create_intervention(&Actor::cli(), &published, NOW).expect("create").id;
        for (from, to) in [
            (Workflow::Draft, Workflow::Submitted),
            (Workflow::Submitted, Workflow::Approved),
            (Workflow::Approved, Workflow::Published),
        ] {
            db.move_intervention(&Actor::cli(), pid, from, to, NOW).expect("move");
        }
        let did = db.create_intervention(&Actor::cli(), &draft, NOW).expect("create").id;
        let (all, public) =
            (db.interventions_stamp().expect("stamp"), db.published_interventions_stamp().expect("stamp"));
        db.update_intervention(&Actor::cli(), did, 1, &draft, NOW + 5).expect("update");
        assert_ne!(db.interventions_stamp().expect("stamp"), all, "the full stamp moves with the draft");
        assert_eq!(db.published_interventions_stamp().expect("stamp"), public, "the public's does not");
        for (from, to) in [
            (Workflow::Draft, Workflow::Submitted),
            (Workflow::Submitted, Workflow::Approved),
            (Workflow::Approved, Workflow::Published),
        ] {
            db.move_intervention(&Actor::cli(), did, from, to, NOW + 6).expect("move");
        }
        assert_ne!(db.published_interventions_stamp().expect("stamp"), public, "publishing moves it");
    });
}

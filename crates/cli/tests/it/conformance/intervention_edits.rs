//! Editing interventions on every backend (issue 18, items 7 and 8): an edit saves only from
//! the version it started from (concurrent edits: exactly one wins, the other gets the
//! conflict with the current record), audited before and after; fields marked not for
//! publication are withheld from every read but a single read by someone who may edit the
//! record; a form's one-time token makes one record however often it is posted.

use super::*;
use senda_core::Strategy;
use senda_core::accounts::{NewOrganisation, ReadScope};
use senda_core::intervention::{Context, Intervention, Restricted, Sight, Workflow, parse_value};
use senda_store::OpenMode;
use senda_store::accounts::{Actor, AuditFilter};
use senda_store::interventions::{InterventionFilter, Updated};
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn parse(v: serde_json::Value) -> Intervention {
    let s = Strategy::builtin(STRATEGY).expect("strategy");
    let ctx = Context { strategies: vec![&s], admin1: senda_stats::countries::canonical_admin1 };
    parse_value(&v, &ctx).unwrap_or_else(|e| panic!("valid record: {e}"))
}

fn engagement(org: i64, ask: &str) -> Intervention {
    parse(json!({
        "organisation": org,
        "lines_of_effort": [{"line_of_effort": "LOE2", "reason": "asylum capacity"}],
        "instrument": "diplomacy",
        "title": {"en": "Asylum capacity in Guatemala"},
        "description": {"en": "Talks with the migration institute"},
        "countries": ["GT"],
        "start": "2024-01-01",
        "status": "active",
        "not_for_publication": ["diplomacy_ask", "diplomacy_notes"],
        "diplomacy": {"counterpart": "Instituto Guatemalteco de Migración", "counterpart_kind": "institution",
            "ask": ask, "history": [{"date": "2024-01-10", "status": "raised", "note": "agreed in private"}]}
    }))
}

fn organisation(s: &dyn Store, name: &str) -> i64 {
    let o = NewOrganisation::parse(name, None, None, None, Some("GT"), &[]).expect("organisation");
    s.create_organisation(&Actor::cli(), &o, NOW).expect("create organisation")
}

#[test]
fn two_concurrent_edits_one_wins_the_other_gets_the_conflict() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "Embassy");
        let id = db.create_intervention(&Actor::cli(), &engagement(org, "first ask"), NOW).expect("create").id;
        let url = db.url().to_owned();
        // Two editors, each on its own connection, both starting from version 1, released at once.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = ["ask of editor one", "ask of editor two"]
            .into_iter()
            .map(|ask| {
                let (url, barrier) = (url.clone(), barrier.clone());
                let edit = engagement(org, ask);
                std::thread::spawn(move || {
                    let store = senda_store::open(&url, OpenMode::Existing).expect("open");
                    barrier.wait();
                    store.update_intervention(&Actor::cli(), id, 1, &edit, NOW + 1).expect("update")
                })
            })
            .collect();
        let outcomes: Vec<Updated> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
        let done: Vec<_> =
            outcomes.iter().filter_map(|o| if let Updated::Done(r, _) = o { Some(r) } else { None }).collect();
        let conflicts: Vec<_> =
            outcomes.iter().filter_map(|o| if let Updated::Conflict(r) = o { Some(r) } else { None }).collect();
        assert_eq!((done.len(), conflicts.len()), (1, 1), "exactly one wins: {outcomes:?}");
        assert_eq!(done[0].version, 2);
        assert_eq!(conflicts[0].version, 2, "the conflict carries the current version");
        assert_eq!(conflicts[0].intervention, done[0].intervention, "and the current record, whole");
        let now = db.intervention_seen(id, ReadScope::Everything, Sight::All).expect("read").expect("found");
        assert_eq!(now.intervention, done[0].intervention, "the winner's edit is stored, not a mix");

        // Audited before and after, in the same transaction as the edit.
        let events = db.audit_events(&AuditFilter { limit: 100, ..Default::default() }).expect("audit");
        let updates: Vec<_> = events.iter().filter(|e| e.action == "intervention.update").collect();
        assert_eq!(updates.len(), 1, "the losing edit wrote nothing");
        assert!(updates[0].before.as_deref().is_some_and(|t| t.contains("first ask") && t.contains("\"version\":1")));
        assert!(updates[0].after.as_deref().is_some_and(|t| t.contains("\"version\":2")));

        // A stale version is refused however late; an unknown record is NotFound.
        let stale = db.update_intervention(&Actor::cli(), id, 1, &engagement(org, "late"), NOW + 2).expect("update");
        assert!(matches!(stale, Updated::Conflict(ref r) if r.version == 2), "{stale:?}");
        let gone = db.update_intervention(&Actor::cli(), id + 99, 1, &engagement(org, "x"), NOW).expect("update");
        assert_eq!(gone, Updated::NotFound);
        // A workflow change moves the version too: an edit from before it conflicts.
        db.move_intervention(&Actor::cli(), id, Workflow::Draft, Workflow::Submitted, NOW + 3).expect("move");
        let after_move = db.update_intervention(&Actor::cli(), id, 2, &engagement(org, "y"), NOW + 4).expect("update");
        assert!(matches!(after_move, Updated::Conflict(ref r) if r.version == 3 && r.workflow == Workflow::Submitted));
        let ok = db.update_intervention(&Actor::cli(), id, 3, &engagement(org, "z"), NOW + 5).expect("update");
        assert!(matches!(ok, Updated::Done(ref r, _) if r.version == 4 && r.workflow == Workflow::Submitted), "{ok:?}");
    });
}

#[test]
fn fields_not_for_publication_never_leave_the_store_but_to_who_may_edit() {
    for_each_backend(|b| {
        let db = b.db();
        let (a, other) = (organisation(&*db, "Embassy"), organisation(&*db, "Other partner"));
        let id = db
            .create_intervention(&Actor::cli(), &engagement(a, "double the asylum officers"), NOW)
            .expect("create")
            .id;
        for (from, to) in [
            (Workflow::Draft, Workflow::Submitted),
            (Workflow::Submitted, Workflow::Approved),
            (Workflow::Approved, Workflow::Published),
        ] {
            db.move_intervention(&Actor::cli(), id, from, to, NOW).expect("move");
        }
        let secret = |r: &senda_store::interventions::InterventionRecord| {
            let text = serde_json::to_string(r).expect("json");
            text.contains("asylum officers") || text.contains("in private")
        };
        // Lists (what pages, CSV and reports read) never carry them, whoever reads.
        for scope in [ReadScope::Everything, ReadScope::PublishedOnly, ReadScope::PublishedAndOwn(a)] {
            let all = db.interventions(&InterventionFilter::default(), scope).expect("list");
            assert_eq!(all.len(), 1);
            assert!(!secret(&all[0]), "{scope:?}");
            assert_eq!(all[0].withheld, [Restricted::DiplomacyAsk, Restricted::DiplomacyNotes]);
            assert!(all[0].intervention.description.en.is_some(), "an unmarked field is shown");
        }
        // A single read shows them to the owner's editors and coordinators only.
        for (sight, shown) in
            [(Sight::Nothing, false), (Sight::Own(other), false), (Sight::Own(a), true), (Sight::All, true)]
        {
            let r = db.intervention_seen(id, ReadScope::PublishedOnly, sight).expect("read").expect("published");
            assert_eq!(secret(&r), shown, "{sight:?}");
            assert_eq!(r.withheld.is_empty(), shown, "{sight:?}");
        }
    });
}

#[test]
fn a_form_token_makes_one_record_however_often_it_is_posted() {
    for_each_backend(|b| {
        let db = b.db();
        let org = organisation(&*db, "Embassy");
        let i = engagement(org, "ask");
        let first = db.create_intervention_once(&Actor::cli(), &i, "token-1", NOW).expect("create");
        assert!(!first.replayed);
        let again = db.create_intervention_once(&Actor::cli(), &i, "token-1", NOW + 1).expect("again");
        assert_eq!((again.id, again.replayed), (first.id, true));
        let other = db.create_intervention_once(&Actor::cli(), &i, "token-2", NOW + 2).expect("another form");
        assert_ne!(other.id, first.id);
        assert_eq!(db.interventions(&InterventionFilter::default(), ReadScope::Everything).expect("list").len(), 2);
    });
}

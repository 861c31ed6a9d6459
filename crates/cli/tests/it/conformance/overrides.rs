//! Analysts' overrides and re-mapping, on every backend: an override and its history survive
//! re-imports and the activity's removal; stale mappings are recomputed.

use super::*;
use crate::support::*;
use senda_store::{Override, StoreError};

fn set(s: &mut dyn Store, id: &str, lines: &[&str], note: &str, at: &str) {
    s.set_override(
        &senda_store::accounts::Actor::cli(),
        &Override {
            iati_identifier: id.into(),
            strategy: STRATEGY.into(),
            lines_of_effort: lines.iter().map(|l| (*l).to_owned()).collect(),
            note: note.into(),
            created_at: at.into(),
        },
        1,
    )
    .unwrap_or_else(|e| panic!("set override on {id}: {e}"));
}

/// The history of `id` as (action, lines, note, at).
fn history(s: &dyn Store, id: &str) -> Vec<(String, String, String, String)> {
    s.activity(id, STRATEGY)
        .expect("activity")
        .override_log
        .into_iter()
        .map(|e| (e.action, e.lines_of_effort.join(";"), e.note, e.at))
        .collect()
}

fn lines_of(s: &dyn Store, id: &str) -> (String, bool) {
    let rows = s.list_activities(&all()).expect("list");
    let r = rows.iter().find(|r| r.iati_identifier == id).unwrap_or_else(|| panic!("{id} listed"));
    (r.lines_of_effort.clone(), r.overridden)
}

/// Two activities: a returnee programme the rules map to LOE5, and a coffee programme they
/// do not map.
fn portfolio(coffee_title: &str) -> String {
    doc(
        "2.03",
        &(rich("XM-OV-RET", "1000")
            + &activity(
                "XM-OV-COFFEE",
                &format!(
                    "  <title><narrative>{coffee_title}</narrative></title>\n  <recipient-country code=\"GT\" percentage=\"100\"/>\n{}",
                    transaction("3", "2022-09-30", "500")
                ),
            )),
    )
}

#[test]
fn overrides_and_their_history_survive_reimports_and_the_activitys_removal() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(dir.path(), "p.xml", portfolio("Coffee value chain competitiveness"));
        import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(lines_of(&*db, "XM-OV-RET"), ("LOE5".into(), false));
        assert_eq!(lines_of(&*db, "XM-OV-COFFEE"), (String::new(), false));

        // An override on an identifier that is not stored is refused, and records nothing.
        let e = db
            .set_override(
                &senda_store::accounts::Actor::cli(),
                &Override {
                    iati_identifier: "XM-OV-NONE".into(),
                    strategy: STRATEGY.into(),
                    lines_of_effort: vec!["LOE1".into()],
                    note: "n".into(),
                    created_at: "2025-01-01T00:00:00Z".into(),
                },
                1,
            )
            .expect_err("no such activity");
        assert!(matches!(e, StoreError::NotFound(ref id) if id == "XM-OV-NONE"), "{e}");
        assert_eq!(rows_in(&*db, "mapping_override_log"), 0);
        // Removing an override that is not there records nothing.
        assert!(
            !db.remove_override(
                &senda_store::accounts::Actor::cli(),
                "XM-OV-RET",
                STRATEGY,
                "nothing",
                "2025-01-01T00:00:00Z",
                1
            )
            .expect("remove")
        );
        assert_eq!(rows_in(&*db, "mapping_override_log"), 0);

        set(&mut *db, "XM-OV-COFFEE", &["LOE4"], "pickers recruited under H-2A", "2025-01-01T10:00:00Z");
        set(&mut *db, "XM-OV-RET", &["LOE5", "LOE6"], "first reading", "2025-01-01T11:00:00Z");
        set(&mut *db, "XM-OV-RET", &[], "second reading: not mapped", "2025-01-02T09:00:00Z");
        assert_eq!(lines_of(&*db, "XM-OV-COFFEE"), ("LOE4".into(), true));
        assert_eq!(lines_of(&*db, "XM-OV-RET"), (String::new(), true));
        let rep = report_of(&*db, vec![Dimension::LineOfEffort]);
        assert_eq!(row(&rep, "LOE4").usd.disbursements, dec("500"), "the override decides the report");

        // Re-read unchanged (forced), then changed: the overrides and the history stay.
        let expected_history = vec![
            ("set".into(), "LOE5;LOE6".into(), "first reading".into(), "2025-01-01T11:00:00Z".into()),
            ("set".into(), String::new(), "second reading: not mapped".into(), "2025-01-02T09:00:00Z".into()),
        ];
        import_force(&mut *db, std::slice::from_ref(&f));
        write(dir.path(), "p.xml", portfolio("Coffee value chains"));
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(r.updated, 1, "{}", dump(&r));
        assert_eq!(lines_of(&*db, "XM-OV-COFFEE"), ("LOE4".into(), true));
        assert_eq!(history(&*db, "XM-OV-RET"), expected_history);
        let detail = db.activity("XM-OV-COFFEE", STRATEGY).expect("coffee");
        let o = detail.override_.expect("override kept");
        assert_eq!((o.lines_of_effort, o.note.as_str()), (vec!["LOE4".to_owned()], "pickers recruited under H-2A"));
        assert!(detail.rule_lines.is_empty(), "the rules' own result is kept apart");

        // The publisher drops the activity, then publishes it again: the override is kept by
        // identifier, and applies again.
        write(dir.path(), "p.xml", doc("2.03", &rich("XM-OV-RET", "1000")));
        import(&mut *db, std::slice::from_ref(&f));
        assert!(!exists(&*db, "XM-OV-COFFEE"));
        write(dir.path(), "p.xml", portfolio("Coffee value chains"));
        import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(lines_of(&*db, "XM-OV-COFFEE"), ("LOE4".into(), true));
        assert_eq!(history(&*db, "XM-OV-COFFEE").len(), 1);

        // Removed: the rules decide again; the history keeps every decision, oldest first.
        assert!(
            db.remove_override(
                &senda_store::accounts::Actor::cli(),
                "XM-OV-RET",
                STRATEGY,
                "back to the rules",
                "2025-01-03T08:00:00Z",
                1
            )
            .expect("remove")
        );
        assert_eq!(lines_of(&*db, "XM-OV-RET"), ("LOE5".into(), false));
        let mut h = expected_history.clone();
        h.push(("unset".into(), String::new(), "back to the rules".into(), "2025-01-03T08:00:00Z".into()));
        assert_eq!(history(&*db, "XM-OV-RET"), h);
        import_force(&mut *db, std::slice::from_ref(&f));
        assert_eq!(history(&*db, "XM-OV-RET"), h, "a re-import keeps the history");
        // The history is per strategy.
        assert!(db.activity("XM-OV-RET", "rc-2021").expect("rc").override_log.is_empty());
        assert_eq!(rows_in(&*db, "mapping_override"), 1);
        assert_eq!(rows_in(&*db, "mapping_override_log"), 4);
    });
}

/// Moved from `commands.rs`: stored mappings made with another version of a strategy
/// definition are recomputed.
#[test]
fn stale_mappings_are_recomputed_when_a_strategy_definition_changes() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(dir.path(), "p.xml", portfolio("Coffee value chain competitiveness"));
        import(&mut *db, &[f]);
        senda::commands::ensure_mappings(&mut *db).expect("fingerprints recorded");
        let g0 = db.generation().expect("generation");
        // Pretend the stored mappings came from another version of the definition.
        let n = db
            .remap(STRATEGY, "stale-fingerprint", &|_| senda_core::mapping::Mapping {
                lines_of_effort: vec!["LOE7".into()],
                evidence: vec![],
                near_misses: vec![],
            })
            .expect("remap");
        assert_eq!(n, 2);
        assert!(db.generation().expect("generation") > g0, "re-mapping moves the data generation");
        assert_eq!(db.strategy_fingerprint(STRATEGY).expect("fp").as_deref(), Some("stale-fingerprint"));
        let infos = db.activity_infos(STRATEGY).expect("infos");
        assert!(infos.values().all(|i| i.lines_of_effort == ["LOE7"]));
        senda::commands::ensure_mappings(&mut *db).expect("re-map");
        assert_eq!(lines_of(&*db, "XM-OV-RET"), ("LOE5".into(), false));
        assert_eq!(lines_of(&*db, "XM-OV-COFFEE"), (String::new(), false));
        let detail = db.activity("XM-OV-RET", STRATEGY).expect("detail");
        assert!(!detail.evidence.is_empty(), "the evidence is made again with the mapping");
    });
}

/// Each decision is audited in its own transaction (issue 17: no write without its audit
/// event): the set and the unset with the override before and after; an override on an unknown
/// activity is refused and leaves no event.
#[test]
fn an_override_and_its_audit_event_are_one_write() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        import(&mut *db, &[write(dir.path(), "a.xml", portfolio("Coffee rust"))]);
        let events = |db: &dyn Store| {
            let f = senda_store::accounts::AuditFilter {
                record: Some("activity:XM-OV-RET".into()),
                limit: 10,
                ..Default::default()
            };
            db.audit_events(&f).expect("audit").into_iter().map(|e| (e.action, e.before, e.after)).collect::<Vec<_>>()
        };
        let unknown = Override {
            iati_identifier: "XM-NOWHERE".into(),
            strategy: STRATEGY.into(),
            lines_of_effort: vec!["LOE2".into()],
            note: "n".into(),
            created_at: "2025-01-01T00:00:00Z".into(),
        };
        let e = db.set_override(&senda_store::accounts::Actor::cli(), &unknown, 1).expect_err("unknown activity");
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
        let all_events = db.audit_events(&senda_store::accounts::AuditFilter { limit: 100, ..Default::default() });
        assert!(
            all_events.expect("audit").iter().all(|e| !e.record.contains("XM-NOWHERE")),
            "a refused override leaves no event"
        );

        set(&mut *db, "XM-OV-RET", &["LOE2"], "first", "2025-01-01T00:00:00Z");
        set(&mut *db, "XM-OV-RET", &[], "second", "2025-01-02T00:00:00Z");
        assert!(
            db.remove_override(
                &senda_store::accounts::Actor::cli(),
                "XM-OV-RET",
                STRATEGY,
                "back",
                "2025-01-03T00:00:00Z",
                2
            )
            .expect("remove")
        );
        let ev = events(&*db);
        let actions: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(actions, ["mapping_override.unset", "mapping_override.set", "mapping_override.set"], "{ev:?}");
        // Newest first: the unset's before is the second decision; the second set's before is
        // the first; the first set had none.
        assert!(ev[0].1.as_deref().is_some_and(|b| b.contains("second")) && ev[0].2.is_none(), "{ev:?}");
        assert!(ev[1].1.as_deref().is_some_and(|b| b.contains("first")), "{ev:?}");
        assert!(ev[2].1.is_none() && ev[2].2.as_deref().is_some_and(|a| a.contains("LOE2")), "{ev:?}");
    });
}

//! `senda_store::copy_database` (what `senda copy` runs) between every pair of backends:
//! SQLite to PostgreSQL and back gives the same database (every table, every report); a
//! non-empty target is refused with nothing written, and replaced with `replace`.

use super::*;
use crate::support::*;
use senda::values::{Dataset, import_values};
use senda_store::{Override, StoreError};

/// A source database with a row in every table: synthetic activities (with locations and
/// results), duplicates, a rejected file (diagnostics), an override and its history,
/// statistics and results values (definitions).
fn fill(db: &mut Db, dir: &Path) {
    let file = dir.join("synthetic.xml");
    senda::generate::write_file(&file, 120, None, 7).expect("generate");
    let broken = write(dir, "broken.xml", "<iati-activities><iati-activity>");
    let r = import(&mut **db, &[file, fixture("duplicates.xml"), fixture("duplicates_other.xml"), broken]);
    assert_eq!(r.files_rejected, 1, "{}", dump(&r));
    senda::commands::ensure_mappings(&mut **db).expect("mappings");
    let id = db.list_activities(&all()).expect("list")[0].iati_identifier.clone();
    db.set_override(
        &senda_store::accounts::Actor::cli(),
        &Override {
            iati_identifier: id.clone(),
            strategy: STRATEGY.into(),
            lines_of_effort: vec!["LOE2".into()],
            note: "copied too".into(),
            created_at: "2025-01-01T00:00:00Z".into(),
        },
        1,
    )
    .expect("override");
    db.remove_override(
        &senda_store::accounts::Actor::cli(),
        &id,
        STRATEGY,
        "and its history",
        "2025-01-02T00:00:00Z",
        1,
    )
    .expect("unset");
    db.set_override(
        &senda_store::accounts::Actor::cli(),
        &Override {
            iati_identifier: id,
            strategy: STRATEGY.into(),
            lines_of_effort: vec![],
            note: "not mapped after all".into(),
            created_at: "2025-01-03T00:00:00Z".into(),
        },
        1,
    )
    .expect("override");
    let stats = dir.join("stats.csv");
    let results = dir.join("results.csv");
    let st = senda_core::Strategy::builtin(STRATEGY).expect("strategy");
    senda::generate::write_demo_stats(&stats, 7).expect("stats");
    senda::generate::write_demo_results(&results, &st, 7).expect("results");
    import_values(&mut **db, &[stats], &Dataset::Stats).expect("stats import");
    import_values(&mut **db, &[results], &Dataset::Results(&st)).expect("results import");
    super::accounts::fill_accounts(&**db);
    super::interventions::fill_interventions(&**db);
    super::contributions::fill_contributions(&**db);
    super::entered_reports::fill_requirements(&**db);
    super::reporting::fill_reporting(&**db);
    for (table, n) in counts(&**db) {
        assert!(n > 0, "the source has rows in {table}");
    }
}

/// Copies `from` into `to` and checks the proof and the result.
fn copy_and_check(from: &Db, to: &mut Db, what: &str) {
    let g_before = to.generation().expect("generation");
    let report = senda_store::copy_database(&**from, &mut **to, false).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(report.ok(), "{what}: {report:?}");
    assert_eq!(report.tables.len(), senda_store::tables::TABLES.len());
    assert_eq!(report.reports_equal.len(), 2, "both built-in strategies compared");
    assert_eq!(counts(&**from), counts(&**to), "{what}: rows per table");
    assert_same_database(&snapshot(&**from), &snapshot(&**to), what);
    assert_eq!(list(&**from, &all()), list(&**to, &all()), "{what}: the activity list");
    for dims in groupings() {
        assert_eq!(report_text(&**from, dims.clone()), report_text(&**to, dims.clone()), "{what}: report {dims:?}");
    }
    let g = to.generation().expect("generation");
    assert!(g > g_before && g > from.generation().expect("generation"), "{what}: the generation moves past both");
}

#[test]
fn a_copy_to_every_backend_and_back_is_the_same_database() {
    let dir = data_dir();
    let bs = backends();
    let sqlite = &bs[0];
    let mut source = sqlite.db();
    fill(&mut source, dir.path());
    for b in &bs {
        let mut there = b.db();
        copy_and_check(&source, &mut there, &format!("sqlite to {b}"));
        // And back to a fresh SQLite database.
        let mut back = sqlite.db();
        copy_and_check(&there, &mut back, &format!("{b} back to sqlite"));
        assert_same_database(&snapshot(&*source), &snapshot(&*back), &format!("sqlite to {b} and back"));
        // The copy is a working database: the files it was made from are known and unchanged,
        // and a new file imports by the same rules.
        let again = import(&mut *there, &[fixture("duplicates.xml"), fixture("duplicates_other.xml")]);
        assert_eq!((again.created, again.updated, again.files_unchanged), (0, 0, 2), "{b}: {}", dump(&again));
        let r = import(&mut *there, &[fixture("good.xml")]);
        assert_eq!(r.created, 2, "{b}: {}", dump(&r));
        assert_eq!(title(&*there, "XM-TEST-GOOD-1"), "Good activity one");
    }
}

#[test]
fn a_non_empty_target_is_refused_with_nothing_written_unless_replace() {
    let dir = data_dir();
    let bs = backends();
    let mut source = bs[0].db();
    fill(&mut source, dir.path());
    for_each_backend(|b| {
        let mut target = b.db();
        let r = import(&mut *target, &[fixture("good.xml")]);
        assert_eq!(r.created, 2);
        let before = snapshot(&*target);
        let g = target.generation().expect("generation");
        match senda_store::copy_database(&*source, &mut *target, false) {
            Err(StoreError::NotEmpty { target: t, activities, rows }) => {
                assert_eq!(activities, 2);
                assert!(rows > 2, "{rows}");
                assert_eq!(t, target.location());
                assert!(!t.contains("://") && !t.contains('@'), "no URL, no user or password: {t}");
            }
            other => panic!("a non-empty target must be refused: {:?}", other.map(|r| r.ok())),
        }
        assert_same_database(&before, &snapshot(&*target), "after a refused copy");
        assert_eq!(target.generation().expect("generation"), g, "nothing written");
        // With replace: the target becomes the copy.
        let report = senda_store::copy_database(&*source, &mut *target, true).expect("copy with replace");
        assert!(report.ok(), "{report:?}");
        assert!(!exists(&*target, "XM-TEST-GOOD-1"), "what was there is gone");
        assert_same_database(&snapshot(&*source), &snapshot(&*target), "after a copy with replace");
        assert!(target.generation().expect("generation") > g);
    });
}

//! Importing IATI files, on every backend: a file is atomic; a second import changes nothing;
//! the duplicate rule (latest last-updated-datetime, then path, then position); the database
//! does not depend on the order of the files; a run's totals are the database's real change.

use super::*;
use crate::support::*;
use senda::import::{FileStatus, ImportReport};
use senda_core::Severity;
use std::path::PathBuf;

/// The file report of `path`.
fn status_of(r: &ImportReport, p: &Path) -> Option<FileStatus> {
    r.file_reports.iter().find(|f| Path::new(&f.path) == p).map(|f| f.status.clone())
}

/// Checks that `path` was rejected with one fatal `code` diagnostic and stored nothing.
fn assert_rejected(r: &ImportReport, path: &Path, code: &str) {
    let fr = r.file_reports.iter().find(|f| Path::new(&f.path) == path).expect("file report");
    assert_eq!(fr.status, FileStatus::Rejected, "{}: {}", path.display(), dump(r));
    assert_eq!(fr.created + fr.updated + fr.unchanged + fr.transactions, 0, "a rejected file stores nothing: {fr:?}");
    let fatal: Vec<_> =
        r.diagnostics.iter().filter(|d| Path::new(&d.file) == path && d.severity == Severity::Fatal).collect();
    assert_eq!(fatal.len(), 1, "{}", dump(r));
    assert_eq!(fatal[0].code, code, "{}", fatal[0]);
}

/// The snapshot without the run records (which every run adds to).
fn data_snapshot(s: &dyn Store) -> Snapshot {
    let mut snap = snapshot(s);
    snap.remove("import_run");
    snap.remove("diagnostic");
    snap
}

// 1. A file is atomic.

/// Moved from `bad_input.rs` (16. Atomicity).
#[test]
fn a_file_broken_in_its_third_activity_leaves_nothing_and_counts_tell_the_truth() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let act = |id: &str, t: &str| {
            activity(
                id,
                &format!("  <title><narrative>{t}</narrative></title>\n{}", transaction("3", "2023-01-01", "10")),
            )
        };
        let broken = |v: &str| {
            doc(
                "2.03",
                &format!(
                    "{}{}{}",
                    act("XM-TEST-ATOM-1", v),
                    act("XM-TEST-ATOM-2", v),
                    act("XM-TEST-ATOM-3", v).replace("</narrative></title>", "</narrative></title></title>")
                ),
            )
        };

        // A fresh database: nothing of the broken file; the good file's activities are the change.
        let f = write(dir.path(), "atom.xml", broken("first"));
        let r = import(&mut *db, &[f.clone(), fixture("good.xml")]);
        assert_rejected(&r, &f, "not-well-formed");
        assert_eq!(count(&*db), 2);
        assert_eq!(r.created + r.updated, 2, "{r:?}");
        assert_eq!(r.transactions, 3, "only good.xml's transactions");
        for id in ["XM-TEST-ATOM-1", "XM-TEST-ATOM-2", "XM-TEST-ATOM-3"] {
            assert!(!exists(&*db, id), "{id}");
        }
        assert!(db.file_state(&f.display().to_string()).expect("file state").is_none(), "the file is not recorded");

        // A good version, then a broken edit of it: the good version stays whole, and the
        // database is exactly as before the broken run.
        let good_version = doc(
            "2.03",
            &format!("{}{}{}", act("XM-TEST-ATOM-1", "v1"), act("XM-TEST-ATOM-2", "v1"), act("XM-TEST-ATOM-3", "v1")),
        );
        write(dir.path(), "atom.xml", good_version);
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(r.created, 3, "{}", dump(&r));
        let before = data_snapshot(&*db);
        let state = db.file_state(&f.display().to_string()).expect("file state");
        write(dir.path(), "atom.xml", broken("v2"));
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_rejected(&r, &f, "not-well-formed");
        assert_eq!((r.created, r.updated, r.unchanged, r.removed, r.transactions), (0, 0, 0, 0, 0), "{r:?}");
        for id in ["XM-TEST-ATOM-1", "XM-TEST-ATOM-2", "XM-TEST-ATOM-3"] {
            assert_eq!(title(&*db, id), "v1", "{id} keeps its last good version");
        }
        assert_same_database(&before, &data_snapshot(&*db), "after a rejected re-import");
        assert_eq!(db.file_state(&f.display().to_string()).expect("file state"), state);
        assert_eq!(by_country(&*db).total.usd.disbursements, dec("3530.50"), "good.xml 3500.50 + 3 x 10");
    });
}

/// Moved from `reimport.rs`.
#[test]
fn a_bad_file_in_the_middle_of_a_commit_batch_is_rolled_back_alone() {
    // Files are committed in batches; a rejected file must not take the files before or after
    // it in the same batch with it, and must leave nothing of its own.
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(dir.path(), "a.xml", doc("2.03", &rich("XM-B-1", "10")));
        // Well-formed until the second activity: its first activity reaches the store before
        // the error is found.
        let b_xml = write(
            dir.path(),
            "b.xml",
            format!("{}<iati-activity><iati-identifier>XM-B-3</iati-identifier><title></iati-activity>", {
                let d = doc("2.03", &rich("XM-B-2", "20"));
                d.trim_end().trim_end_matches("</iati-activities>").to_owned()
            }),
        );
        let c = write(dir.path(), "c.xml", doc("2.03", &rich("XM-B-4", "40")));
        let r = import(&mut *db, &[a.clone(), b_xml.clone(), c.clone()]);
        assert_eq!(status_of(&r, &a), Some(FileStatus::Imported), "{}", dump(&r));
        assert_eq!(status_of(&r, &b_xml), Some(FileStatus::Rejected), "{}", dump(&r));
        assert_eq!(status_of(&r, &c), Some(FileStatus::Imported), "{}", dump(&r));
        assert!(exists(&*db, "XM-B-1") && exists(&*db, "XM-B-4"));
        assert!(!exists(&*db, "XM-B-2"), "nothing of the rejected file is stored");
        assert_eq!(count(&*db), 2);
        // Rows of exactly two activities in every per-activity table.
        for t in ["activity_doc", "fact", "activity_mapping", "activity_location", "activity_result"] {
            assert_eq!(rows_in(&*db, t), 2, "{t}");
        }
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("50"));
        // The rejected file is read again next time (it is not recorded as imported).
        let again = import(&mut *db, &[a, b_xml.clone(), c]);
        assert_eq!(status_of(&again, &b_xml), Some(FileStatus::Rejected));
        assert_eq!(again.files_unchanged, 2, "{}", dump(&again));
    });
}

// 2. Idempotence.

/// Moved from `bad_input.rs` (15. Idempotency and duplicate identifiers).
#[test]
fn importing_twice_changes_nothing_and_duplicates_resolve_the_same_in_any_order() {
    for_each_backend(|b| {
        let mut db = b.db();
        let files = vec![fixture("good.xml"), fixture("duplicates.xml"), fixture("duplicates_other.xml")];
        let r1 = import(&mut *db, &files);
        assert_eq!(r1.files_imported, 3, "{}", dump(&r1));
        let n = count(&*db);
        assert_eq!(n, 5, "2 good + A, B, C");
        assert_eq!(r1.created, n, "created equals the real change");
        let expected = vec![
            ("XM-TEST-DUP-A".to_owned(), "A newer".to_owned()),
            ("XM-TEST-DUP-B".to_owned(), "B newer".to_owned()),
            ("XM-TEST-DUP-C".to_owned(), "C second".to_owned()),
            ("XM-TEST-GOOD-1".to_owned(), "Good activity one".to_owned()),
            ("XM-TEST-GOOD-2".to_owned(), "Good activity two".to_owned()),
        ];
        assert_eq!(ids_and_titles(&*db), expected);
        for id in ["XM-TEST-DUP-A", "XM-TEST-DUP-B", "XM-TEST-DUP-C"] {
            let w: Vec<_> = diags(&r1, "duplicate-identifier")
                .into_iter()
                .filter(|d| d.identifier.as_deref() == Some(id))
                .collect();
            assert!(!w.is_empty(), "a duplicate-identifier warning for {id}:\n{}", dump(&r1));
            assert!(w.iter().all(|d| d.severity == Severity::Warning));
            assert!(w.iter().all(|d| d.line > 0 && d.column > 0), "positioned at the activity: {w:?}");
        }
        assert!(
            diags(&r1, "duplicate-identifier").iter().any(|d| Path::new(&d.file) == fixture("duplicates_other.xml")),
            "the losing copy in the other file is reported"
        );
        let first = data_snapshot(&*db);
        let generation = db.generation().expect("generation");

        // Same files again: nothing changes.
        let r2 = import(&mut *db, &files);
        assert_eq!((r2.created, r2.updated, r2.removed, r2.files_rejected), (0, 0, 0, 0), "{r2:?}");
        assert_eq!((r2.files_unchanged, r2.transactions), (3, 0), "{r2:?}");
        assert_same_database(&first, &data_snapshot(&*db), "after a second import");

        // Forced re-read: still nothing changes, not even the data generation.
        let r3 = import_force(&mut *db, &files);
        assert_eq!((r3.created, r3.updated, r3.removed, r3.transactions), (0, 0, 0, 0), "{r3:?}");
        assert_eq!(r3.unchanged, n);
        assert_same_database(&first, &data_snapshot(&*db), "after import --force");
        assert_eq!(db.generation().expect("generation"), generation, "caches stay valid");

        // Paths in reverse order, fresh database: the same database.
        let mut fresh = b.db();
        let reversed: Vec<PathBuf> = files.iter().rev().cloned().collect();
        let r4 = import(&mut *fresh, &reversed);
        assert_eq!(r4.created, n);
        assert_eq!(ids_and_titles(&*fresh), expected);
        assert_eq!(diags(&r4, "duplicate-identifier").len(), diags(&r1, "duplicate-identifier").len());
        assert_same_database(&first, &data_snapshot(&*fresh), "reverse order");
    });
}

/// Moved from `reimport.rs` (bad-input trial finding 11): a forced re-import that changes
/// nothing keeps the dashboard's caches (the data generation); a changed activity moves it.
#[test]
fn a_forced_reimport_that_changes_nothing_keeps_the_data_generation() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-GEN-1", "100") + &rich("XM-GEN-2", "5"))));
        import(&mut *db, std::slice::from_ref(&f));
        let g0 = db.generation().expect("generation");
        let r = import_force(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r.files_imported, r.unchanged), (1, 2), "{}", dump(&r));
        assert_eq!(db.generation().expect("generation"), g0, "nothing changed: caches stay valid");
        write(dir.path(), "a.xml", doc("2.03", &(rich("XM-GEN-1", "100") + &rich("XM-GEN-2", "6"))));
        import(&mut *db, std::slice::from_ref(&f));
        assert!(db.generation().expect("generation") > g0, "a changed activity moves it");
    });
}

/// Moved from `bad_input.rs` (15b).
#[test]
fn first_import_of_in_file_duplicates_counts_each_activity_once() {
    for_each_backend(|b| {
        let mut db = b.db();
        let r = import(&mut *db, &[fixture("duplicates.xml")]);
        assert_eq!(count(&*db), 3);
        assert_eq!(
            (r.created, r.updated, r.unchanged, r.superseded),
            (3, 0, 0, 3),
            "fresh database: 3 activities created, 3 copies superseded"
        );
    });
}

// 3. The duplicate rule.

/// The copy with the latest last-updated-datetime wins; on equal dates the later path; in one
/// file, the later position. The warnings name the copy that won, whatever the order of the
/// paths given.
#[test]
fn the_duplicate_rule_is_latest_date_then_path_then_position() {
    for_each_backend(|b| {
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        // X: newer in a.xml (2024 vs 2023 in b.xml). Y: same date in both, b.xml is the later
        // path. Z: twice in a.xml with the same date, the second copy wins. W: the later copy
        // in b.xml is given as +02:00, an instant before a.xml's 23:00Z copy of the day before.
        let x_a = dated_copy("2024-05-01T00:00:00Z", "X in a", "1").replace("XM-DUP", "XM-R-X");
        let x_b = dated_copy("2023-05-01T00:00:00Z", "X in b", "2").replace("XM-DUP", "XM-R-X");
        let y_a = dated_copy("2024-01-01T00:00:00Z", "Y in a", "4").replace("XM-DUP", "XM-R-Y");
        let y_b = dated_copy("2024-01-01T00:00:00Z", "Y in b", "8").replace("XM-DUP", "XM-R-Y");
        let z_1 = dated_copy("2024-01-01T00:00:00Z", "Z first", "16").replace("XM-DUP", "XM-R-Z");
        let z_2 = dated_copy("2024-01-01T00:00:00Z", "Z second", "32").replace("XM-DUP", "XM-R-Z");
        let w_a = dated_copy("2024-03-01T23:30:00Z", "W in a", "64").replace("XM-DUP", "XM-R-W");
        let w_b = dated_copy("2024-03-02T01:00:00+02:00", "W in b", "128").replace("XM-DUP", "XM-R-W");
        let a = write(&data, "a.xml", doc("2.03", &(x_a + &y_a + &z_1 + &z_2 + &w_a)));
        let b_xml = write(&data, "b.xml", doc("2.03", &(x_b + &y_b + &w_b)));
        let expected = [
            ("XM-R-W".to_owned(), "W in a".to_owned()),
            ("XM-R-X".to_owned(), "X in a".to_owned()),
            ("XM-R-Y".to_owned(), "Y in b".to_owned()),
            ("XM-R-Z".to_owned(), "Z second".to_owned()),
        ];
        let mut snapshots = Vec::new();
        for order in [vec![a.clone(), b_xml.clone()], vec![b_xml.clone(), a.clone()]] {
            // Together, in either order, and one by one in that order.
            for one_by_one in [false, true] {
                let mut db = b.db();
                let mut warnings = Vec::new();
                if one_by_one {
                    for f in &order {
                        warnings.extend(import(&mut *db, std::slice::from_ref(f)).diagnostics);
                    }
                } else {
                    warnings = import(&mut *db, &order).diagnostics;
                }
                let what = format!("order {order:?}, one by one: {one_by_one}");
                assert_eq!(ids_and_titles(&*db), expected, "{what}");
                assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("105"), "1 + 8 + 32 + 64; {what}");
                let dup: Vec<_> = warnings.iter().filter(|d| d.code == "duplicate-identifier").collect();
                for (id, winner_file, winner_title) in [
                    ("XM-R-X", "a.xml", "#1"),
                    ("XM-R-Y", "b.xml", "#2"),
                    ("XM-R-Z", "a.xml", "#4"),
                    ("XM-R-W", "a.xml", "#5"),
                ] {
                    let w: Vec<_> = dup.iter().filter(|d| d.identifier.as_deref() == Some(id)).collect();
                    assert!(!w.is_empty(), "{what}: a warning for {id}");
                    // Each warning names the winner: either it is the winner ("this one ... wins")
                    // or it names the winner's file and position.
                    for d in &w {
                        let names_winner = if d.message.contains("is not stored") {
                            // "the one in PATH (activity #N) wins ...; this one (activity #M) is not stored"
                            d.message.contains(winner_file)
                                && d.message.contains(&format!("(activity {winner_title}) wins"))
                        } else {
                            // "also in PATH (activity #M); this one (activity #N) wins ..."
                            d.file.ends_with(winner_file)
                                && d.message.contains(&format!("this one (activity {winner_title}) wins"))
                        };
                        assert!(names_winner, "{what}: the warning for {id} names {winner_file} {winner_title}: {d}");
                    }
                }
                snapshots.push((what, data_snapshot(&*db)));
            }
        }
        for (what, s) in &snapshots[1..] {
            assert_same_database(&snapshots[0].1, s, what);
        }
    });
}

/// Moved from `reimport.rs` (bad-input trial finding 10): in a re-imported file, the duplicate
/// warning names the copy that was stored, not the previous version's row.
#[test]
fn the_duplicate_warning_on_a_reimport_names_the_copy_that_won() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let two = |first: &str| {
            doc("2.03", &(dated_copy(first, "Title 1", "1") + &dated_copy("2023-01-01T00:00:00Z", "Title 2", "2")))
        };
        let f = write(dir.path(), "f.xml", two("2024-01-01T00:00:00Z"));
        import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(title(&*db, "XM-DUP"), "Title 1");
        write(dir.path(), "f.xml", two("2022-01-01T00:00:00Z"));
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(title(&*db, "XM-DUP"), "Title 2");
        let w = diags(&r, "duplicate-identifier");
        assert_eq!(w.len(), 1, "{}", dump(&r));
        // The copy that won (#2) is named as the winner, the other (#1) as the copy set aside;
        // never the previous version's row. (Copy #1 differs from the stored row only by its
        // timestamp, so it is met first as the unchanged row, and the warning is #2's.)
        let m = &w[0].message;
        assert!(m.contains("(activity #2) wins") && m.contains("(activity #1)"), "{m}");
        assert_eq!((r.updated, r.superseded), (1, 1), "{}", dump(&r));
    });
}

/// Moved from `reimport.rs` (bad-input trial finding 03): the stored copy's file is
/// republished with an older last-updated-datetime; the other file's copy, newer now, wins, as
/// on a fresh import.
#[test]
fn a_winning_copy_republished_older_yields_to_a_newer_copy_elsewhere() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        write(&data, "f.xml", doc("2.03", &dated_copy("2023-01-01T00:00:00Z", "f copy (2023)", "1")));
        write(&data, "g.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "g copy (2024)", "2")));
        import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(title(&*db, "XM-DUP"), "g copy (2024)");

        write(&data, "g.xml", doc("2.03", &dated_copy("2022-01-01T00:00:00Z", "g copy (2022)", "3")));
        let r = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(title(&*db, "XM-DUP"), "f copy (2023)", "{}", dump(&r));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("1"));
        let w = diags(&r, "duplicate-identifier");
        assert!(
            w.iter().any(|d| {
                let (winner, other) = if d.message.contains("this one (activity #1) wins") {
                    (&d.file, &d.message)
                } else {
                    (&d.message, &d.file)
                };
                winner.contains("f.xml") && other.contains("g.xml")
            }),
            "a warning says f.xml's copy wins over g.xml's: {}",
            dump(&r)
        );
        // A fresh import of the same folder agrees; and the next import changes nothing.
        let mut fresh = b.db();
        import(&mut *fresh, std::slice::from_ref(&data));
        assert_eq!(ids_and_titles(&*fresh), ids_and_titles(&*db));
        assert_same_database(&data_snapshot(&*fresh), &data_snapshot(&*db), "fresh import vs re-import");
        let again = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!((again.created, again.updated, again.removed), (0, 0, 0), "{}", dump(&again));
    });
}

/// Moved from `reimport.rs` (bad-input trial finding 09): one identifier in three files of one
/// run is one change, whichever copy wins.
#[test]
fn copies_in_several_files_of_one_run_count_as_the_one_change_they_make() {
    for_each_backend(|b| {
        for dates in [["2022", "2023", "2024"], ["2024", "2023", "2022"], ["2023", "2023", "2023"]] {
            let mut db = b.db();
            let dir = data_dir();
            let data = folder(dir.path(), "data");
            for (i, year) in dates.iter().enumerate() {
                let copy = dated_copy(&format!("{year}-01-01T00:00:00Z"), &format!("copy {i}"), &format!("{}", i + 1));
                write(&data, &format!("f{i}.xml"), doc("2.03", &copy));
            }
            let r = import(&mut *db, std::slice::from_ref(&data));
            assert_eq!(
                (r.created, r.updated, r.superseded, r.transactions),
                (1, 0, 2, 1),
                "dates {dates:?}: {}",
                dump(&r)
            );
            assert_eq!(count(&*db), 1);
            let again = import(&mut *db, std::slice::from_ref(&data));
            assert_eq!((again.created, again.updated, again.transactions), (0, 0, 0), "{}", dump(&again));
        }
    });
}

/// Moved from `reimport.rs` (second bad-input round, findings 01 and 02): an older copy after
/// an identical copy from another file never wins.
#[test]
fn an_older_copy_after_an_identical_copy_from_another_file_never_wins() {
    for_each_backend(|b| {
        let both = doc(
            "2.03",
            &(dated_copy("2024-01-01T00:00:00Z", "new 2024", "2")
                + &dated_copy("2023-01-01T00:00:00Z", "old 2023", "3")),
        );
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        for f in ["a.xml", "b.xml", "c.xml", "d.xml"] {
            write(&data, f, &both);
        }
        let r = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(title(&*db, "XM-DUP"), "new 2024", "{}", dump(&r));
        assert_eq!((r.files, r.created, r.updated), (4, 1, 0), "{}", dump(&r));
        for _ in 0..2 {
            let again = import(&mut *db, std::slice::from_ref(&data));
            assert_eq!((again.created, again.updated, again.removed), (0, 0, 0), "{}", dump(&again));
            assert_eq!(title(&*db, "XM-DUP"), "new 2024");
        }
        // A file holding the identifier twice, renamed, then pruned: the newer copy stays.
        let mut db2 = b.db();
        let d2 = folder(dir.path(), "d");
        let a = write(&d2, "a.xml", &both);
        import(&mut *db2, std::slice::from_ref(&d2));
        std::fs::rename(&a, d2.join("z.xml")).expect("rename");
        senda::import::import_and_prune(&mut *db2, std::slice::from_ref(&d2), false, false).expect("import");
        assert_eq!(title(&*db2, "XM-DUP"), "new 2024");
        assert_eq!(row(&by_country(&*db2), "GT").usd.disbursements, dec("2"));
    });
}

// 4. Order independence.

/// The same files in any order, together or one by one, or in two runs, give the same database:
/// every table (ids and times aside), the list, and every report.
#[test]
fn the_database_does_not_depend_on_the_order_of_the_files() {
    for_each_backend(|b| {
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        let dated = |id: &str, lu: &str, t: &str, amount: &str| dated_copy(lu, t, amount).replace("XM-DUP", id);
        let files = vec![
            write(
                &data,
                "a.xml",
                doc(
                    "2.03",
                    &(rich("XM-OI-1", "10")
                        + &dated("XM-OI-D", "2024-02-01T00:00:00Z", "D in a", "5")
                        + &dated("XM-OI-E", "2024-01-01T00:00:00Z", "E in a", "7")),
                ),
            ),
            write(
                &data,
                "b.xml",
                doc(
                    "2.03",
                    &(dated("XM-OI-D", "2024-03-01T00:00:00Z", "D in b", "6")
                        + &rich("XM-OI-2", "20")
                        + &dated("XM-OI-E", "2024-01-01T00:00:00Z", "E in b", "8")),
                ),
            ),
            write(
                &data,
                "c.xml",
                doc(
                    "2.03",
                    &(dated("XM-OI-E", "2024-01-01T00:00:00Z", "E in c first", "9")
                        + &dated("XM-OI-E", "2023-01-01T00:00:00Z", "E in c old", "11")
                        + &rich("XM-OI-3", "30")),
                ),
            ),
            fixture("good.xml"),
            fixture("duplicates.xml"),
            fixture("duplicates_other.xml"),
        ];
        let reference = {
            let mut db = b.db();
            import(&mut *db, &files);
            db
        };
        let expected = data_snapshot(&*reference);
        let expected_list = list(&*reference, &all());
        assert_eq!(title(&*reference, "XM-OI-D"), "D in b");
        assert_eq!(title(&*reference, "XM-OI-E"), "E in c first", "equal dates: the later path");
        let n = files.len();
        let orders: Vec<(String, Vec<Vec<PathBuf>>)> = vec![
            ("reversed".into(), vec![files.iter().rev().cloned().collect()]),
            ("shuffled".into(), vec![[3, 0, 5, 2, 4, 1].iter().map(|&i| files[i].clone()).collect()]),
            ("one by one".into(), files.iter().map(|f| vec![f.clone()]).collect()),
            ("one by one, reversed".into(), files.iter().rev().map(|f| vec![f.clone()]).collect()),
            ("two runs".into(), vec![files[n / 2..].to_vec(), files[..n / 2].to_vec()]),
            ("the folder, then everything again".into(), vec![vec![data.clone()], files.clone()]),
        ];
        for (what, runs) in orders {
            let mut db = b.db();
            for run in &runs {
                import(&mut *db, run);
            }
            assert_eq!(
                counts(&*db)
                    .into_iter()
                    .filter(|(t, _)| !["import_run", "diagnostic", "audit_event"].contains(t))
                    .collect::<Vec<_>>(),
                counts(&*reference)
                    .into_iter()
                    .filter(|(t, _)| !["import_run", "diagnostic", "audit_event"].contains(t))
                    .collect::<Vec<_>>(),
                "{what}: rows per table"
            );
            assert_eq!(list(&*db, &all()), expected_list, "{what}: the activity list");
            for dims in groupings() {
                assert_eq!(
                    report_text(&*db, dims.clone()),
                    report_text(&*reference, dims.clone()),
                    "{what}: report {dims:?}"
                );
            }
            assert_same_database(&expected, &data_snapshot(&*db), &what);
        }
    });
}

// 5. A run's totals are the real change.

/// Over a sequence of runs (new files, edits, a copy moving between files, removals, prune,
/// forced re-reads), each run's created / updated / removed / transactions equal the real
/// difference of the stored activities before and after it, and the stored run says the same.
#[test]
fn run_totals_equal_the_real_change_of_the_database() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        type Step = Box<dyn Fn(&Path)>;
        let w = |name: &'static str, body: String| -> Step {
            Box::new(move |d: &Path| {
                write(d, name, doc("2.03", &body));
            })
        };
        let steps: Vec<(&str, Step, bool, bool)> = vec![
            ("first import", w("a.xml", rich("XM-N-1", "1") + &rich("XM-N-2", "2")), false, false),
            (
                "a second file",
                w("b.xml", rich("XM-N-3", "3") + &dated_copy("2024-01-01T00:00:00Z", "dup b", "4")),
                false,
                false,
            ),
            ("nothing changed", Box::new(|_: &Path| {}), false, false),
            ("forced, nothing changed", Box::new(|_: &Path| {}), true, false),
            (
                "an edit and a new activity",
                w("a.xml", rich("XM-N-1", "10") + &rich("XM-N-2", "2") + &rich("XM-N-4", "4")),
                false,
                false,
            ),
            ("a newer copy elsewhere", w("c.xml", dated_copy("2025-01-01T00:00:00Z", "dup c", "5")), false, false),
            ("an activity dropped", w("a.xml", rich("XM-N-1", "10") + &rich("XM-N-4", "4")), false, false),
            ("the winning copy dropped, the other takes over", w("c.xml", rich("XM-N-5", "5")), false, false),
            (
                "a file deleted, pruned",
                Box::new(|d: &Path| std::fs::remove_file(d.join("b.xml")).expect("delete b.xml")),
                false,
                true,
            ),
            ("same content, new bytes", w("a.xml", rich("XM-N-4", "4") + &rich("XM-N-1", "10")), false, false),
        ];
        for (what, change, force, prune) in steps {
            change(&data);
            let before = fingerprints(&*db);
            let runs_before = db.runs(1).expect("runs").first().map(|r| r.id);
            let r = match (force, prune) {
                (_, true) => senda::import::import_and_prune(&mut *db, std::slice::from_ref(&data), false, false),
                (f, false) => senda::import::import(&mut *db, std::slice::from_ref(&data), f, false),
            }
            .expect("import");
            let after = fingerprints(&*db);
            let real = net_change(&before, &after);
            assert_eq!(
                (r.created, r.updated, r.removed, r.transactions),
                real,
                "{what}: report vs real change\n{}",
                dump(&r)
            );
            assert_eq!(r.files_rejected, 0, "{what}");
            // The run as stored says the same.
            let stored = db.runs(1).expect("runs");
            let run = stored.first().expect("a run was saved");
            assert_ne!(Some(run.id), runs_before, "{what}: a new run");
            assert_eq!(run.id, r.run_id, "{what}");
            let get = |k: &str| run.report[k].as_u64().unwrap_or_else(|| panic!("{what}: {k} in {}", run.report));
            assert_eq!(
                (get("created"), get("updated"), get("removed"), get("transactions")),
                real,
                "{what}: stored run"
            );
        }
        assert!(!exists(&*db, "XM-N-3") && exists(&*db, "XM-N-5") && !exists(&*db, "XM-DUP"));
    });
}

// Widths: what one backend stores, the other must store too.

/// Identifiers up to `MAX_IDENTIFIER_BYTES` (1,000 bytes), a 100 KB title and a file path of
/// 1,500 bytes import, list and report on every backend; a longer identifier is an error on
/// the activity (rejected, the rest of the file imports), the same on every backend. (A
/// PostgreSQL b-tree entry holds about 2,700 bytes: a 3,000-byte identifier made the whole
/// import fail there while SQLite stored it.)
#[test]
fn long_identifiers_titles_and_paths_are_stored_alike_on_every_backend() {
    use senda_core::codes::MAX_IDENTIFIER_BYTES;
    let mut rng = fastrand::Rng::with_seed(16);
    let mut random = |n: usize| -> String { (0..n).map(|_| rng.alphanumeric()).collect() };
    let long_id = format!("XM-LONG-{}", random(MAX_IDENTIFIER_BYTES - 8));
    let too_long = format!("XM-LONG-{}", random(3000));
    let long_title = random(100_000);
    let folders: Vec<String> = (0..9).map(|_| random(180)).collect();
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let mut deep = dir.path().to_path_buf();
        for f in &folders {
            deep.push(f);
        }
        std::fs::create_dir_all(&deep).expect("deep folder");
        let titled = |id: &str, title: &str, amount: &str| {
            activity(
                id,
                &format!(
                    "  <title><narrative>{title}</narrative></title>\n  <recipient-country code=\"HN\"/>\n{}",
                    transaction("3", "2023-01-01", amount)
                ),
            )
        };
        let body =
            titled(&long_id, &long_title, "5") + &titled(&too_long, "too long", "100") + &rich("XM-LONG-SHORT", "7");
        let f = write(&deep, "long.xml", doc("2.03", &body));
        assert!(f.as_os_str().len() > 1500);
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r.created, r.rejected, r.files_rejected), (2, 1, 0), "{}", dump(&r));
        let bad = diags(&r, "invalid-identifier");
        assert_eq!(bad.len(), 1, "{}", dump(&r));
        assert!(bad[0].message.contains("more than the 1000 bytes"), "{}", bad[0]);
        let a = db.activity(&long_id, STRATEGY).expect("the longest identifier is stored");
        assert_eq!(a.activity.title_in("en"), long_title);
        assert_eq!(a.source.0, f.display().to_string());
        assert!(db.file_state(&f.display().to_string()).expect("state").is_some());
        let listed =
            db.list_activities(&ActivityFilter { sort: senda_store::ActivitySort::Title, ..all() }).expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(by_country(&*db).total.usd.disbursements, dec("12"));
        let again = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((again.files_unchanged, again.created), (1, 0), "{}", dump(&again));
        db.set_override(
            &senda_store::accounts::Actor::cli(),
            &senda_store::Override {
                iati_identifier: long_id.clone(),
                strategy: STRATEGY.into(),
                lines_of_effort: vec!["LOE1".into()],
                note: "long".into(),
                created_at: "2025-01-01T00:00:00Z".into(),
            },
            1,
        )
        .expect("an override on the longest identifier");
        assert_eq!(row(&report_of(&*db, vec![Dimension::LineOfEffort]), "LOE1").usd.disbursements, dec("5"));
    });
}

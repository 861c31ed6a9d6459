//! Re-imports, removals and prune, on every backend: an activity gone from its file goes with
//! all its rows; a copy elsewhere takes over when the stored copy leaves; `import --prune` and
//! `Store::remove_file` forget a deleted file. Moved from `tests/it/reimport.rs` (which read
//! SQLite's tables with raw SQL: these read them through the `Store` trait).

use super::*;
use crate::support::*;
use senda::import::{FileStatus, ImportReport};

/// The per-activity tables (each row names an `activity_id`).
const CHILD_TABLES: [&str; 6] =
    ["fact", "activity_doc", "activity_mapping", "mapping_evidence", "activity_location", "activity_result"];

/// Rows per child table that belong to the activity `iati_identifier`, and rows that belong to
/// no stored activity at all (left behind), read through the trait.
fn child_rows(s: &dyn Store, iati_identifier: &str) -> Vec<(&'static str, usize, usize)> {
    let snap = snapshot(s);
    let mine = format!("activity_id={iati_identifier}");
    CHILD_TABLES
        .iter()
        .map(|t| {
            let rows = &snap[t];
            let own = rows.iter().filter(|r| r.split(' ').any(|p| p == mine)).count();
            let orphans = rows.iter().filter(|r| r.contains("activity_id=(no activity")).count();
            (*t, own, orphans)
        })
        .collect()
}

fn status_of(r: &ImportReport, p: &Path) -> Option<FileStatus> {
    r.file_reports.iter().find(|f| Path::new(&f.path) == p).map(|f| f.status.clone())
}

#[test]
fn an_activity_gone_from_a_file_is_removed_with_all_its_rows() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-RE-1", "100") + &rich("XM-RE-2", "250"))));
        let r1 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r1.created, r1.removed), (2, 0), "{}", dump(&r1));
        for (t, n, _) in child_rows(&*db, "XM-RE-2") {
            assert!(n > 0, "the test activity has rows in {t}");
        }

        // The publisher drops XM-RE-2 from the file.
        write(dir.path(), "a.xml", doc("2.03", &rich("XM-RE-1", "100")));
        let r2 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r2.created, r2.updated, r2.unchanged, r2.removed), (0, 0, 1, 1), "{}", dump(&r2));
        assert!(!exists(&*db, "XM-RE-2"));
        assert!(exists(&*db, "XM-RE-1"));
        for (t, n, orphans) in child_rows(&*db, "XM-RE-2") {
            assert_eq!((n, orphans), (0, 0), "no row of the removed activity is left in {t}");
        }
        for (t, n, _) in child_rows(&*db, "XM-RE-1") {
            assert!(n > 0, "the other activity keeps its rows in {t}");
        }
        let state = db.file_state(&f.display().to_string()).expect("state").expect("recorded");
        assert_eq!((state.activities, state.transactions), (1, 1));
        // Its money is gone from the report; the other activity's stays.
        let rep = by_country(&*db);
        assert_eq!(row(&rep, "GT").usd.disbursements, dec("100"));
        assert_reconciles(&rep);
    });
}

#[test]
fn small_queues_never_stall_the_import() {
    // Workers read files ahead of the writer, which writes them in sorted order; at most
    // `max_in_flight` prepared activities of later files may wait. With a bound shared by every
    // file, the files after the one being written could fill it while that file's own worker
    // waited for room: the writer then waited for that file forever (seen as a hang on a
    // 200 MB corpus with a bound of 256). Tiny limits make that interleaving near-certain.
    for_each_backend(|b| {
        let dir = data_dir();
        let mut files = Vec::new();
        for f in 0..6 {
            let acts: String = (0..150).map(|i| rich(&format!("XM-Q-{f}-{i}"), "1")).collect();
            files.push(write(dir.path(), &format!("f{f}.xml"), doc("2.03", &acts)));
        }
        let db = b.db();
        let url = db.url().to_owned();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut store = senda_store::open(&url, senda_store::OpenMode::Existing).expect("open");
            let limits = senda::import::Limits { workers: 2, lookahead: 2, max_in_flight: 4 };
            let r = senda::import::import_with(&mut *store, &files, false, false, limits).expect("import runs");
            let _ = done.send((r.created, count(&*store)));
        });
        // Generous: the import itself takes a few seconds at most.
        let (created, stored) = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the import finishes (it stalled: the writer waits for a worker that waits for the writer)");
        assert_eq!((created, stored), (900, 900));
    });
}

#[test]
fn removing_or_adding_an_activity_before_others_keeps_the_others_unchanged() {
    // A publisher drops the first activity of a file, later adds one at the top: the other
    // activities only moved. They are the same rows, unchanged, never "duplicates" of their
    // own earlier position (that once deleted every activity of the file).
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(
            dir.path(),
            "f.xml",
            doc("2.03", &(rich("XM-O-P", "1") + &rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))),
        );
        let r1 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(r1.created, 3, "{}", dump(&r1));

        write(dir.path(), "f.xml", doc("2.03", &(rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))));
        let r2 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r2.created, r2.updated, r2.unchanged, r2.superseded, r2.removed), (0, 0, 2, 0, 1), "{}", dump(&r2));
        assert_eq!(r2.warnings, 0, "no duplicate warning: {}", dump(&r2));
        assert!(!exists(&*db, "XM-O-P") && exists(&*db, "XM-O-Q") && exists(&*db, "XM-O-R"));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("6"));

        write(dir.path(), "f.xml", doc("2.03", &(rich("XM-O-N", "8") + &rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))));
        let r3 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r3.created, r3.updated, r3.unchanged, r3.removed, r3.warnings), (1, 0, 2, 0, 0), "{}", dump(&r3));
        assert_eq!(count(&*db), 3);
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("14"));
        assert_eq!(db.activity("XM-O-R", STRATEGY).expect("R").source.1, 2, "the new position is recorded");

        // And the positions were recorded: the same file again changes nothing.
        let r4 = import_force(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r4.created, r4.updated, r4.unchanged, r4.removed, r4.warnings), (0, 0, 3, 0, 0), "{}", dump(&r4));
    });
}

#[test]
fn a_real_file_without_its_first_activity_keeps_all_the_others() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let real =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati/us-gov/usaid-sv.xml");
        let text = std::fs::read_to_string(real).expect("real file");
        let f = write(dir.path(), "usaid-sv.xml", &text);
        let r1 = import(&mut *db, std::slice::from_ref(&f));
        let before = count(&*db);
        assert!(before > 100, "{}", dump(&r1));
        // Cut the first <iati-activity> element out.
        let start = text.find("<iati-activity").expect("an activity");
        let end = text[start..].find("</iati-activity>").expect("its end") + start + "</iati-activity>".len();
        write(dir.path(), "usaid-sv.xml", format!("{}{}", &text[..start], &text[end..]));
        let r2 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(count(&*db), before - 1, "{}", dump(&r2));
        assert_eq!((r2.created, r2.removed, r2.rejected), (0, 1, 0), "{}", dump(&r2));
        assert_eq!(r2.unchanged + r2.updated, before - 1);
    });
}

#[test]
fn when_the_winning_copy_leaves_a_file_the_remaining_copy_takes_its_place() {
    // Two copies of one identifier in a file: the later last-updated-datetime wins. When the
    // publisher drops that copy, the other one is the activity now, not nothing.
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let copy = |lu: &str, amount: &str| {
            rich("XM-FB-1", amount).replacen(
                "last-updated-datetime=\"2024-01-01T00:00:00Z\"",
                &format!("last-updated-datetime=\"{lu}\""),
                1,
            )
        };
        let f = write(
            dir.path(),
            "f.xml",
            doc("2.03", &(copy("2024-06-01T00:00:00Z", "10") + &copy("2024-01-01T00:00:00Z", "20"))),
        );
        let r1 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r1.created, r1.superseded), (1, 1), "{}", dump(&r1));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("10"));

        // The older copy, now alone, loses to the stored row by the rule as it reads: it is
        // kept aside and takes the row when no copy in the file does.
        write(dir.path(), "f.xml", doc("2.03", &(rich("XM-FB-2", "5") + &copy("2024-01-01T00:00:00Z", "20"))));
        let r2 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r2.created, r2.updated, r2.removed, r2.warnings), (1, 1, 0, 0), "{}", dump(&r2));
        assert!(exists(&*db, "XM-FB-1"));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("25"));

        // Both copies back: the later last-updated-datetime wins again, with its warning.
        write(
            dir.path(),
            "f.xml",
            doc("2.03", &(copy("2024-01-01T00:00:00Z", "20") + &copy("2024-06-01T00:00:00Z", "10"))),
        );
        let r3 = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!((r3.created, r3.updated, r3.removed, r3.superseded, r3.warnings), (0, 1, 1, 1, 1), "{}", dump(&r3));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("10"));
    });
}

#[test]
fn when_the_stored_copy_leaves_its_file_a_copy_in_another_file_becomes_the_activity() {
    // X is in a.xml and b.xml; b.xml's copy is stored (same last-updated-datetime, later path).
    // When the publisher drops X from b.xml, X is not gone: a.xml still has it, and a.xml is
    // read again in the same run although it did not change.
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-CP-A", "1") + &rich("XM-CP-X", "111"))));
        let bx = write(dir.path(), "b.xml", doc("2.03", &(rich("XM-CP-B", "2") + &rich("XM-CP-X", "222"))));
        let r1 = import(&mut *db, &[a.clone(), bx.clone()]);
        assert_eq!((r1.created, r1.warnings), (3, 1), "{}", dump(&r1));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("225"));

        write(dir.path(), "b.xml", doc("2.03", &rich("XM-CP-B", "2")));
        let r2 = import(&mut *db, &[a.clone(), bx.clone()]);
        assert!(exists(&*db, "XM-CP-X"), "{}", dump(&r2));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("114"), "a.xml's copy, 111");
        // The row was removed with b.xml's copy and made again from a.xml's: for the run, one
        // activity updated (222 became 111), none created or removed.
        assert_eq!((r2.files, r2.removed, r2.created, r2.updated), (2, 0, 0, 1), "{r2:?}");
        let per_file: u64 = r2.file_reports.iter().map(|f| f.removed).sum();
        assert_eq!(per_file, 1, "b.xml's own figures say it lost the copy");
        assert_eq!(status_of(&r2, &a), Some(FileStatus::Imported), "a.xml read again");
        assert_eq!(count(&*db), 3);
        // Then nothing changes.
        let r3 = import(&mut *db, &[a.clone(), bx.clone()]);
        assert_eq!((r3.created, r3.updated, r3.removed, r3.files_unchanged), (0, 0, 0, 2), "{r3:?}");

        // Also when only the changed file is named: a.xml takes X back again.
        write(dir.path(), "b.xml", doc("2.03", &(rich("XM-CP-B", "2") + &rich("XM-CP-X", "333"))));
        let _ = import(&mut *db, &[a.clone(), bx.clone()]);
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("336"), "b.xml's copy wins again");
        write(dir.path(), "b.xml", doc("2.03", &rich("XM-CP-B", "2")));
        let r4 = import(&mut *db, std::slice::from_ref(&bx));
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("114"), "{}", dump(&r4));
    });
}

/// `import --prune FOLDER`: what a user checks after deleting a file from the data folder.
#[test]
fn prune_forgets_the_files_gone_from_a_folder_and_only_those() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        folder(&data, "sub");
        // a.xml holds XM-PR-A1 (newer: it wins over b.xml's copy) and XM-PR-A2; b.xml holds
        // XM-PR-B1 and an older copy of XM-PR-A1; sub/c.xml holds XM-PR-C1.
        let newer = rich("XM-PR-A1", "100").replace("2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z");
        let a = write(&data, "a.xml", doc("2.03", &(newer + &rich("XM-PR-A2", "250"))));
        write(&data, "b.xml", doc("2.03", &(rich("XM-PR-B1", "40") + &rich("XM-PR-A1", "7"))));
        write(&data.join("sub"), "c.xml", doc("2.03", &rich("XM-PR-C1", "5")));
        let r = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!((r.created, r.superseded), (4, 1), "{}", dump(&r));
        let money = |s: &dyn Store| row(&by_country(s), "GT").usd.disbursements;
        assert_eq!(money(&*db), dec("395"), "100 + 250 + 40 + 5");

        let a_canonical = canonical(&a).display().to_string();
        std::fs::remove_file(&a).expect("delete a.xml");
        // Without --prune nothing is forgotten.
        let r = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!((r.removed, r.files_removed), (0, 0), "{}", dump(&r));
        assert_eq!(count(&*db), 4);
        // Naming files one by one prunes nothing either.
        let r = senda::import::import_and_prune(&mut *db, &[data.join("b.xml")], false, false).expect("import");
        assert_eq!((r.removed, r.files_removed), (0, 0), "{}", dump(&r));

        let r = senda::import::import_and_prune(&mut *db, std::slice::from_ref(&data), false, false).expect("import");
        assert_eq!(r.files_removed, 1, "{}", dump(&r));
        let gone = r.file_reports.iter().find(|f| f.status == FileStatus::Removed).expect("a.xml reported");
        assert_eq!(gone.path, a_canonical);
        // Both of a.xml's activities were deleted; b.xml's copy of XM-PR-A1 is the activity now:
        // for the run, XM-PR-A2 removed and XM-PR-A1 updated (100 became 7).
        assert_eq!((r.removed, r.created, r.updated, r.transactions), (1, 0, 1, 1), "{}", dump(&r));
        assert!(!exists(&*db, "XM-PR-A2"));
        assert!(exists(&*db, "XM-PR-A1"));
        assert_eq!(count(&*db), 3);
        assert_eq!(money(&*db), dec("52"), "7 + 40 + 5: the report follows");
        for (t, n, orphans) in child_rows(&*db, "XM-PR-A2") {
            assert_eq!((n, orphans), (0, 0), "no row of a pruned activity is left in {t}");
        }
        assert!(db.file_state(&a_canonical).expect("state").is_none(), "a.xml is forgotten");
        assert!(!db.imported_files().expect("files").contains(&a_canonical));
        // Pruning again finds nothing more to do.
        let r = senda::import::import_and_prune(&mut *db, std::slice::from_ref(&data), false, false).expect("import");
        assert_eq!((r.removed, r.files_removed, r.created), (0, 0, 0), "{}", dump(&r));

        // Everything deleted: pruning the emptied folder is no error and empties the database.
        std::fs::remove_dir_all(&data).expect("rm");
        std::fs::create_dir(&data).expect("mkdir");
        let r = senda::import::import_and_prune(&mut *db, std::slice::from_ref(&data), false, false).expect("import");
        assert_eq!((r.files_removed, r.removed), (2, 3), "{}", dump(&r));
        assert_eq!(count(&*db), 0);
        for t in CHILD_TABLES.iter().chain(&["activity", "source_file", "activity_copy"]) {
            assert_eq!(rows_in(&*db, t), 0, "{t} is empty");
        }
    });
}

/// `Store::remove_file` directly: the file's activities go with all their rows, its record
/// and its duplicate copies too; the files holding another copy are named to be read again,
/// and reading them makes that copy the activity. A path never imported changes nothing.
#[test]
fn remove_file_deletes_a_files_activities_and_names_the_files_with_another_copy() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        // f.xml's copy of XM-DUP is newer and stored; g.xml's older copy is kept aside.
        let f = write(
            &data,
            "f.xml",
            doc("2.03", &(dated_copy("2024-06-01T00:00:00Z", "f copy", "1") + &rich("XM-RF-1", "10"))),
        );
        let g = write(
            &data,
            "g.xml",
            doc("2.03", &(dated_copy("2023-01-01T00:00:00Z", "g copy", "2") + &rich("XM-RF-2", "20"))),
        );
        import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(title(&*db, "XM-DUP"), "f copy");
        let before = counts(&*db);

        let nothing = db.remove_file("/no/such/file.xml").expect("remove a path never imported");
        assert_eq!((nothing.removed, nothing.reread.len()), (0, 0));
        assert_eq!(counts(&*db), before, "nothing changed");

        let out = db.remove_file(&f.display().to_string()).expect("remove f.xml");
        assert_eq!(out.removed, 2, "{out:?}");
        assert_eq!(out.reread, [g.display().to_string()], "g.xml holds another copy of XM-DUP");
        assert!(!exists(&*db, "XM-DUP") && !exists(&*db, "XM-RF-1") && exists(&*db, "XM-RF-2"));
        assert!(db.file_state(&f.display().to_string()).expect("state").is_none());
        assert_eq!(db.imported_files().expect("files"), [g.display().to_string()]);
        for id in ["XM-DUP", "XM-RF-1"] {
            for (t, n, orphans) in child_rows(&*db, id) {
                assert_eq!((n, orphans), (0, 0), "{id}: nothing left in {t}");
            }
        }
        // Reading g.xml again (what `import --prune` does with `reread`) brings its copy back.
        let r = import_force(&mut *db, std::slice::from_ref(&g));
        assert_eq!(r.created, 1, "{}", dump(&r));
        assert_eq!(title(&*db, "XM-DUP"), "g copy");
        assert_eq!(row(&by_country(&*db), "GT").usd.disbursements, dec("22"), "2 + 20");
    });
}

/// Moved from `reimport.rs` (bad-input trial finding 02): the file holding the other copy of a
/// duplicate could not be read when the stored copy left its file. The activity must come back
/// once that file is back with the same bytes, as a fresh import of the same files would have it.
#[test]
fn a_copy_that_could_not_take_over_does_when_its_file_is_back() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let data = folder(dir.path(), "data");
        let f = write(&data, "f.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "copy in f", "1")));
        let g_text = doc("2.03", &dated_copy("2023-01-01T00:00:00Z", "copy in g", "2"));
        let g = write(&data, "g.xml", &g_text);
        import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(title(&*db, "XM-DUP"), "copy in f");

        // f.xml drops the activity while g.xml is cut short: g's copy cannot take over now.
        write(&data, "f.xml", doc("2.03", ""));
        std::fs::write(&g, &g_text[..100]).expect("truncate");
        let r = import(&mut *db, std::slice::from_ref(&f));
        assert_eq!(r.removed, 1, "{}", dump(&r));
        assert!(!exists(&*db, "XM-DUP"));

        // g.xml back byte for byte: not "unchanged", read, and its copy is the activity.
        std::fs::write(&g, &g_text).expect("restore");
        let r = import(&mut *db, std::slice::from_ref(&data));
        assert_eq!(r.created, 1, "{}", dump(&r));
        assert_eq!(title(&*db, "XM-DUP"), "copy in g");

        // The same when g.xml was away (moved) instead of broken, with a warning naming it.
        let mut db2 = b.db();
        let data2 = folder(dir.path(), "data2");
        let f2 = write(&data2, "f.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "copy in f", "1")));
        let g2 = write(&data2, "g.xml", &g_text);
        import(&mut *db2, std::slice::from_ref(&data2));
        let away = dir.path().join("g.xml.away");
        std::fs::rename(&g2, &away).expect("move away");
        write(&data2, "f.xml", doc("2.03", ""));
        let r = import(&mut *db2, std::slice::from_ref(&f2));
        let w = diags(&r, "copy-unavailable");
        assert_eq!(w.len(), 1, "{}", dump(&r));
        assert!(w[0].file.ends_with("g.xml"), "{}", w[0].file);
        std::fs::rename(&away, &g2).expect("move back");
        let r = import(&mut *db2, std::slice::from_ref(&data2));
        assert_eq!(r.created, 1, "{}", dump(&r));
        assert_eq!(title(&*db2, "XM-DUP"), "copy in g");
    });
}

/// Issue 20 item 12: a file regenerated with only new timestamps (`last-updated-datetime`,
/// `generated-datetime`) leaves its activities unchanged: no fact is rewritten (no segment goes
/// stale), and only the stored timestamp moves, which the duplicate rule then uses.
#[test]
fn a_file_regenerated_with_only_new_timestamps_changes_nothing_but_the_timestamp() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(dir.path(), "a.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "Copy A", "100")));
        let r1 = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!(r1.created, 1, "{}", dump(&r1));
        let segments = db.fact_segment_states().expect("states");

        // The publisher regenerates the file: new timestamps, nothing else.
        let again = doc("2.03", &dated_copy("2026-01-01T00:00:00Z", "Copy A", "100"))
            .replace("generated-datetime=\"2024-01-01T00:00:00Z\"", "generated-datetime=\"2026-12-07T06:00:00Z\"");
        write(dir.path(), "a.xml", again);
        let r2 = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!((r2.created, r2.updated, r2.unchanged), (0, 0, 1), "{}", dump(&r2));
        assert_eq!(status_of(&r2, &a), Some(FileStatus::Restamped), "not read again: {}", dump(&r2));
        assert_eq!(db.fact_segment_states().expect("states"), segments, "no fact rewritten: no segment stale");

        // The stored timestamp moved: a copy dated between the old and the new one loses.
        let c = write(dir.path(), "b.xml", doc("2.03", &dated_copy("2025-01-01T00:00:00Z", "Copy B", "999")));
        let r3 = import(&mut *db, &[a.clone(), c]);
        assert_eq!(r3.updated, 0, "{}", dump(&r3));
        let rows = list(&*db, &all());
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("Copy A"), "the newer copy (2026, from a.xml) stays: {rows:?}");
    });
}

/// A file of several activities (one rejected, one without a timestamp) regenerated with new
/// timestamps: only those move, by position, and the database is the one a fresh import of the
/// new bytes makes (every table compared).
#[test]
fn a_regenerated_file_gives_the_database_a_fresh_import_of_it_gives() {
    for_each_backend(|b| {
        let dir = data_dir();
        let body = |first: &str, third: &str| {
            rich("XM-TS-1", "100").replace("2024-01-01T00:00:00Z", first)
                // Rejected by the reader (no identifier): it has a position, but no row.
                + " <iati-activity last-updated-datetime=\"2024-01-01T00:00:00Z\"><title><narrative>none</narrative></title></iati-activity>\n"
                + &rich("XM-TS-2", "250").replace(" last-updated-datetime=\"2024-01-01T00:00:00Z\"", "")
                + &rich("XM-TS-3", "75").replace("2024-01-01T00:00:00Z", third)
        };
        let a = write(dir.path(), "a.xml", doc("2.03", &body("2023-03-01T10:00:00Z", "2023-04-01")));
        let mut db = b.db();
        let r1 = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!((r1.created, r1.rejected), (3, 1), "{}", dump(&r1));

        let regenerated = doc("2.03", &body("2026-12-08T05:00:00-05:00", "2026-12-08"))
            .replace("generated-datetime=\"2024-01-01T00:00:00Z\"", "generated-datetime=\"2026-12-08T10:00:00-02:00\"");
        write(dir.path(), "a.xml", &regenerated);
        let r2 = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!(status_of(&r2, &a), Some(FileStatus::Restamped), "{}", dump(&r2));
        assert_eq!((r2.files_restamped, r2.created, r2.updated, r2.unchanged), (1, 0, 0, 3), "{}", dump(&r2));

        let mut fresh = b.db();
        let f = import(&mut *fresh, std::slice::from_ref(&a));
        assert_eq!(status_of(&f, &a), Some(FileStatus::Imported));
        assert_same_result(&*db, &*fresh, "restamped vs a fresh import of the new bytes");
        let detail = db.activity("XM-TS-3", "cmms-2021").expect("XM-TS-3");
        assert_eq!(detail.activity.last_updated.as_deref(), Some("2026-12-08"), "the activity page shows the new one");

        // Unchanged bytes since: skipped as before.
        let r3 = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!(status_of(&r3, &a), Some(FileStatus::Unchanged), "{}", dump(&r3));
    });
}

/// The shortcut is not taken when it could differ from a full read: a file with a copy of an
/// identifier (a new timestamp may change which copy wins), a new timestamp the reader warns
/// about, or any other change. Each is read in full, and the database is a fresh import's.
#[test]
fn a_regenerated_file_is_read_in_full_when_the_shortcut_could_differ() {
    for_each_backend(|b| {
        let dir = data_dir();
        let a = write(dir.path(), "a.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "Copy A", "100")));
        let c = write(dir.path(), "c.xml", doc("2.03", &dated_copy("2025-01-01T00:00:00Z", "Copy C", "300")));
        let mut db = b.db();
        import(&mut *db, &[a.clone(), c.clone()]);
        assert!(list(&*db, &all())[0].contains("Copy C"), "the newer copy wins");
        // a.xml's copy becomes the newest: it must win, as a full read decides.
        write(dir.path(), "a.xml", doc("2.03", &dated_copy("2026-01-01T00:00:00Z", "Copy A", "100")));
        let r = import(&mut *db, &[a.clone(), c.clone()]);
        assert_eq!(status_of(&r, &a), Some(FileStatus::Imported), "copies: read in full: {}", dump(&r));
        assert!(list(&*db, &all())[0].contains("Copy A"), "{}", dump(&r));
        let mut fresh = b.db();
        import(&mut *fresh, &[a.clone(), c.clone()]);
        // Warnings depend on the files each run read (here: a.xml only), not on the result.
        assert_same_result(&*db, &*fresh, "copies");

        let d = write(dir.path(), "d.xml", doc("2.03", &rich("XM-TS-9", "10")));
        import(&mut *db, std::slice::from_ref(&d));
        write(dir.path(), "d.xml", doc("2.03", &rich("XM-TS-9", "10").replace("2024-01-01T00:00:00Z", "yesterday")));
        let r = import(&mut *db, std::slice::from_ref(&d));
        assert_eq!(status_of(&r, &d), Some(FileStatus::Imported), "{}", dump(&r));
        assert_eq!(diags(&r, "invalid-datetime").len(), 1, "the reader's warning is given: {}", dump(&r));

        write(dir.path(), "d.xml", doc("2.03", &rich("XM-TS-9", "11").replace("2024-01-01T00:00:00Z", "2026-01-01")));
        let r = import(&mut *db, std::slice::from_ref(&d));
        assert_eq!(status_of(&r, &d), Some(FileStatus::Imported), "{}", dump(&r));
        assert_eq!(r.updated, 1, "{}", dump(&r));
    });
}

/// Two databases hold the same data: every table but the import runs and their warnings
/// (which depend on the runs, not on their result).
fn assert_same_result(a: &dyn Store, b: &dyn Store, what: &str) {
    let (mut x, mut y) = (snapshot(a), snapshot(b));
    for t in ["diagnostic", "import_run"] {
        x.remove(t);
        y.remove(t);
    }
    assert_same_database(&x, &y, what);
}

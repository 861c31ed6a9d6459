//! Re-imports and commit batches: what a user checks after importing a changed file again, and
//! after a run where one file of a batch was bad.

use crate::support::*;
use senda::import::FileStatus;

/// Rows per table that belong to activity `id` (by `activity_id`), read with plain SQL.
fn child_rows(db: &std::path::Path, iati_identifier: &str) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open database");
    let id: Option<i64> =
        conn.query_row("SELECT id FROM activity WHERE iati_identifier = ?1", [iati_identifier], |r| r.get(0)).ok();
    let tables =
        ["fact", "activity_doc", "activity_mapping", "mapping_evidence", "activity_location", "activity_result"];
    tables
        .iter()
        .map(|t| {
            let n: i64 = match id {
                Some(id) => {
                    conn.query_row(&format!("SELECT count(*) FROM {t} WHERE activity_id = ?1"), [id], |r| r.get(0))
                }
                // Gone: count rows pointing at no activity at all.
                None => conn.query_row(
                    &format!("SELECT count(*) FROM {t} WHERE activity_id NOT IN (SELECT id FROM activity)"),
                    [],
                    |r| r.get(0),
                ),
            }
            .expect("count rows");
            ((*t).to_owned(), n)
        })
        .collect()
}

/// An activity with a transaction in Guatemala, a keyword that maps it onto a line of effort,
/// a department location and a result indicator: a row in every per-activity table.
fn rich(id: &str, amount: &str) -> String {
    activity(
        id,
        &format!(
            r#"  <title><narrative>Reintegration of returned migrants</narrative></title>
  <recipient-country code="GT" percentage="100"/>
  <location><name><narrative>Huehuetenango</narrative></name><administrative vocabulary="G1" level="1" code="GT-HU"/></location>
  <result type="1"><title><narrative>Returnees assisted</narrative></title><indicator measure="1"><title><narrative>People</narrative></title></indicator></result>
{}"#,
            transaction("3", "2023-11-15", amount)
        ),
    )
}

#[test]
fn an_activity_gone_from_a_file_is_removed_with_all_its_rows() {
    let (dir, mut store) = db();
    let db_path = dir.path().join("senda.db");
    let f = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-RE-1", "100") + &rich("XM-RE-2", "250"))));
    let r1 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r1.created, r1.removed), (2, 0), "{}", dump(&r1));
    let before = child_rows(&db_path, "XM-RE-2");
    for (t, n) in &before {
        assert!(*n > 0, "the test activity has rows in {t}: {before:?}");
    }

    // The publisher drops XM-RE-2 from the file.
    write(dir.path(), "a.xml", doc("2.03", &rich("XM-RE-1", "100")));
    let r2 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r2.created, r2.updated, r2.unchanged, r2.removed), (0, 0, 1, 1), "{}", dump(&r2));
    assert!(!exists(&store, "XM-RE-2"));
    assert!(exists(&store, "XM-RE-1"));
    for (t, n) in child_rows(&db_path, "XM-RE-2") {
        assert_eq!(n, 0, "no row of the removed activity is left in {t}");
    }
    // Its money is gone from the report; the other activity's stays.
    let rep = by_country(&store);
    assert_eq!(row(&rep, "GT").usd.disbursements, dec("100"));
    assert_reconciles(&rep);
}

#[test]
fn a_bad_file_in_the_middle_of_a_commit_batch_is_rolled_back_alone() {
    // Files are committed in batches; a rejected file must not take the files before or after
    // it in the same batch with it, and must leave nothing of its own.
    let (dir, mut store) = db();
    let a = write(dir.path(), "a.xml", doc("2.03", &rich("XM-B-1", "10")));
    // Well-formed until the second activity: its first activity reaches the store before the
    // error is found.
    let b = write(
        dir.path(),
        "b.xml",
        format!("{}<iati-activity><iati-identifier>XM-B-3</iati-identifier><title></iati-activity>", {
            let d = doc("2.03", &rich("XM-B-2", "20"));
            d.trim_end().trim_end_matches("</iati-activities>").to_owned()
        }),
    );
    let c = write(dir.path(), "c.xml", doc("2.03", &rich("XM-B-4", "40")));
    let r = import(&mut store, &[a.clone(), b.clone(), c.clone()]);
    assert_eq!(status_of(&r, &a), Some(FileStatus::Imported), "{}", dump(&r));
    assert_eq!(status_of(&r, &b), Some(FileStatus::Rejected), "{}", dump(&r));
    assert_eq!(status_of(&r, &c), Some(FileStatus::Imported), "{}", dump(&r));
    assert!(exists(&store, "XM-B-1") && exists(&store, "XM-B-4"));
    assert!(!exists(&store, "XM-B-2"), "nothing of the rejected file is stored");
    assert_eq!(count(&store), 2);
    let rep = by_country(&store);
    assert_eq!(row(&rep, "GT").usd.disbursements, dec("50"));
    // The rejected file is read again next time (it is not recorded as imported).
    let again = import(&mut store, &[a, b.clone(), c]);
    assert_eq!(status_of(&again, &b), Some(FileStatus::Rejected));
    assert_eq!(again.files_unchanged, 2, "{}", dump(&again));
}

fn status_of(r: &senda::import::ImportReport, p: &std::path::Path) -> Option<FileStatus> {
    r.file_reports.iter().find(|f| std::path::Path::new(&f.path) == p).map(|f| f.status.clone())
}

#[test]
fn small_queues_never_stall_the_import() {
    // Workers read files ahead of the writer, which writes them in sorted order; at most
    // `max_in_flight` prepared activities of later files may wait. With a bound shared by every
    // file, the files after the one being written could fill it while that file's own worker
    // waited for room: the writer then waited for that file forever (seen as a hang on a
    // 200 MB corpus with a bound of 256). Tiny limits make that interleaving near-certain.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for f in 0..6 {
        let acts: String = (0..150).map(|i| rich(&format!("XM-Q-{f}-{i}"), "1")).collect();
        files.push(write(dir.path(), &format!("f{f}.xml"), doc("2.03", &acts)));
    }
    let db_path = dir.path().join("senda.db");
    let (done, finished) = std::sync::mpsc::channel();
    let run = {
        let files = files.clone();
        move || {
            let mut store = senda_store::SqliteStore::open(&db_path).expect("open");
            let limits = senda::import::Limits { workers: 2, lookahead: 2, max_in_flight: 4 };
            let r = senda::import::import_with(&mut store, &files, false, false, limits).expect("import runs");
            let _ = done.send((r.created, count(&store)));
        }
    };
    std::thread::spawn(run);
    // Generous: the import itself takes well under a second.
    let (created, stored) = finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the import finishes (it stalled: the writer waits for a worker that waits for the writer)");
    assert_eq!((created, stored), (900, 900));
}

#[test]
fn removing_or_adding_an_activity_before_others_keeps_the_others_unchanged() {
    // A publisher drops the first activity of a file, later adds one at the top: the other
    // activities only moved. They are the same rows, unchanged, never "duplicates" of their
    // own earlier position (that once deleted every activity of the file).
    let (dir, mut store) = db();
    let f =
        write(dir.path(), "f.xml", doc("2.03", &(rich("XM-O-P", "1") + &rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))));
    let r1 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!(r1.created, 3, "{}", dump(&r1));

    write(dir.path(), "f.xml", doc("2.03", &(rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))));
    let r2 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r2.created, r2.updated, r2.unchanged, r2.superseded, r2.removed), (0, 0, 2, 0, 1), "{}", dump(&r2));
    assert_eq!(r2.warnings, 0, "no duplicate warning: {}", dump(&r2));
    assert!(!exists(&store, "XM-O-P") && exists(&store, "XM-O-Q") && exists(&store, "XM-O-R"));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("6"));

    write(dir.path(), "f.xml", doc("2.03", &(rich("XM-O-N", "8") + &rich("XM-O-Q", "2") + &rich("XM-O-R", "4"))));
    let r3 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r3.created, r3.updated, r3.unchanged, r3.removed, r3.warnings), (1, 0, 2, 0, 0), "{}", dump(&r3));
    assert_eq!(count(&store), 3);
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("14"));

    // And the positions were recorded: the same file again changes nothing.
    let r4 = import_force(&mut store, std::slice::from_ref(&f));
    assert_eq!((r4.created, r4.updated, r4.unchanged, r4.removed, r4.warnings), (0, 0, 3, 0, 0), "{}", dump(&r4));
}

#[test]
fn a_real_file_without_its_first_activity_keeps_all_the_others() {
    let (dir, mut store) = db();
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati/us-gov/usaid-sv.xml");
    let text = std::fs::read_to_string(real).expect("real file");
    let f = write(dir.path(), "usaid-sv.xml", &text);
    let r1 = import(&mut store, std::slice::from_ref(&f));
    let before = count(&store);
    assert!(before > 100, "{}", dump(&r1));
    // Cut the first <iati-activity> element out.
    let start = text.find("<iati-activity").expect("an activity");
    let end = text[start..].find("</iati-activity>").expect("its end") + start + "</iati-activity>".len();
    write(dir.path(), "usaid-sv.xml", format!("{}{}", &text[..start], &text[end..]));
    let r2 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!(count(&store), before - 1, "{}", dump(&r2));
    assert_eq!((r2.created, r2.removed, r2.rejected), (0, 1, 0), "{}", dump(&r2));
    assert_eq!(r2.unchanged + r2.updated, before - 1);
}

#[test]
fn when_the_winning_copy_leaves_a_file_the_remaining_copy_takes_its_place() {
    // Two copies of one identifier in a file: the later last-updated-datetime wins. When the
    // publisher drops that copy, the other one is the activity now, not nothing.
    let (dir, mut store) = db();
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
    let r1 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r1.created, r1.superseded), (1, 1), "{}", dump(&r1));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("10"));

    // The older copy, now alone, loses to the stored row by the rule as it reads: it is kept
    // aside and takes the row when no copy in the file does.
    write(dir.path(), "f.xml", doc("2.03", &(rich("XM-FB-2", "5") + &copy("2024-01-01T00:00:00Z", "20"))));
    let r2 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r2.created, r2.updated, r2.removed, r2.warnings), (1, 1, 0, 0), "{}", dump(&r2));
    assert!(exists(&store, "XM-FB-1"));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("25"));

    // Both copies back: the later last-updated-datetime wins again, with its warning.
    write(
        dir.path(),
        "f.xml",
        doc("2.03", &(copy("2024-01-01T00:00:00Z", "20") + &copy("2024-06-01T00:00:00Z", "10"))),
    );
    let r3 = import(&mut store, std::slice::from_ref(&f));
    assert_eq!((r3.created, r3.updated, r3.removed, r3.superseded, r3.warnings), (0, 1, 1, 1, 1), "{}", dump(&r3));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("10"));
}

#[test]
fn when_the_stored_copy_leaves_its_file_a_copy_in_another_file_becomes_the_activity() {
    // X is in a.xml and b.xml; b.xml's copy is stored (same last-updated-datetime, later path).
    // When the publisher drops X from b.xml, X is not gone: a.xml still has it, and a.xml is
    // read again in the same run although it did not change.
    let (dir, mut store) = db();
    let a = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-CP-A", "1") + &rich("XM-CP-X", "111"))));
    let b = write(dir.path(), "b.xml", doc("2.03", &(rich("XM-CP-B", "2") + &rich("XM-CP-X", "222"))));
    let r1 = import(&mut store, &[a.clone(), b.clone()]);
    assert_eq!((r1.created, r1.warnings), (3, 1), "{}", dump(&r1));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("225"));

    write(dir.path(), "b.xml", doc("2.03", &rich("XM-CP-B", "2")));
    let r2 = import(&mut store, &[a.clone(), b.clone()]);
    assert!(exists(&store, "XM-CP-X"), "{}", dump(&r2));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("114"), "a.xml's copy, 111");
    // The row was removed with b.xml's copy and made again from a.xml's: for the run, one
    // activity updated (222 became 111), none created or removed.
    assert_eq!((r2.files, r2.removed, r2.created, r2.updated), (2, 0, 0, 1), "{r2:?}");
    let per_file: u64 = r2.file_reports.iter().map(|f| f.removed).sum();
    assert_eq!(per_file, 1, "b.xml's own figures say it lost the copy");
    assert_eq!(status_of(&r2, &a), Some(FileStatus::Imported), "a.xml read again");
    assert_eq!(count(&store), 3);
    // Then nothing changes.
    let r3 = import(&mut store, &[a.clone(), b.clone()]);
    assert_eq!((r3.created, r3.updated, r3.removed, r3.files_unchanged), (0, 0, 0, 2), "{r3:?}");

    // Also when only the changed file is named: a.xml takes X back again.
    write(dir.path(), "b.xml", doc("2.03", &(rich("XM-CP-B", "2") + &rich("XM-CP-X", "333"))));
    let _ = import(&mut store, &[a.clone(), b.clone()]);
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("336"), "b.xml's copy wins again");
    write(dir.path(), "b.xml", doc("2.03", &rich("XM-CP-B", "2")));
    let r4 = import(&mut store, std::slice::from_ref(&b));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("114"), "{}", dump(&r4));
}

/// `import --prune FOLDER`: what a user checks after deleting a file from the data folder.
#[test]
fn prune_forgets_the_files_gone_from_a_folder_and_only_those() {
    let (dir, mut store) = db();
    let db_path = dir.path().join("senda.db");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).expect("mkdir");
    // a.xml holds XM-PR-A1 (newer: it wins over b.xml's copy) and XM-PR-A2; b.xml holds XM-PR-B1
    // and an older copy of XM-PR-A1; sub/c.xml holds XM-PR-C1.
    let newer = rich("XM-PR-A1", "100").replace("2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z");
    let a = write(&data, "a.xml", doc("2.03", &(newer + &rich("XM-PR-A2", "250"))));
    write(&data, "b.xml", doc("2.03", &(rich("XM-PR-B1", "40") + &rich("XM-PR-A1", "7"))));
    write(&data.join("sub"), "c.xml", doc("2.03", &rich("XM-PR-C1", "5")));
    let r = import(&mut store, std::slice::from_ref(&data));
    assert_eq!((r.created, r.superseded), (4, 1), "{}", dump(&r));
    let money = |store: &senda_store::SqliteStore| row(&by_country(store), "GT").usd.disbursements;
    assert_eq!(money(&store), dec("395"), "100 + 250 + 40 + 5");

    let a_canonical = canonical(&a).display().to_string();
    std::fs::remove_file(&a).expect("delete a.xml");
    // Without --prune nothing is forgotten.
    let r = import(&mut store, std::slice::from_ref(&data));
    assert_eq!((r.removed, r.files_removed), (0, 0), "{}", dump(&r));
    assert_eq!(count(&store), 4);
    // Naming files one by one prunes nothing either.
    let r = senda::import::import_and_prune(&mut store, &[data.join("b.xml")], false, false).expect("import");
    assert_eq!((r.removed, r.files_removed), (0, 0), "{}", dump(&r));

    let r = senda::import::import_and_prune(&mut store, std::slice::from_ref(&data), false, false).expect("import");
    assert_eq!(r.files_removed, 1, "{}", dump(&r));
    let gone = r.file_reports.iter().find(|f| f.status == FileStatus::Removed).expect("a.xml reported");
    assert_eq!(gone.path, a_canonical);
    // Both of a.xml's activities were deleted; b.xml's copy of XM-PR-A1 is the activity now:
    // for the run, XM-PR-A2 removed and XM-PR-A1 updated (100 became 7).
    assert_eq!((r.removed, r.created, r.updated, r.transactions), (1, 0, 1, 1), "{}", dump(&r));
    assert!(!exists(&store, "XM-PR-A2"));
    assert!(exists(&store, "XM-PR-A1"));
    assert_eq!(count(&store), 3);
    assert_eq!(money(&store), dec("52"), "7 + 40 + 5: the report follows");
    for (t, n) in child_rows(&db_path, "XM-PR-A2") {
        assert_eq!(n, 0, "no row of a pruned activity is left in {t}");
    }
    // Pruning again finds nothing more to do.
    let r = senda::import::import_and_prune(&mut store, std::slice::from_ref(&data), false, false).expect("import");
    assert_eq!((r.removed, r.files_removed, r.created), (0, 0, 0), "{}", dump(&r));

    // Everything deleted: pruning the emptied folder is no error and empties the database.
    std::fs::remove_dir_all(&data).expect("rm");
    std::fs::create_dir(&data).expect("mkdir");
    let r = senda::import::import_and_prune(&mut store, std::slice::from_ref(&data), false, false).expect("import");
    assert_eq!((r.files_removed, r.removed), (2, 3), "{}", dump(&r));
    assert_eq!(count(&store), 0);
}

/// One copy of `XM-DUP` dated `last_updated`, titled `title`, disbursing `amount`.
fn dated_copy(last_updated: &str, title: &str, amount: &str) -> String {
    activity(
        "XM-DUP",
        &format!(
            "  <title><narrative>{title}</narrative></title>\n  <recipient-country code=\"GT\" percentage=\"100\"/>\n{}",
            transaction("3", "2023-11-15", amount)
        ),
    )
    .replace("2024-01-01T00:00:00Z", last_updated)
}

/// Bad-input trial finding 02: the file holding the other copy of a duplicate could not be
/// read when the stored copy left its file. The activity must come back once that file is
/// back with the same bytes, as a fresh import of the same files would have it.
#[test]
fn a_copy_that_could_not_take_over_does_when_its_file_is_back() {
    let (dir, mut store) = db();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    let f = write(&data, "f.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "copy in f", "1")));
    let g_text = doc("2.03", &dated_copy("2023-01-01T00:00:00Z", "copy in g", "2"));
    let g = write(&data, "g.xml", &g_text);
    import(&mut store, std::slice::from_ref(&data));
    assert_eq!(title(&store, "XM-DUP"), "copy in f");

    // f.xml drops the activity while g.xml is cut short: g's copy cannot take over now.
    write(&data, "f.xml", doc("2.03", ""));
    std::fs::write(&g, &g_text[..100]).expect("truncate");
    let r = import(&mut store, std::slice::from_ref(&f));
    assert_eq!(r.removed, 1, "{}", dump(&r));
    assert!(!exists(&store, "XM-DUP"));

    // g.xml back byte for byte: not "unchanged", read, and its copy is the activity.
    std::fs::write(&g, &g_text).expect("restore");
    let r = import(&mut store, std::slice::from_ref(&data));
    assert_eq!(r.created, 1, "{}", dump(&r));
    assert_eq!(title(&store, "XM-DUP"), "copy in g");

    // The same when g.xml was away (moved) instead of broken, with a warning naming it.
    let (dir2, mut store2) = db();
    let data2 = dir2.path().join("data");
    std::fs::create_dir(&data2).expect("mkdir");
    let f2 = write(&data2, "f.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "copy in f", "1")));
    let g2 = write(&data2, "g.xml", &g_text);
    import(&mut store2, std::slice::from_ref(&data2));
    let away = dir2.path().join("g.xml.away");
    std::fs::rename(&g2, &away).expect("move away");
    write(&data2, "f.xml", doc("2.03", ""));
    let r = import(&mut store2, std::slice::from_ref(&f2));
    let w = diags(&r, "copy-unavailable");
    assert_eq!(w.len(), 1, "{}", dump(&r));
    assert!(w[0].file.ends_with("g.xml"), "{}", w[0].file);
    std::fs::rename(&away, &g2).expect("move back");
    let r = import(&mut store2, std::slice::from_ref(&data2));
    assert_eq!(r.created, 1, "{}", dump(&r));
    assert_eq!(title(&store2, "XM-DUP"), "copy in g");
}

/// Bad-input trial finding 03: the stored copy's file is republished with an older
/// last-updated-datetime. The other file's copy, newer now, must win, as on a fresh import.
#[test]
fn a_winning_copy_republished_older_yields_to_a_newer_copy_elsewhere() {
    let (dir, mut store) = db();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    write(&data, "f.xml", doc("2.03", &dated_copy("2023-01-01T00:00:00Z", "f copy (2023)", "1")));
    write(&data, "g.xml", doc("2.03", &dated_copy("2024-01-01T00:00:00Z", "g copy (2024)", "2")));
    import(&mut store, std::slice::from_ref(&data));
    assert_eq!(title(&store, "XM-DUP"), "g copy (2024)");

    write(&data, "g.xml", doc("2.03", &dated_copy("2022-01-01T00:00:00Z", "g copy (2022)", "3")));
    let r = import(&mut store, std::slice::from_ref(&data));
    assert_eq!(title(&store, "XM-DUP"), "f copy (2023)", "{}", dump(&r));
    assert_eq!(row(&by_country(&store), "GT").usd.disbursements, dec("1"));
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
    let (_d2, mut fresh) = db();
    import(&mut fresh, std::slice::from_ref(&data));
    assert_eq!(ids_and_titles(&fresh), ids_and_titles(&store));
    let again = import(&mut store, std::slice::from_ref(&data));
    assert_eq!((again.created, again.updated, again.removed), (0, 0, 0), "{}", dump(&again));
}

/// Bad-input trial finding 10: in a re-imported file, the duplicate warning names the copy that
/// was stored, not the previous version's row.
#[test]
fn the_duplicate_warning_on_a_reimport_names_the_copy_that_won() {
    let (dir, mut store) = db();
    let two = |first: &str| {
        doc("2.03", &(dated_copy(first, "Title 1", "1") + &dated_copy("2023-01-01T00:00:00Z", "Title 2", "2")))
    };
    let f = write(dir.path(), "f.xml", two("2024-01-01T00:00:00Z"));
    import(&mut store, std::slice::from_ref(&f));
    assert_eq!(title(&store, "XM-DUP"), "Title 1");
    write(dir.path(), "f.xml", two("2022-01-01T00:00:00Z"));
    let r = import(&mut store, std::slice::from_ref(&f));
    assert_eq!(title(&store, "XM-DUP"), "Title 2");
    let w = diags(&r, "duplicate-identifier");
    assert_eq!(w.len(), 1, "{}", dump(&r));
    assert!(
        w[0].message.contains("(activity #2) wins") && w[0].message.contains("this one (activity #1) is not stored"),
        "{}",
        w[0].message
    );
    assert_eq!((r.updated, r.superseded), (1, 1), "{}", dump(&r));
}

/// Bad-input trial finding 09: one identifier in three files of one run. The database gains one
/// activity with one transaction, whichever copy wins; the counts say so (one created, two
/// superseded, one transaction), not "1 created, 2 updated, 3 transactions".
#[test]
fn copies_in_several_files_of_one_run_count_as_the_one_change_they_make() {
    for dates in [["2022", "2023", "2024"], ["2024", "2023", "2022"], ["2023", "2023", "2023"]] {
        let (dir, mut store) = db();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        for (i, year) in dates.iter().enumerate() {
            let copy = dated_copy(&format!("{year}-01-01T00:00:00Z"), &format!("copy {i}"), &format!("{}", i + 1));
            write(&data, &format!("f{i}.xml"), doc("2.03", &copy));
        }
        let r = import(&mut store, std::slice::from_ref(&data));
        assert_eq!((r.created, r.updated, r.superseded, r.transactions), (1, 0, 2, 1), "dates {dates:?}: {}", dump(&r));
        assert_eq!(count(&store), 1);
        let again = import(&mut store, std::slice::from_ref(&data));
        assert_eq!((again.created, again.updated, again.transactions), (0, 0, 0), "{}", dump(&again));
    }
}

/// Bad-input trial finding 11 (minor): reading unchanged files again (`--force`) left the
/// database as it was but dropped every cached view of the dashboard (the data generation moved
/// once per file). It moves only when an activity changes.
#[test]
fn a_forced_reimport_that_changes_nothing_keeps_the_data_generation() {
    use senda_store::Store;
    let (dir, mut store) = db();
    let f = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-GEN-1", "100") + &rich("XM-GEN-2", "5"))));
    import(&mut store, std::slice::from_ref(&f));
    let g0 = store.generation().expect("generation");
    let r = import_force(&mut store, std::slice::from_ref(&f));
    assert_eq!((r.files_imported, r.unchanged), (1, 2), "{}", dump(&r));
    assert_eq!(store.generation().expect("generation"), g0, "nothing changed: caches stay valid");
    write(dir.path(), "a.xml", doc("2.03", &(rich("XM-GEN-1", "100") + &rich("XM-GEN-2", "6"))));
    import(&mut store, std::slice::from_ref(&f));
    assert!(store.generation().expect("generation") > g0, "a changed activity moves it");
}

/// Second bad-input round, findings 01 and 02: files each holding a copy that is identical in
/// several files and an older copy of the same identifier. Once an identical copy took the row
/// from another file, the older copy after it was taken for "this file's previous version" and
/// replaced it: a fresh import stored the older copy, and later runs kept changing the database.
#[test]
fn an_older_copy_after_an_identical_copy_from_another_file_never_wins() {
    let both = doc(
        "2.03",
        &(dated_copy("2024-01-01T00:00:00Z", "new 2024", "2") + &dated_copy("2023-01-01T00:00:00Z", "old 2023", "3")),
    );
    let (dir, mut store) = db();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    for f in ["a.xml", "b.xml", "c.xml", "d.xml"] {
        write(&data, f, &both);
    }
    let r = import(&mut store, std::slice::from_ref(&data));
    assert_eq!(title(&store, "XM-DUP"), "new 2024", "{}", dump(&r));
    assert_eq!((r.files, r.created, r.updated), (4, 1, 0), "{}", dump(&r));
    for _ in 0..2 {
        let again = import(&mut store, std::slice::from_ref(&data));
        assert_eq!((again.created, again.updated, again.removed), (0, 0, 0), "{}", dump(&again));
        assert_eq!(title(&store, "XM-DUP"), "new 2024");
    }
    // A file holding the identifier twice, renamed, then pruned: the newer copy stays.
    let (dir2, mut store2) = db();
    let d2 = dir2.path().join("d");
    std::fs::create_dir(&d2).expect("mkdir");
    let a = write(&d2, "a.xml", &both);
    import(&mut store2, std::slice::from_ref(&d2));
    std::fs::rename(&a, d2.join("z.xml")).expect("rename");
    senda::import::import_and_prune(&mut store2, std::slice::from_ref(&d2), false, false).expect("import");
    assert_eq!(title(&store2, "XM-DUP"), "new 2024");
    assert_eq!(row(&by_country(&store2), "GT").usd.disbursements, dec("2"));
}

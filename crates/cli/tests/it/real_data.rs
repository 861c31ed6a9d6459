//! Tests on the real files in `../shared/data/iati/` (read from there, never copied).
//!
//! - The labelled evaluation of the mapping rules is in `mapping_eval` (both strategies).
//! - `independent_totals`: a separate computation of the by-country totals over the same
//!   files (method in its doc comment), which `conformance::real_data` compares with the
//!   report on every backend.

use quick_xml::Reader;
use quick_xml::events::Event;
use rust_decimal::Decimal;
use senda_core::Strategy;
use senda_core::mapping::Mapper;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati")
}

/// Independent computation, written without Senda's reader, mapping or report code: quick-xml
/// events over each file in sorted path order; per activity, remember the activity-level
/// `recipient-country` codes with `@percentage` and every transaction of type 2, 3 or 4 with
/// its `value` (USD only; these files have no other currency) and its own
/// `recipient-country`. A transaction's own country takes all of it; otherwise activity-level
/// countries share it by percentage (equal shares without percentages) and the remainder (or
/// everything when no country is named) goes to REGIONAL. An identifier seen again in a later
/// file replaces the earlier one (these files' duplicates have equal last-updated-datetime).
/// Sums are exact decimals; Senda rounds each split to the cent, so per-country totals may
/// differ by at most one cent per split transaction.
pub(crate) fn independent_totals(files: &[PathBuf]) -> (BTreeMap<(String, String), Decimal>, u64) {
    struct Act {
        countries: Vec<(String, Option<Decimal>)>,
        txs: Vec<(String, Decimal, Option<String>)>,
    }
    let mut acts: BTreeMap<String, Act> = BTreeMap::new();
    for f in files {
        let mut r = Reader::from_file(f).expect("open");
        let mut buf = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut id = String::new();
        let mut cur = Act { countries: vec![], txs: vec![] };
        let mut tx: Option<(String, Decimal, Option<String>)> = None;
        let mut text = String::new();
        loop {
            let ev = r.read_event_into(&mut buf).expect("well-formed");
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    let attr = |k: &str| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == k.as_bytes())
                            .map(|a| a.unescape_value().expect("attr").trim().to_owned())
                    };
                    let parent = path.last().cloned().unwrap_or_default();
                    match (parent.as_str(), name.as_str()) {
                        ("iati-activity", "recipient-country") => cur
                            .countries
                            .push((attr("code").unwrap_or_default(), attr("percentage").and_then(|p| p.parse().ok()))),
                        ("iati-activity", "transaction") => tx = Some((String::new(), Decimal::ZERO, None)),
                        ("transaction", "transaction-type") => {
                            if let Some(t) = tx.as_mut() {
                                t.0 = attr("code").unwrap_or_default();
                            }
                        }
                        ("transaction", "recipient-country") => {
                            if let Some(t) = tx.as_mut() {
                                t.2 = attr("code");
                            }
                        }
                        _ => {}
                    }
                    text.clear();
                    if matches!(ev, Event::Start(_)) {
                        path.push(name);
                    }
                }
                Event::Text(t) => text.push_str(&String::from_utf8_lossy(&t)),
                Event::End(_) => {
                    let name = path.pop().unwrap_or_default();
                    let parent = path.last().cloned().unwrap_or_default();
                    match (parent.as_str(), name.as_str()) {
                        ("iati-activity", "iati-identifier") => id = text.trim().to_owned(),
                        ("transaction", "value") => {
                            if let Some(t) = tx.as_mut() {
                                t.1 = text.trim().parse().expect("amount");
                            }
                        }
                        ("iati-activity", "transaction") => {
                            if let Some(t) = tx.take()
                                && ["2", "3", "4"].contains(&t.0.as_str())
                            {
                                cur.txs.push(t);
                            }
                        }
                        ("iati-activities", "iati-activity") => {
                            acts.insert(
                                std::mem::take(&mut id),
                                std::mem::replace(&mut cur, Act { countries: vec![], txs: vec![] }),
                            );
                        }
                        _ => {}
                    }
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    let mut out: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut splits = 0u64;
    for a in acts.values() {
        for (ty, v, c) in &a.txs {
            if let Some(c) = c {
                *out.entry((c.clone(), ty.clone())).or_default() += *v;
                continue;
            }
            if a.countries.is_empty() {
                *out.entry(("REGIONAL".into(), ty.clone())).or_default() += *v;
                continue;
            }
            splits += 1;
            let any_pct = a.countries.iter().any(|(_, p)| p.is_some());
            let mut given = Decimal::ZERO;
            for (code, p) in &a.countries {
                let share = if any_pct {
                    *v * p.unwrap_or_default() / Decimal::ONE_HUNDRED
                } else {
                    *v / Decimal::from(a.countries.len())
                };
                given += share;
                *out.entry((code.clone(), ty.clone())).or_default() += share;
            }
            if any_pct && given != *v {
                *out.entry(("REGIONAL".into(), ty.clone())).or_default() += *v - given;
            }
        }
    }
    (out, splits)
}

/// The import maps with [`senda_core::mapping::MapperSet`] (one keyword scan per text for
/// every strategy and language); `senda explain` and re-mapping use each [`Mapper`] alone.
/// Over every real activity both give the same lines of effort and the same evidence, in the
/// same order, for both built-in strategies.
#[test]
fn one_scan_for_all_strategies_maps_like_each_strategy_alone() {
    let strategies = Strategy::all_builtin().expect("strategies");
    let set = senda_core::mapping::MapperSet::new(&strategies);
    let alone: Vec<Mapper> = strategies.iter().map(Mapper::new).collect();
    let (mut activities, mut mapped) = (0u32, 0u32);
    for_each_real_activity(|name, a| {
        let together = set.map_all(a);
        assert_eq!(together.len(), alone.len());
        for ((id, m), single) in together.iter().zip(&alone) {
            assert_eq!(*id, single.strategy_id());
            assert_eq!(m, &single.map(a), "{} in {name}, strategy {id}", a.iati_identifier);
            mapped += u32::from(!m.lines_of_effort.is_empty());
        }
        activities += 1;
    });
    assert!(activities > 2000 && mapped > 500, "{activities} activities, {mapped} mapped");
}

#[test]
fn the_stored_facts_are_the_compacted_attribution_of_every_real_activity() {
    // The import builds facts on borrowed strings (`compact_facts`); it must give exactly the
    // facts of the documented two steps, `compact(facts(a))`.
    use senda_core::attribution::{compact, compact_facts, facts};
    let (mut activities, mut split) = (0u32, 0u32);
    let mut check = |name: &str, a: &senda_core::Activity| {
        let all = facts(a);
        split += u32::from(all.iter().filter(|f| f.transaction_index.is_some()).count() > a.transactions.len());
        assert_eq!(compact_facts(a), compact(all), "{} in {name}", a.iati_identifier);
        activities += 1;
    };
    for_each_real_activity(&mut check);
    // The real files split no transaction; the fixtures do (60 % country and 40 % region,
    // several sectors, ...). Bad fixtures are read up to their first fatal error.
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = walk(&fixtures);
    files.sort();
    for file in files {
        let name = file.display().to_string();
        let Ok(mut r) = senda_iati::open_file(&file, &name) else { continue };
        while let Ok(Some(p)) = r.next_activity() {
            if let Some(a) = p.activity {
                check(&name, &a);
            }
        }
    }
    assert!(activities > 2000, "{activities} activities");
    assert!(split > 0, "some fixture transactions are split over several countries, sectors or implementers");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("fixtures folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
    out
}

/// Calls `f` with the file name and each activity of the real IATI files (`us-gov` and
/// `us-gov-region`), in sorted file order.
fn for_each_real_activity(mut f: impl FnMut(&str, &senda_core::Activity)) {
    for folder in ["us-gov", "us-gov-region"] {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(shared().join(folder)).expect("data folder").map(|e| e.expect("entry").path()).collect();
        files.sort();
        for file in files {
            let name = file.display().to_string();
            let mut r = senda_iati::open_file(&file, &name).expect("opens");
            while let Some(p) = r.next_activity().expect("well-formed real file") {
                if let Some(a) = p.activity {
                    f(&name, &a);
                }
            }
        }
    }
}

/// `text` with every `last-updated-datetime` and `generated-datetime` value replaced by
/// `stamp`, as a publisher's daily regeneration does (nothing else touched).
pub(crate) fn restamped(text: &str, stamp: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["last-updated-datetime=\"", "generated-datetime=\""]
        .iter()
        .filter_map(|k| rest.find(k).map(|i| i + k.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        out.push_str(stamp);
        let end = rest[at..].find('"').expect("closing quote") + at;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Issue 20 item 12 on the real files: the regional files regenerated with new timestamps are
/// all only restamped (no activity read again), and the database is the one a fresh import of
/// the new bytes makes.
#[test]
fn the_real_files_regenerated_with_new_timestamps_are_only_restamped() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let files: Vec<PathBuf> = {
        let mut f = walk(&shared().join("us-gov-region"));
        f.sort();
        f
    };
    assert!(files.len() >= 4, "the regional files are there");
    let copy = |stamp: Option<&str>| {
        for f in &files {
            let text = std::fs::read_to_string(f).expect("UTF-8 file");
            let text = match stamp {
                Some(s) => restamped(&text, s),
                None => text,
            };
            std::fs::write(dir.path().join(f.file_name().expect("name")), text).expect("write");
        }
    };
    copy(None);
    let folder = vec![dir.path().to_path_buf()];
    let db_dir = tempfile::tempdir().expect("temporary folder");
    let open = |name: &str| {
        senda_store::open(&db_dir.path().join(name).display().to_string(), senda_store::OpenMode::Create)
            .expect("database")
    };
    let mut db = open("a.db");
    let first = senda::import::import(&mut *db, &folder, false, false).expect("import");
    assert!(first.created > 300, "{} created", first.created);

    copy(Some("2026-12-08T06:00:00Z"));
    let again = senda::import::import(&mut *db, &folder, false, false).expect("import");
    let statuses: Vec<_> = again.file_reports.iter().map(|f| (f.path.clone(), f.status.clone())).collect();
    assert_eq!(again.files_restamped, files.len() as u64, "{statuses:#?}");
    assert_eq!((again.created, again.updated), (0, 0));
    let mut printed = Vec::new();
    senda::commands::print_import_report(&again, &mut printed).expect("print");
    let printed = String::from_utf8_lossy(&printed);
    let n = files.len();
    assert!(printed.contains(&format!("({n} with new timestamps only)")), "{printed}");
    assert!(printed.contains(&format!("only the stored timestamps of {n} files moved")), "{printed}");
    assert_eq!(again.unchanged, db.count_activities().expect("count"), "every stored activity unchanged");

    let mut fresh = open("b.db");
    senda::import::import(&mut *fresh, &folder, false, false).expect("import");
    let (mut x, mut y) = (crate::conformance::snapshot(&*db), crate::conformance::snapshot(&*fresh));
    for t in ["diagnostic", "import_run"] {
        x.remove(t);
        y.remove(t);
    }
    crate::conformance::assert_same_database(&x, &y, "restamped vs fresh");
}

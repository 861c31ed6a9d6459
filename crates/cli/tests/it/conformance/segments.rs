//! Fact segments on every backend (issue 16, point 6): whatever writes facts (an import, a
//! re-import that updates or removes activities, a removed file, a copy), every segment a
//! reader loads equals the `fact` rows it stands for, stale or refreshed, and reports over
//! the loaded segments equal reports over `fact`. A reader reloads only what changed.

use super::*;
use crate::support::*;
use senda_core::facts::SEGMENT_SPAN;
use senda_store::Override;
use senda_store::rules::segments::{LoadedFacts, load};

/// A sink of facts.
type Sink<'a> = &'a mut dyn FnMut(senda_core::report::FactRef<'_>);

/// Every fact `rows` gives, as sorted text.
fn facts_text(rows: &mut dyn FnMut(Sink<'_>)) -> Vec<String> {
    let mut out = Vec::new();
    rows(&mut |f| {
        let year = f.date.map(|d| (d.year(), senda_core::codes::FiscalYear::of(d).0));
        out.push(format!(
            "{} {} {:?} {} {} {:?} {:?} {}",
            f.activity, f.transaction_type, year, f.currency, f.country, f.sector, f.implementing_org, f.amount
        ));
    });
    out.sort();
    out
}

/// Checks every segment against `fact`, and reports over the loaded facts against reports
/// over `fact`; returns the load.
fn check(s: &dyn Store, what: &str, previous: Option<&LoadedFacts>) -> LoadedFacts {
    let loaded = load(s, previous).unwrap_or_else(|e| panic!("{what}: load segments: {e}"));
    // Each stored (not stale) segment decodes to exactly its facts.
    for st in s.fact_segment_states().expect("segment states") {
        let lo = st.segment * SEGMENT_SPAN;
        let want = facts_text(&mut |f| s.for_each_fact_between(lo, lo + SEGMENT_SPAN, f).expect("facts"));
        if !st.stale {
            let bytes = s.fact_segment_bytes(st.segment).expect("bytes").expect("a row");
            let seg = senda_store::codec::decode_segment(&bytes).unwrap_or_else(|e| panic!("{what}: decode: {e}"));
            let got = facts_text(&mut |f| seg.for_each(f));
            assert_eq!(got, want, "{what}: stored segment {} equals its facts", st.segment);
        }
    }
    // Classes read from the activities, and as the server makes them (organisations from the
    // segments, lines from the mapping): the same reports as over `fact`.
    let from_rows = s.activity_classes(STRATEGY).expect("classes");
    let from_segments = senda_store::activity_classes_for(s, STRATEGY, &loaded.table).expect("classes");
    for dims in groupings() {
        let over_fact = format!("{:?}", report_of(s, dims.clone()));
        for (how, classes) in [("activity rows", &from_rows), ("segments", &from_segments)] {
            let over_segments = loaded.table.report(classes, dims.clone(), false, Default::default());
            assert_eq!(format!("{over_segments:?}"), over_fact, "{what}: report by {dims:?}, classes from {how}");
        }
    }
    loaded
}

fn two_transactions(id: &str, amount: &str) -> String {
    activity(
        id,
        &format!(
            "  <title><narrative>Reintegration of returned migrants</narrative></title>\n  <recipient-country code=\"HN\" percentage=\"60\"/>\n  <recipient-country code=\"GT\" percentage=\"40\"/>\n{}\n{}",
            transaction("2", "2022-10-01", amount),
            transaction("3", "2023-03-15", "12.345")
        ),
    )
}

#[test]
fn segments_equal_the_facts_after_every_kind_of_write() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a =
            write(dir.path(), "a.xml", doc("2.03", &(rich("XM-SG-1", "100") + &two_transactions("XM-SG-2", "250.5"))));
        let c = write(dir.path(), "c.xml", doc("2.03", &rich("XM-SG-3", "7")));
        import(&mut *db, &[a.clone(), c.clone()]);
        db.set_override(
            &senda_store::accounts::Actor::cli(),
            &Override {
                iati_identifier: "XM-SG-2".into(),
                strategy: STRATEGY.into(),
                lines_of_effort: vec![],
                note: "not this strategy".into(),
                created_at: "2026-12-07T00:00:00Z".into(),
            },
            1,
        )
        .expect("override");
        let first = check(&*db, "after the first import and an override", None);
        assert_eq!(first.counts.2, 0, "the import refreshed its segments: none is built from the facts");
        assert!(first.table.len() >= 4, "the segments hold the facts ({})", first.table.len());

        // An update (new amount) and a removal (XM-SG-1 gone from a.xml).
        write(dir.path(), "a.xml", doc("2.03", &two_transactions("XM-SG-2", "999.99")));
        let r = import(&mut *db, std::slice::from_ref(&a));
        assert_eq!((r.updated, r.removed), (1, 1), "{}", dump(&r));
        check(&*db, "after an update and a removal", None);

        // A file removed through the store, without a refresh: its segment is stale, and a
        // reader builds it from the facts.
        let out = db.remove_file(&c.display().to_string()).expect("remove file");
        assert_eq!(out.removed, 1);
        let stale = db.fact_segment_states().expect("states").iter().filter(|s| s.stale).count();
        assert_eq!(stale, 1, "the removal marked its segment stale");
        let l = check(&*db, "after a removal, before the refresh", None);
        assert_eq!(l.counts.2, 1, "the stale segment was built from the facts");
        assert_eq!(db.refresh_fact_segments().expect("refresh"), 1);
        assert_eq!(db.refresh_fact_segments().expect("refresh again"), 0, "nothing stale is left");
        let l = check(&*db, "after the refresh", None);
        assert_eq!(l.counts, (0, 1, 0));

        // A copy moves the segments with the rest, and they still equal the facts.
        let mut to = b.db();
        let proof = senda_store::copy_database(&*db, &mut *to, false).expect("copy");
        assert!(proof.ok(), "{proof:?}");
        check(&*to, "in a copy", None);
    });
}

#[test]
fn a_reader_reuses_the_segments_a_write_did_not_change() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(dir.path(), "a.xml", doc("2.03", &(rich("XM-RU-1", "100") + &rich("XM-RU-2", "5"))));
        import(&mut *db, std::slice::from_ref(&a));
        let first = check(&*db, "first load", None);
        assert_eq!(first.counts, (0, 1, 0), "one segment decoded");

        // An override changes the generation, not the facts: the segment is reused.
        db.set_override(
            &senda_store::accounts::Actor::cli(),
            &Override {
                iati_identifier: "XM-RU-1".into(),
                strategy: STRATEGY.into(),
                lines_of_effort: vec!["LOE1".into()],
                note: "test".into(),
                created_at: "2026-12-07T00:00:00Z".into(),
            },
            1,
        )
        .expect("override");
        let second = check(&*db, "after an override", Some(&first));
        assert!(second.generation > first.generation);
        assert_eq!(second.counts, (1, 0, 0), "the unchanged segment is reused, not read again");

        // New facts: the segment is read again.
        write(dir.path(), "a.xml", doc("2.03", &(rich("XM-RU-1", "100") + &rich("XM-RU-2", "6"))));
        import(&mut *db, std::slice::from_ref(&a));
        let third = check(&*db, "after new facts", Some(&second));
        assert_eq!(third.counts, (0, 1, 0), "the changed segment is decoded again");
    });
}

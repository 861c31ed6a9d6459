//! Confidence, near misses and the review queue (issue 19, item 4), on every backend: what the
//! rules were unsure of is stored with the mapping, read back the same, and listed by money at
//! stake until an analyst decides it.

use super::*;
use crate::support::*;
use senda_core::mapping::{NearMissReason, Strength};
use senda_store::{Override, ReviewFilter, review_queue};

/// A root-causes programme that names returned migrants once in its description (LOE5 on weak
/// evidence), a returnee programme whose description says its people are only likely migrants
/// (the LOE5 rule's veto: a near miss), and a migration-management programme coded DAC 15190
/// (LOE6 on strong evidence).
fn portfolio() -> String {
    let act = |id: &str, title: &str, description: &str, extra: &str, amount: &str| {
        activity(
            id,
            &format!(
                "  <title><narrative>{title}</narrative></title>\n  <description><narrative>{description}</narrative></description>\n  <recipient-country code=\"GT\" percentage=\"100\"/>\n{extra}\n{}",
                transaction("3", "2022-09-30", amount)
            ),
        )
    };
    doc(
        "2.03",
        &(act("XM-RV-WEAK", "Rural roads", "Roads for farmers, including returned migrants.", "", "1000")
            + &act(
                "XM-RV-VETO",
                "Jobs for youth",
                "Jobs for young people, returnees and likely migrants.",
                "",
                "5000",
            )
            + &act(
                "XM-RV-STRONG",
                "Migration governance",
                "Capacity of the migration institute.",
                "  <sector vocabulary=\"1\" code=\"15190\"/>",
                "9000",
            )),
    )
}

#[test]
fn confidence_near_misses_and_the_review_queue_are_the_same_on_every_backend() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let f = write(dir.path(), "p.xml", portfolio());
        import(&mut *db, std::slice::from_ref(&f));

        let weak = db.activity("XM-RV-WEAK", STRATEGY).expect("weak");
        assert_eq!(weak.rule_lines, ["LOE5"]);
        assert_eq!(senda_core::mapping::confidence_of(&weak.evidence, "LOE5"), Some(Strength::Weak));
        let strong = db.activity("XM-RV-STRONG", STRATEGY).expect("strong");
        assert_eq!(senda_core::mapping::confidence_of(&strong.evidence, "LOE6"), Some(Strength::Strong));
        let veto = db.activity("XM-RV-VETO", STRATEGY).expect("veto");
        assert!(veto.rule_lines.is_empty(), "{:?}", veto.rule_lines);
        let near = veto.near_misses.iter().find(|n| n.line_of_effort == "LOE5").expect("a near miss for LOE5");
        assert_eq!(near.reason, NearMissReason::Veto { phrase: "likely migrants".into() });

        // Largest money at stake first; the strong mapping is not listed.
        let queue = review_queue(&*db, STRATEGY, &ReviewFilter::default()).expect("queue");
        let ids: Vec<&str> = queue.iter().map(|e| e.iati_identifier.as_str()).collect();
        assert_eq!(ids, ["XM-RV-VETO", "XM-RV-WEAK"]);
        assert_eq!(queue[0].money_usd, "5000");
        assert_eq!(queue[0].near_lines, ["LOE5"]);
        assert_eq!(queue[0].command, "senda map set XM-RV-VETO LOE5 --strategy cmms-2021 --note \"reviewed: <why>\"");
        assert_eq!(queue[1].weak_lines, ["LOE5"]);
        assert_eq!(queue[1].confidence, [Strength::Weak]);
        // Filters: another line of effort, another country.
        let only = |l: Option<&str>, c: Option<&str>| {
            let f = ReviewFilter { line_of_effort: l.map(str::to_owned), country: c.map(str::to_owned), limit: None };
            review_queue(&*db, STRATEGY, &f).expect("queue").len()
        };
        assert_eq!(only(Some("LOE5"), Some("GT")), 2);
        assert_eq!(only(Some("LOE2"), None), 0);
        assert_eq!(only(None, Some("HN")), 0);

        // An analyst's decision takes an entry out of the queue.
        db.set_override(
            &senda_store::accounts::Actor::cli(),
            &Override {
                iati_identifier: "XM-RV-VETO".into(),
                strategy: STRATEGY.into(),
                lines_of_effort: vec![],
                note: "reviewed: likely migrants, not returnees".into(),
                created_at: "2025-01-01T00:00:00Z".into(),
            },
            1,
        )
        .expect("override");
        let queue = review_queue(&*db, STRATEGY, &ReviewFilter::default()).expect("queue");
        assert_eq!(queue.iter().map(|e| e.iati_identifier.as_str()).collect::<Vec<_>>(), ["XM-RV-WEAK"]);

        // A re-mapping stores the same signals.
        let st = senda_core::Strategy::builtin(STRATEGY).expect("strategy");
        let m = senda_core::mapping::Mapper::new(&st);
        db.remap(STRATEGY, "again", &|a| m.map(a)).expect("remap");
        let again = db.activity("XM-RV-VETO", STRATEGY).expect("veto");
        assert_eq!(again.near_misses, veto.near_misses);
        assert_eq!(review_queue(&*db, STRATEGY, &ReviewFilter::default()).expect("queue").len(), 1);
    });
}

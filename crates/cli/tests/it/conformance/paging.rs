//! Keyset paging, on every backend and across them: for every sort and a few filters, pages of
//! any size visit every matching row exactly once, in the documented order (titles by
//! `title_key` compared as bytes, then identifier), and both backends give the same pages.

use super::*;
use crate::support::*;
use senda_core::report::NOT_MAPPED;
use senda_store::rules::sort_key::title_key;
use senda_store::{ActivityCursor, ActivitySort, Override};
use std::collections::HashSet;

/// Titles that collate differently by locale: accents, ñ, upper and lower case, identical
/// titles (the identifier breaks the tie), titles that differ only by case or accent, a German
/// sharp s, a dotted capital I, non-Latin script, an emoji, leading punctuation and digits.
const TITLES: &[&str] = &[
    "Ámbito rural",
    "ámbito rural",
    "AMBITO RURAL",
    "ambito urbano",
    "Éxito escolar",
    "ejemplo de apoyo",
    "Ñandú y ñu",
    "nandu",
    "Niño seguro",
    "niños y niñas",
    "zeta",
    "Zeta",
    "ZETA",
    "Same title",
    "Same title",
    "Same title",
    "same title",
    "Straße",
    "STRASSE",
    "İzmir",
    "izmir",
    "Árbol",
    "arbol",
    "Øresund",
    "Ωmega",
    "ωmega",
    "Оценка",
    "😀 emoji",
    "(paréntesis)",
    "2023 plan",
    "Reintegration of returned migrants",
    "reintegración de retornados",
    "Apoyo a personas retornadas",
    "",
];

/// The test portfolio: one activity per title, in three countries, with disbursements and
/// commitments that tie, start dates that tie or are missing, some mapped to LOE5 (returned
/// migrants), the others not mapped. Identifiers are given out of order.
fn portfolio() -> String {
    let mut acts = String::new();
    for (i, t) in TITLES.iter().enumerate() {
        let id = format!("XM-PG-{:03}", (i * 37) % 101);
        let country = ["GT", "HN", "SV"][i % 3];
        let returnees = if i % 4 == 0 { " for returned migrants" } else { "" };
        let start = if i % 5 == 0 {
            String::new()
        } else {
            format!("  <activity-date type=\"2\" iso-date=\"202{}-0{}-01\"/>\n", i % 3, 1 + i % 2)
        };
        let disb = ["100", "250.5", "100", "0.25", "1000000", "99.999999"][i % 6];
        let commit = ["5000", "5000", "12.5"][i % 3];
        let implementer = if i % 3 == 1 {
            "  <participating-org role=\"4\"><narrative>ÁGORA Cooperación</narrative></participating-org>\n"
        } else {
            ""
        };
        let inner = format!(
            "  <title><narrative>{t}</narrative></title>\n  <description><narrative>Programme{returnees}</narrative></description>\n{implementer}  <recipient-country code=\"{country}\" percentage=\"100\"/>\n{start}{}\n{}",
            transaction("3", "2023-11-15", disb),
            transaction("2", "2022-11-15", commit)
        );
        acts.push_str(&activity(&id, &inner));
    }
    doc("2.03", &acts)
}

/// The filters paged through.
fn filters() -> Vec<(String, ActivityFilter)> {
    let f = |text: &str, adjust: &dyn Fn(&mut ActivityFilter)| {
        let mut filter = all();
        adjust(&mut filter);
        (text.to_owned(), filter)
    };
    vec![
        f("all", &|_| {}),
        f("country GT", &|x| x.country = Some("GT".into())),
        f("line of effort LOE5", &|x| x.line_of_effort = Some("LOE5".into())),
        f("not mapped", &|x| x.line_of_effort = Some(NOT_MAPPED.into())),
        f("text 'rural'", &|x| x.text = Some("rural".into())),
        f("text 'RURAL' (case)", &|x| x.text = Some("RURAL".into())),
        f("text 'Ámbito' (as written)", &|x| x.text = Some("Ámbito".into())),
        f("text 'niñ'", &|x| x.text = Some("niñ".into())),
        f("implementer 'ÁGORA Cooperación' (as written)", &|x| x.implementing_org = vec!["ÁGORA Cooperación".into()]),
        f("implementer 'ÁGORA COOPERACIóN' (its ASCII letters in another case)", &|x| {
            x.implementing_org = vec!["ÁGORA COOPERACIóN".into()]
        }),
        f("country SV, not mapped, text 'e'", &|x| {
            x.country = Some("SV".into());
            x.line_of_effort = Some(NOT_MAPPED.into());
            x.text = Some("e".into());
        }),
    ]
}

/// Pages through `filter` in `sort` with pages of `limit` rows, cursor from each page's last
/// row (without a row id, as a cursor from another server or data generation comes).
fn pages(s: &dyn Store, filter: &ActivityFilter, sort: ActivitySort, limit: u64) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<ActivityCursor> = None;
    for _ in 0..1000 {
        let f = ActivityFilter { sort, after: after.clone(), limit: Some(limit), ..filter.clone() };
        let page = s.list_activities(&f).expect("page");
        assert!(page.len() as u64 <= limit);
        // The id list for the same page is the same rows.
        let ids = s.matching_activity_ids(&f).expect("ids");
        assert_eq!(ids, page.iter().map(|r| r.db_id).collect::<Vec<_>>(), "{} page ids", sort.name());
        let Some(last) = page.last() else { break };
        after = Some(ActivityCursor {
            sort_value: sort.value_of(last),
            iati_identifier: last.iati_identifier.clone(),
            db_id: None,
        });
        seen.extend(page.iter().map(|r| r.iati_identifier.clone()));
        if (page.len() as u64) < limit {
            break;
        }
    }
    seen
}

/// The documented order of `rows`, computed here: the sort key (titles by `title_key` as
/// bytes; start dates newest first, missing last; money by value, largest first), then the
/// identifier.
fn expected_order(rows: &[ActivityRow], sort: ActivitySort) -> Vec<String> {
    let mut v: Vec<&ActivityRow> = rows.iter().collect();
    let money = |s: &str| s.parse::<f64>().unwrap_or_else(|e| panic!("{s:?}: {e}"));
    v.sort_by(|a, b| {
        let by_key = match sort {
            ActivitySort::Identifier => std::cmp::Ordering::Equal,
            ActivitySort::Title => title_key(&a.title).into_bytes().cmp(&title_key(&b.title).into_bytes()),
            ActivitySort::StartDate => b.start_date.cmp(&a.start_date),
            ActivitySort::Disbursements => money(&b.disbursements_usd).total_cmp(&money(&a.disbursements_usd)),
            ActivitySort::Commitments => money(&b.commitments_usd).total_cmp(&money(&a.commitments_usd)),
        };
        by_key.then_with(|| a.iati_identifier.as_bytes().cmp(b.iati_identifier.as_bytes()))
    });
    v.into_iter().map(|r| r.iati_identifier.clone()).collect()
}

/// Builds the portfolio on `b` with two overrides: a mapped activity made "not mapped" and a
/// not-mapped one put on LOE5.
fn build(b: &Backend, dir: &Path) -> Db {
    let mut db = b.db();
    let f = write(dir, "paging.xml", portfolio());
    let r = import(&mut *db, &[f]);
    assert_eq!(r.created, TITLES.len() as u64, "{}", dump(&r));
    let rows = db.list_activities(&all()).expect("list");
    let mapped = rows.iter().find(|r| r.lines_of_effort == "LOE5").expect("a mapped activity").iati_identifier.clone();
    let unmapped = rows.iter().find(|r| r.lines_of_effort.is_empty()).expect("an unmapped one").iati_identifier.clone();
    for (id, lines) in [(mapped, vec![]), (unmapped, vec!["LOE5".to_owned()])] {
        db.set_override(
            &senda_store::accounts::Actor::cli(),
            &Override {
                iati_identifier: id,
                strategy: STRATEGY.into(),
                lines_of_effort: lines,
                note: "paging test".into(),
                created_at: "2025-01-01T00:00:00Z".into(),
            },
            1,
        )
        .expect("override");
    }
    db
}

/// Every sort, every filter, pages of 1, 3 and 7 rows: each matching row exactly once, in the
/// documented order; and the pages are identical on every backend.
#[test]
fn keyset_pages_visit_every_row_exactly_once_and_are_the_same_on_every_backend() {
    let dir = data_dir();
    let mut per_backend: Vec<(String, BTreeMap<String, Vec<String>>)> = Vec::new();
    for_each_backend(|b| {
        let db = build(b, dir.path());
        let mut sequences = BTreeMap::new();
        for (what, filter) in filters() {
            let total = db.count_activities_matching(&filter).expect("count");
            assert!(total > 0, "{what}: the test needs matching rows");
            let every = db.list_activities(&filter).expect("whole list");
            assert_eq!(every.len() as u64, total, "{what}: list vs count");
            for sort in ActivitySort::ALL {
                let whole = db.list_activities(&ActivityFilter { sort, ..filter.clone() }).expect("sorted list");
                let whole_ids: Vec<String> = whole.iter().map(|r| r.iati_identifier.clone()).collect();
                assert_eq!(
                    whole_ids,
                    expected_order(&every, sort),
                    "{what}, sort {}: the documented order",
                    sort.name()
                );
                for limit in [1, 3, 7] {
                    let seen = pages(&*db, &filter, sort, limit);
                    let unique: HashSet<&String> = seen.iter().collect();
                    assert_eq!(
                        unique.len(),
                        seen.len(),
                        "{what}, sort {}, pages of {limit}: a row came twice",
                        sort.name()
                    );
                    assert_eq!(
                        seen,
                        whole_ids,
                        "{what}, sort {}, pages of {limit}: every row once, in order",
                        sort.name()
                    );
                }
                sequences.insert(format!("{what} / {}", sort.name()), whole_ids);
            }
        }
        // The filters select what they say.
        let rows = |f: &ActivityFilter| db.list_activities(f).expect("list");
        let by = |what: &str| filters().into_iter().find(|(w, _)| w == what).expect("filter").1;
        assert!(rows(&by("not mapped")).iter().all(|r| r.lines_of_effort.is_empty()));
        assert!(rows(&by("not mapped")).iter().any(|r| r.overridden), "the override to not mapped is listed");
        assert!(rows(&by("line of effort LOE5")).iter().all(|r| r.lines_of_effort == "LOE5"));
        assert!(rows(&by("line of effort LOE5")).iter().any(|r| r.overridden), "the override to LOE5 is listed");
        assert!(rows(&by("country GT")).iter().all(|r| r.countries.split(';').any(|c| c == "GT")));
        let titles = |what: &str| {
            let mut t: Vec<String> = rows(&by(what)).into_iter().map(|r| r.title).collect();
            t.sort();
            t
        };
        assert_eq!(titles("text 'rural'"), ["AMBITO RURAL", "Ámbito rural", "ámbito rural"]);
        assert_eq!(titles("text 'RURAL' (case)"), titles("text 'rural'"));
        assert!(
            titles("text 'Ámbito' (as written)").contains(&"Ámbito rural".to_owned()),
            "the title as written finds it"
        );
        assert_eq!(titles("text 'niñ'"), ["Niño seguro", "niños y niñas"]);
        let implementer = rows(&by("implementer 'ÁGORA Cooperación' (as written)"));
        assert_eq!(implementer.len(), TITLES.len() / 3, "the implementer as written finds its activities");
        let other_case = rows(&by("implementer 'ÁGORA COOPERACIóN' (its ASCII letters in another case)"));
        assert_eq!(other_case.len(), implementer.len());
        per_backend.push((b.name().to_owned(), sequences));
    });
    for (name, seq) in &per_backend[1..] {
        let (first, reference) = &per_backend[0];
        for (k, v) in reference {
            assert_eq!(seq.get(k), Some(v), "{k}: {name} pages differ from {first}");
        }
    }
}

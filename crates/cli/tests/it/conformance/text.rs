//! Text as published, on every backend: characters that mean something to a database or to
//! its bulk-load format (PostgreSQL's `COPY` text format: `\N`, `\.`, backslashes, tabs, line
//! breaks; SQL's `LIKE`: `%`, `_`; quotes) come back exactly as read, in every table, and the
//! filters take them literally.

use super::*;
use crate::support::*;

/// Texts that a bulk loader or a query could take for something else.
const ODD: &[&str] = &[
    r"\N",
    r"\.",
    r"back\slash \\ two \t not a tab",
    "a\ttab",
    "two\nlines",
    "carriage\rreturn",
    "100% sure_",
    "quote ' double \" semicolon ; comma , pipe |",
    "line separator \u{2028} paragraph \u{2029} separator",
    "emoji 😀 and combining e\u{301}",
    "inner  double  spaces",
];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\r', "&#13;")
}

/// One activity per odd text: in its title, description, reporting-org name, implementer,
/// location name, and (for the first) a file name with a tab, a backslash and a space.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut acts = String::new();
    for (i, t) in ODD.iter().enumerate() {
        let t = xml_escape(t);
        acts.push_str(&format!(
            r#" <iati-activity last-updated-datetime="2024-01-01T00:00:00Z" default-currency="USD" xml:lang="en">
  <iati-identifier>XM-ODD-{i:02}</iati-identifier>
  <reporting-org ref="XM-ODD" type="10"><narrative>{t}</narrative></reporting-org>
  <title><narrative>{t}</narrative><narrative xml:lang="es">{t} (es)</narrative></title>
  <description><narrative>{t} returned migrants</narrative></description>
  <participating-org role="4"><narrative>{t}</narrative></participating-org>
  <recipient-country code="GT" percentage="100"/>
  <location><name><narrative>{t}</narrative></name><administrative vocabulary="G1" level="1" code="GT-HU"/></location>
  <sector vocabulary="1" code="15130"/>
{}
 </iati-activity>
"#,
            transaction("3", "2023-11-15", &format!("{}", i + 1))
        ));
    }
    let odd_name = "odd \\ name\twith tab.xml";
    vec![write(dir, odd_name, doc("2.03", &acts)), write(dir, "plain.xml", doc("2.03", &rich("XM-ODD-PLAIN", "1000")))]
}

#[test]
fn odd_characters_come_back_as_published_on_every_backend() {
    let dir = data_dir();
    let paths = files(dir.path());
    let mut snapshots: Vec<(&str, Snapshot)> = Vec::new();
    for_each_backend(|b| {
        let mut db = b.db();
        let r = import(&mut *db, &paths);
        assert_eq!((r.created, r.files_rejected), (ODD.len() as u64 + 1, 0), "{}", dump(&r));
        for (i, t) in ODD.iter().enumerate() {
            let id = format!("XM-ODD-{i:02}");
            let detail = db.activity(&id, STRATEGY).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(detail.activity.title_in("en"), *t, "{id}: the title as published");
            assert_eq!(detail.source.0, paths[0].display().to_string(), "{id}: the odd file name");
            let rows = db.list_activities(&ActivityFilter { text: Some((*t).to_owned()), ..all() }).expect("list");
            assert!(rows.iter().any(|r| r.iati_identifier == id && r.title == *t), "{id}: found by its own text {t:?}");
            let by_org = db.list_activities(&ActivityFilter { reporting_org: Some((*t).to_owned()), ..all() });
            assert!(by_org.expect("list").iter().any(|r| r.reporting_org == *t), "{id}: found by its reporting org");
            let by_impl = db.list_activities(&ActivityFilter { implementing_org: vec![(*t).to_owned()], ..all() });
            assert!(by_impl.expect("list").iter().any(|r| r.iati_identifier == id), "{id}: found by its implementer");
        }
        // LIKE's wildcards are taken literally.
        let literal = |text: &str| {
            let mut v: Vec<String> = db
                .list_activities(&ActivityFilter { text: Some(text.to_owned()), ..all() })
                .expect("list")
                .into_iter()
                .map(|r| r.iati_identifier)
                .collect();
            v.sort();
            v
        };
        assert_eq!(literal("%"), ["XM-ODD-06"], "% is a percent sign");
        assert_eq!(literal("_"), ["XM-ODD-06"], "_ is an underscore");
        assert_eq!(literal(r"\"), ["XM-ODD-00", "XM-ODD-01", "XM-ODD-02"], "a backslash is a backslash");
        // The implementers are in the report as published.
        let rep = report_of(&*db, vec![Dimension::ImplementingOrg]);
        for t in ODD {
            assert!(rep.rows.iter().any(|r| r.key[0] == *t), "implementer {t:?} in {:?}", rep.rows);
        }
        let depts = db.departments("GT").expect("departments");
        assert_eq!(depts.iter().map(|d| d.activities).sum::<u64>(), ODD.len() as u64 + 1, "{depts:?}");
        assert_eq!(
            db.imported_files().expect("files"),
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()
        );
        let mut snap = snapshot(&*db);
        snap.remove("import_run");
        snapshots.push((b.name(), snap));
    });
    let (first, reference) = &snapshots[0];
    for (name, snap) in &snapshots[1..] {
        assert_same_database(reference, snap, &format!("{first} vs {name}"));
    }
}

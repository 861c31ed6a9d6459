//! Data coverage and organisation filters (issue 21 items 3 and 4) on the real U.S. files of
//! `../shared/data/iati/us-gov` (read in place), on every backend: the shared files hold USAID
//! for El Salvador only, so Guatemala and Honduras lack an expected publisher; USAID is found by
//! identifier, acronym and name alike; an unknown organisation is an error with suggestions.

use super::*;
use crate::real_data::shared;
use std::collections::BTreeSet;
use std::process::{Command, Output};

fn senda(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_senda"))
        .arg("--db")
        .arg(url)
        .args(args)
        .env_remove("SENDA_DB")
        .output()
        .expect("run senda")
}

fn ok(o: Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {:?}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

#[test]
fn coverage_gaps_files_and_organisation_filters_on_the_us_files() {
    let folder = shared().join("us-gov");
    let folder_s = folder.to_str().expect("UTF-8 path");
    for_each_backend(|b| {
        let database = b.empty_database();
        let url = database.url.clone();
        ok(senda(&url, &["import", "--no-progress", folder_s]), "import");

        // Coverage: the gaps are the expected publishers without activities in a focus country.
        let csv = ok(senda(&url, &["coverage", "--format", "csv"]), "coverage");
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("CSV row")).collect();
        let gaps: BTreeSet<(String, String)> =
            rows.iter().filter(|x| &x[3] == "0").map(|x| (x[2].to_owned(), x[0].to_owned())).collect();
        let want: BTreeSet<(String, String)> =
            [("GT", "US-GOV-1"), ("HN", "US-GOV-1"), ("GT", "US-GOV-21"), ("HN", "US-GOV-11")]
                .iter()
                .map(|(c, o)| (c.to_string(), o.to_string()))
                .collect();
        assert_eq!(gaps, want, "{}: {csv}", b.name());
        let usaid: Vec<&csv::StringRecord> = rows.iter().filter(|x| &x[0] == "US-GOV-1" && &x[3] != "0").collect();
        assert_eq!(usaid.iter().map(|x| &x[2]).collect::<Vec<_>>(), ["SV"], "{csv}");
        assert_eq!(&usaid[0][8], "true", "USAID is expected in SV");
        // The table says it in words, and names the source of the list.
        let table = ok(senda(&url, &["coverage"]), "coverage table");
        assert!(table.contains("GT: USAID (US-GOV-1), IAF (US-GOV-21)"), "{table}");
        assert!(table.contains("HN: USAID (US-GOV-1), State (US-GOV-11)"), "{table}");
        assert!(table.contains("ForeignAssistance.gov"), "{table}");

        // Each file's generated-datetime, in UTC.
        let store = senda_store::open(&url, OpenMode::Existing).expect("open");
        let files = store.source_files().expect("files");
        assert_eq!(files.len(), 53);
        let f = files.iter().find(|f| f.path.ends_with("usaid-sv.xml")).expect("usaid-sv.xml");
        assert_eq!(f.generated_datetime.as_deref(), Some("2025-03-04T21:36:22.405Z"));
        assert_eq!(f.publishers.iter().map(|p| p.0.as_deref()).collect::<Vec<_>>(), [Some("US-GOV-1")]);
        let state = files.iter().find(|f| f.path.ends_with("state-guatemala.xml")).expect("state-guatemala.xml");
        // -05:00 in the file.
        assert_eq!(state.generated_datetime.as_deref(), Some("2024-12-31T20:25:14Z"), "{state:?}");
        drop(store);

        // Organisation filters: identifier, acronym (any case) and name give the same report.
        let report =
            |org: &str| ok(senda(&url, &["report", "--by", "country", "--format", "csv", "--reporting-org", org]), org);
        let by_ref = report("US-GOV-1");
        assert_eq!(by_ref.lines().count(), 2, "header and SV: {by_ref}");
        assert!(by_ref.lines().nth(1).is_some_and(|l| l.starts_with("SV,")), "{by_ref}");
        assert_eq!(report("USAID"), by_ref);
        assert_eq!(report("usaid"), by_ref);
        assert_eq!(report("U.S. Agency for International Development"), by_ref);
        // The activity list too.
        let list = ok(senda(&url, &["activities", "--format", "csv", "--reporting-org", "USAID"]), "activities");
        let n = list.lines().count() - 1;
        assert!(n > 100, "{n} USAID activities");
        assert!(list.lines().skip(1).all(|l| l.contains("U.S. Agency for International Development")), "{list}");
        // An unknown organisation is an error with suggestions, never an empty answer.
        let bad = senda(&url, &["report", "--by", "country", "--reporting-org", "Departmnt of Stat"]);
        assert!(!bad.status.success());
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains("unknown organisation \"Departmnt of Stat\""), "{err}");
        assert!(err.contains("did you mean Department of State (US-GOV-11, STATE)"), "{err}");
        let bad = senda(&url, &["activities", "--reporting-org", "US-GOV-999"]);
        assert!(!bad.status.success(), "an unknown identifier is an error");
        // Implementers by acronym: the table knows how publishers spell IOM.
        let iom = ok(
            senda(&url, &["report", "--by", "implementing_org", "--format", "csv", "--implementing-org", "IOM"]),
            "IOM",
        );
        assert!(iom.contains("International Organisation for Migration"), "{iom}");
        assert!(iom.lines().count() >= 2, "{iom}");
        drop(database);
    });
}

//! Every read the dashboard and the command line make, on the same data on every backend:
//! the same answers, in the same order (departments and their names, data quality, statistic
//! series, values, indicator progress, activities with results, activity details, diagnostics).

use super::*;
use crate::support::*;
use senda::values::{Dataset, import_values};
use senda_core::indicator::Scope;
use senda_store::ObservationFilter;

/// An activity in Guatemala with department locations published under several names (one with
/// a comma), and a result.
fn located(id: &str, names: &[(&str, &str)], amount: &str) -> String {
    let locations: String = names
        .iter()
        .map(|(code, name)| {
            format!(
                "  <location><name><narrative>{name}</narrative></name><administrative vocabulary=\"G1\" level=\"1\" code=\"{code}\"/></location>\n"
            )
        })
        .collect();
    activity(
        id,
        &format!(
            "  <title><narrative>Reintegration of returned migrants {id}</narrative></title>\n  <recipient-country code=\"GT\" percentage=\"100\"/>\n{locations}  <result type=\"1\"><title><narrative>Returnees</narrative></title></result>\n{}",
            transaction("3", "2023-11-15", amount)
        ),
    )
}

fn build(b: &Backend, dir: &Path) -> Db {
    let mut db = b.db();
    let iati = write(
        dir,
        "located.xml",
        doc(
            "2.03",
            &(located(
                "XM-RD-1",
                &[("GT-HU", "Huehuetenango, Guatemala"), ("GT-HU", "Zona 1"), ("GT-QZ", "Xela")],
                "10",
            ) + &located("XM-RD-2", &[("GT-HU", "Huehue"), ("GT-HU", "Aldea"), ("GT-SM", "San Marcos")], "20")
                + &located("XM-RD-3", &[("GT-QZ", "Quetzaltenango"), ("GT-SM", "Malacatán")], "30")
                + &located("XM-RD-4", &[("GT-AV", "Cobán")], "40")),
        ),
    );
    // Warnings and errors from two publishers, in equal numbers.
    let odd = doc(
        "2.03",
        &(activity(
            "XM-RD-W1",
            "  <recipient-country code=\"XX\"/>\n  <activity-date type=\"2\" iso-date=\"2023-02-30\"/>",
        ) + &activity(
            "XM-RD-W2",
            "  <recipient-country code=\"QQ\"/>\n  <activity-date type=\"2\" iso-date=\"2023-13-01\"/>",
        )),
    );
    let odd = write(dir, "odd.xml", odd);
    let r = import(&mut *db, &[iati, odd, fixture("duplicates.xml"), fixture("duplicates_other.xml")]);
    assert_eq!(r.files_rejected, 0, "{}", dump(&r));
    senda::commands::ensure_mappings(&mut *db).expect("mappings");
    // Statistics whose periods start on the same day (a month, its quarter, its fiscal year).
    let stats = write(
        dir,
        "ties.csv",
        "#date,#country+code,#indicator+code,#indicator+value\n2023-10,GT,ties,1\n2023-Q4,GT,ties,3\nFY2024,GT,ties,12\n2023-10,HN,ties,2\n2023-10,SV,other,5\n",
    );
    let r = import_values(&mut *db, &[stats], &Dataset::Stats).expect("stats");
    assert_eq!(r.files_rejected(), 0, "{:?}", r.files);
    let st = senda_core::Strategy::builtin(STRATEGY).expect("strategy");
    let results = write(
        dir,
        "results.csv",
        "indicator,country,admin1,period,kind,value\nLOE5-1,GT,,FY2021,baseline,100\nLOE5-1,GT,,FY2025,target,500\nLOE5-1,GT,GT-HU,FY2023,actual,200\nLOE5-1,HN,,FY2023,actual,50\n",
    );
    let r = import_values(&mut *db, &[results], &Dataset::Results(&st)).expect("results");
    assert_eq!(r.files_rejected(), 0, "{:?}", r.files);
    db
}

/// Everything read, as text, with database ids and times left out.
fn reads(s: &dyn Store) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |what: &str, v: String| out.push((what.to_owned(), v));
    for c in ["GT", "HN", "SV"] {
        put(&format!("departments {c}"), format!("{:?}", s.departments(c).expect("departments")));
    }
    put("data quality", format!("{:?}", s.data_quality().expect("quality")));
    put("stat series", format!("{:?}", s.stat_series().expect("series")));
    put("observations", format!("{:?}", s.observations(&ObservationFilter::default()).expect("values")));
    for (loe, country) in [(None, None), (Some("LOE5"), None), (None, Some("GT")), (Some("LOE1"), Some("HN"))] {
        put(
            &format!("activities with results {loe:?} {country:?}"),
            format!("{:?}", s.activities_with_results(STRATEGY, loe, country).expect("results")),
        );
    }
    let run = s.runs(10).expect("runs");
    let first_run = run.last().expect("a run").id;
    put("run diagnostics", format!("{:?}", s.run_diagnostics(first_run).expect("diagnostics")));
    let st = senda_core::Strategy::builtin(STRATEGY).expect("strategy");
    let gt = senda_core::CountryCode::parse("GT").expect("GT");
    for scope in
        [Scope::Countries(st.focus_countries.clone()), Scope::Countries(vec![gt]), Scope::Admin1("GT-13".into())]
    {
        let views = senda_store::indicator_views(s, &st, &scope).expect("views");
        // Definition versions by number, not by database id.
        let text: Vec<String> = views
            .iter()
            .map(|v| {
                format!(
                    "{} v{} {:?} {:?} {}",
                    v.def.code, v.version, v.progress, v.by_fiscal_year, v.older_version_values
                )
            })
            .collect();
        put(&format!("indicator views {scope:?}"), text.join("\n"));
    }
    let ids: Vec<String> = s.list_activities(&all()).expect("list").into_iter().map(|r| r.iati_identifier).collect();
    let infos = s.activity_infos(STRATEGY).expect("infos");
    for id in &ids {
        let d = s.activity(id, STRATEGY).expect("detail");
        put(
            &format!("activity {id}"),
            format!(
                "{:?} {:?} {:?} {:?} {:?} {}",
                d.activity, d.source, d.rule_lines, d.evidence, d.override_, d.synthetic
            ),
        );
        let db_id = s.activity_db_id(id).expect("id").expect("stored");
        let info = &infos[&(db_id as u32)];
        put(&format!("info {id}"), format!("{} {:?} {}", info.reporting_org, info.lines_of_effort, info.instrument));
        let rows = s.activity_rows(STRATEGY, &[db_id]).expect("rows");
        put(&format!("row {id}"), rows.iter().map(row_text).collect());
    }
    put("synthetic presence", format!("{:?}", s.synthetic_presence().expect("presence")));
    let mut files: Vec<String> = s
        .value_files()
        .expect("value files")
        .into_iter()
        .map(|f| format!("{} {} {} {}", f.dataset, f.path, f.format, f.report))
        .collect();
    files.sort();
    put("value files", files.join("\n"));
    out
}

#[test]
fn every_read_answers_the_same_on_every_backend() {
    let dir = data_dir();
    let mut answers: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    for_each_backend(|b| {
        let db = build(b, dir.path());
        let r = reads(&*db);
        // What the data was made to show.
        let get = |what: &str| r.iter().find(|(w, _)| w == what).map(|(_, v)| v.clone()).expect(what);
        let gt = db.departments("GT").expect("departments");
        let hu = gt.iter().find(|d| d.code == "GT-HU").expect("GT-HU");
        assert_eq!(hu.activities, 2);
        assert_eq!(hu.names, "Aldea; Huehue; Huehuetenango, Guatemala", "sorted, at most three, commas kept");
        let series = db.stat_series().expect("series");
        let ties = series.iter().find(|s| s.series.code == "ties").expect("ties");
        assert_eq!((ties.first_period.as_deref(), ties.last_period.as_deref()), (Some("2023-10-01"), Some("FY2024")));
        assert!(get("data quality").contains("warning") && get("data quality").contains("error"));
        answers.push((b.name(), r));
    });
    let (first, reference) = &answers[0];
    for (name, r) in &answers[1..] {
        assert_eq!(reference.len(), r.len(), "{name}: the same reads");
        for ((what, a), (_, b)) in reference.iter().zip(r) {
            assert_eq!(a, b, "{what}: {name} answers differently from {first}");
        }
    }
}

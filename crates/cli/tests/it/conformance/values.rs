//! Statistics and results values, on every backend, through the value importers of
//! `senda::values` (`senda stats import`, `senda results import`): replacement as documented in
//! `senda_store::rules::values`, definition versions, and the real statistics files.

use super::*;
use crate::support::*;
use crate::values::{cc, cmms, independent_swb_totals, stats_dir};
use rust_decimal::Decimal;
use senda::values::{Dataset, ValuesReport, import_values};
use senda_core::indicator::Scope;
use senda_store::ObservationFilter;

fn hxl(rows: &str) -> String {
    format!("Month,Country,Series,Value\n#date,#country+code,#indicator+code,#indicator+value\n{rows}")
}

fn stats(s: &mut dyn Store, files: &[std::path::PathBuf]) -> ValuesReport {
    import_values(s, files, &Dataset::Stats).expect("stats import runs")
}

/// Stored values as (place, period, value, origin), in the store's order.
fn values(s: &dyn Store) -> Vec<(String, String, String, String)> {
    s.observations(&ObservationFilter::default())
        .expect("observations")
        .into_iter()
        .map(|o| {
            (
                o.observation.place.to_string(),
                o.observation.period.to_string(),
                o.observation.value.to_string(),
                o.origin,
            )
        })
        .collect()
}

/// The rule of `rules/values.rs`: a file imported again replaces its own values (keys it no
/// longer has are deleted, and only its own); an unchanged file writes nothing; a key stored
/// from another file (or the API) is replaced with a `value-replaced` warning naming where the
/// old value came from; an equal value is unchanged and only its origin moves.
#[test]
fn statistics_values_replace_as_documented() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(
            dir.path(),
            "a.csv",
            hxl("2023-10,GT,test-series,10\n2023-11,GT,test-series,20\n2023-12,GT,test-series,30\n"),
        );
        let a_name = a.display().to_string();
        let r = stats(&mut *db, std::slice::from_ref(&a));
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed, f.same_file), (3, 0, 0, 0, false), "{f:?}");
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);

        // The same bytes again: nothing written, not even the data generation.
        let before = snapshot(&*db);
        let g = db.generation().expect("generation");
        let r = stats(&mut *db, std::slice::from_ref(&a));
        let f = &r.files[0];
        assert!(f.same_file, "{f:?}");
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (0, 0, 3, 0), "{f:?}");
        assert_same_database(&before, &snapshot(&*db), "an unchanged statistics file");
        assert_eq!(db.generation().expect("generation"), g);

        // Another file with two of a.csv's keys, one with another value: that one is replaced
        // with a warning naming a.csv's row; the equal one is unchanged and now b.csv's.
        let bf = write(dir.path(), "b.csv", hxl("2023-11,GT,test-series,21\n2023-12,GT,test-series,30\n"));
        let b_name = bf.display().to_string();
        let r = stats(&mut *db, std::slice::from_ref(&bf));
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (0, 1, 1, 0), "{f:?}");
        let w: Vec<_> = r.diagnostics.iter().filter(|d| d.code == "value-replaced").collect();
        assert_eq!(w.len(), 1, "{:?}", r.diagnostics);
        assert!(w[0].message.contains(&format!("{a_name}:4")) && w[0].file == b_name && w[0].line == 3, "{}", w[0]);
        assert_eq!(
            values(&*db),
            [
                ("GT".into(), "2023-10".into(), "10".into(), format!("{a_name}:3")),
                ("GT".into(), "2023-11".into(), "21".into(), format!("{b_name}:3")),
                ("GT".into(), "2023-12".into(), "30".into(), format!("{b_name}:4")),
            ]
        );

        // a.csv changes and no longer has 2023-11 and 2023-12: only its own value could go, and
        // those keys are b.csv's now, so they stay. Its 2023-10 changes; 2024-01 is new.
        write(dir.path(), "a.csv", hxl("2023-10,GT,test-series,11\n2024-01,GT,test-series,5\n"));
        let r = stats(&mut *db, std::slice::from_ref(&a));
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (1, 1, 0, 0), "{f:?}");
        assert!(
            r.diagnostics.iter().all(|d| d.code != "value-replaced"),
            "its own value: no warning {:?}",
            r.diagnostics
        );
        assert_eq!(
            values(&*db),
            [
                ("GT".into(), "2023-10".into(), "11".into(), format!("{a_name}:3")),
                ("GT".into(), "2023-11".into(), "21".into(), format!("{b_name}:3")),
                ("GT".into(), "2023-12".into(), "30".into(), format!("{b_name}:4")),
                ("GT".into(), "2024-01".into(), "5".into(), format!("{a_name}:4")),
            ]
        );
        // b.csv drops 2023-12: deleted (its own).
        write(dir.path(), "b.csv", hxl("2023-11,GT,test-series,21\n"));
        let r = stats(&mut *db, std::slice::from_ref(&bf));
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (0, 0, 1, 1), "{f:?}");
        assert_eq!(values(&*db).len(), 3);

        // A value written through the API (no file) replaces a file's value, with the warning.
        let obs = senda_core::Observation {
            series: "test-series".into(),
            place: senda_core::Place::Country(cc("GT")),
            period: senda_core::Period::parse("2023-10").expect("period"),
            disaggregation: Default::default(),
            kind: senda_core::ValueKind::Observed,
            value: Decimal::from(12),
            denominator: None,
            row: 1,
        };
        let out = db
            .import_values(&senda_store::ValueBatch {
                dataset: "stats",
                path: None,
                format: "api".into(),
                content_hash: String::new(),
                series: vec![],
                observations: vec![(obs, None)],
                report: serde_json::Value::Null,
                actor: senda_store::accounts::Actor::cli(),
                audit_record: "values:stats".into(),
            })
            .expect("api values");
        assert_eq!((out.inserted, out.updated, out.replaced.len()), (0, 1, 1), "{out:?}");
        assert!(out.replaced[0].message.contains(&format!("{a_name}:3")), "{}", out.replaced[0]);
        assert_eq!(values(&*db)[0], ("GT".into(), "2023-10".into(), "12".into(), "api".into()));
        assert_eq!(rows_in(&*db, "value_file"), 2);
    });
}

/// Moved from `values.rs`.
#[test]
fn a_changed_statistics_file_replaces_its_values_and_a_bad_file_leaves_nothing() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let a = write(
            dir.path(),
            "a.csv",
            hxl("2023-10,GT,test-series,10\n2023-11,GT,test-series,20\n2023-12,GT,test-series,30\n"),
        );
        let bad = write(dir.path(), "bad.csv", "this is not,a statistics file\n1,2\n");
        let r = stats(&mut *db, &[a.clone(), bad.clone()]);
        assert_eq!(r.files[0].inserted, 3);
        assert!(r.files[1].error.as_deref().is_some_and(|e| e.contains("bad.csv")), "{:?}", r.files[1]);
        assert_eq!(r.files_rejected(), 1);
        assert_eq!(rows_in(&*db, "value_file"), 1, "the bad file is not recorded");
        // The changed file: one value changed, one removed, one new. Counts equal the change.
        std::fs::write(&a, hxl("2023-10,GT,test-series,10\n2023-11,GT,test-series,25\n2024-01,GT,test-series,5\n"))
            .expect("rewrite");
        let r = stats(&mut *db, std::slice::from_ref(&a));
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (1, 1, 1, 1));
        let got: Vec<(String, String)> = values(&*db).into_iter().map(|v| (v.1, v.2)).collect();
        assert_eq!(
            got,
            [("2023-10".into(), "10".into()), ("2023-11".into(), "25".into()), ("2024-01".into(), "5".into())]
        );
    });
}

/// Moved from `values.rs`.
#[test]
fn a_changed_definition_keeps_old_values_under_their_version() {
    for_each_backend(|b| {
        let mut db = b.db();
        let st = cmms();
        let def = st.indicator("LOE5-1").expect("def").clone();
        let v1 = db.ensure_indicator_definition(&st.id, &def).expect("v1");
        assert_eq!(v1.version, 1);
        let obs = |value: i64| senda_core::Observation {
            series: "LOE5-1".into(),
            place: senda_core::Place::Country(cc("GT")),
            period: senda_core::Period::FiscalYear(2023),
            disaggregation: Default::default(),
            kind: senda_core::ValueKind::Actual,
            value: Decimal::from(value),
            denominator: None,
            row: 1,
        };
        let batch = |o, id| senda_store::ValueBatch {
            dataset: "results",
            path: None,
            format: "api".into(),
            content_hash: String::new(),
            series: vec![],
            observations: vec![(o, Some(id))],
            report: serde_json::Value::Null,
            actor: senda_store::accounts::Actor::cli(),
            audit_record: "values:results:cmms-2021".into(),
        };
        db.import_values(&batch(obs(380), v1.id)).expect("store v1 value");
        // The definition changes what it measures (households instead of people): version 2.
        let mut changed = st.clone();
        let d = changed.indicators.iter_mut().find(|d| d.code == "LOE5-1").expect("d");
        d.unit = "households".into();
        // A name change alone is not a new version.
        let mut renamed = def.clone();
        renamed.name = "Returned persons assisted".into();
        assert_eq!(db.ensure_indicator_definition(&st.id, &renamed).expect("same").version, 1);
        let v2 = db
            .ensure_indicator_definition(
                &st.id,
                &changed.indicators[changed.indicators.iter().position(|d| d.code == "LOE5-1").expect("i")],
            )
            .expect("v2");
        assert_eq!(v2.version, 2);
        let versions = db.indicator_versions(&st.id).expect("versions");
        assert_eq!(versions["LOE5-1"].iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
        let views = senda_store::indicator_views(&*db, &changed, &Scope::Countries(vec![cc("GT")])).expect("views");
        let v = views.iter().find(|v| v.def.code == "LOE5-1").expect("view");
        assert_eq!(v.version, 2);
        assert_eq!(v.older_version_values, 1, "the v1 value is kept apart");
        assert!(v.progress.latest_actual.is_none(), "and not combined with v2 values");
        // The stored value still points at version 1.
        let stored = db.observations(&ObservationFilter::default()).expect("rows");
        assert_eq!(stored[0].definition_version, Some(v1.id));
        // Under the original definition it is the current value.
        let views = senda_store::indicator_views(&*db, &st, &Scope::Countries(vec![cc("GT")])).expect("views");
        let v = views.iter().find(|v| v.def.code == "LOE5-1").expect("view");
        assert_eq!(v.progress.latest_actual.as_ref().and_then(|p| p.value.value()), Some(Decimal::from(380)));
    });
}

/// Moved from `values.rs`: the real CBP and DHS OHSS files (read in place) on every backend;
/// the stored values sum to an independent computation, and a second import writes nothing.
#[test]
fn real_statistics_import_and_fiscal_year_totals_equal_an_independent_sum() {
    for_each_backend(|b| {
        let mut db = b.db();
        let files = vec![
            stats_dir().join("cbp/sbo-encounters-fy22-fy25-aug.csv"),
            stats_dir().join("cbp/cbp-nationwide-encounters-fy20-fy23-state.csv"),
            stats_dir().join("dhs-ohss/khsm-encounters-usbp-fy25m11.xlsx"),
        ];
        let r = stats(&mut *db, &files);
        assert_eq!(r.files_rejected(), 0, "{:?}", r.files);
        for f in &r.files {
            assert!(f.inserted > 0, "{} stored nothing", f.file);
        }
        // Every row is stored: the OHSS workbook's 10 rows of "Serbia and Montenegro (former)",
        // which has no current ISO code, are kept as a residual place (issue 21 item 8).
        let rejected: Vec<u64> = r.files.iter().map(|f| f.rows_rejected).collect();
        assert_eq!(rejected, [0, 0, 0]);
        let series: Vec<String> = db.stat_series().expect("series").into_iter().map(|s| s.series.code).collect();
        assert_eq!(series, ["cbp-nationwide-encounters", "cbp-swb-encounters", "ohss-usbp-encounters"]);

        let rows = db
            .observations(&ObservationFilter { series: vec!["cbp-swb-encounters".into()], ..Default::default() })
            .expect("rows");
        let mut stored: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for r in &rows {
            if let Some(c) = r.observation.place.country().filter(|c| ["SV", "GT", "HN"].contains(&c.as_str())) {
                let v: i64 = r.observation.value.try_into().expect("integer");
                *stored.entry((c.as_str().to_owned(), r.observation.period.fiscal_year())).or_insert(0) += v;
            }
        }
        let expected = independent_swb_totals();
        assert_eq!(stored, expected);

        // The context indicator LOE6-C1 for Guatemala, per fiscal year, is the same sum.
        let views = senda_store::indicator_views(&*db, &cmms(), &Scope::Countries(vec![cc("GT")])).expect("views");
        let loe6 = views.iter().find(|v| v.def.code == "LOE6-C1").expect("LOE6-C1");
        for p in &loe6.by_fiscal_year {
            let want = expected[&("GT".to_owned(), p.period.fiscal_year())];
            assert_eq!(p.value.value(), Some(Decimal::from(want)), "{}", p.period);
        }

        // Re-importing the same files changes nothing and says so.
        let before = snapshot(&*db);
        let again = stats(&mut *db, &files);
        assert!(again.files.iter().all(|f| f.same_file && f.inserted + f.updated + f.removed == 0));
        assert_same_database(&before, &snapshot(&*db), "the same statistics files again");

        // `senda stats export --format csv` (by URL): its GT FY2024 rows add up.
        let mut out = Vec::new();
        let filter = ObservationFilter {
            series: vec!["cbp-swb-encounters".into()],
            country: Some("GT".into()),
            kinds: vec![senda_core::ValueKind::Observed],
        };
        senda::values::cmd_export(db.url(), &filter, false, &mut out).expect("export");
        let mut rdr = csv::Reader::from_reader(out.as_slice());
        let headers = rdr.headers().expect("headers").clone();
        let col =
            |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
        let (pi, vi) = (col("period"), col("value"));
        let mut fy2024 = 0i64;
        for rec in rdr.records() {
            let rec = rec.expect("record");
            let p = senda_core::Period::parse(&rec[pi]).expect("ISO period");
            if p.fiscal_year() == 2024 {
                fy2024 += rec[vi].parse::<i64>().expect("value");
            }
        }
        assert_eq!(fy2024, expected[&("GT".to_owned(), 2024)]);
    });
}

/// The same rule for results files (`senda results import`): a changed file replaces its own
/// values, another file's value for the same key is replaced with a warning naming its row, an
/// unchanged file writes nothing; values keep the definition version they were reported under.
#[test]
fn results_values_replace_as_documented() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let st = cmms();
        let results = |s: &mut dyn Store, f: &std::path::PathBuf| {
            import_values(s, std::slice::from_ref(f), &Dataset::Results(&st)).expect("results import runs")
        };
        let h = "indicator,country,admin1,period,kind,value,denominator,sex,note\n";
        let a = write(
            dir.path(),
            "a.csv",
            format!(
                "{h}LOE5-1,GT,,FY2021,baseline,100,,,\nLOE5-1,GT,,FY2025,target,500,,,\nLOE5-1,GT,,FY2023,actual,380,,,\n"
            ),
        );
        let a_name = a.display().to_string();
        let r = results(&mut *db, &a);
        assert_eq!((r.files[0].inserted, r.files_rejected()), (3, 0), "{:?}", r.diagnostics);
        let before = snapshot(&*db);
        let r = results(&mut *db, &a);
        assert!(r.files[0].same_file && r.files[0].unchanged == 3, "{:?}", r.files[0]);
        assert_same_database(&before, &snapshot(&*db), "an unchanged results file");

        // Another partner's file reports the FY2023 actual again, differently.
        let bf = write(dir.path(), "b.csv", format!("{h}LOE5-1,GT,,FY2023,actual,400,,,revised\n"));
        let r = results(&mut *db, &bf);
        assert_eq!((r.files[0].inserted, r.files[0].updated), (0, 1), "{:?}", r.files[0]);
        let w: Vec<_> = r.diagnostics.iter().filter(|d| d.code == "value-replaced").collect();
        assert_eq!(w.len(), 1, "{:?}", r.diagnostics);
        assert!(w[0].message.contains(&format!("{a_name}:4")), "{}", w[0]);
        // a.csv changes its target and drops the actual (now b.csv's: it stays).
        write(dir.path(), "a.csv", format!("{h}LOE5-1,GT,,FY2021,baseline,100,,,\nLOE5-1,GT,,FY2025,target,600,,,\n"));
        let r = results(&mut *db, &a);
        let f = &r.files[0];
        assert_eq!((f.inserted, f.updated, f.unchanged, f.removed), (0, 1, 1, 0), "{f:?}");
        let got: Vec<(String, String, String)> = db
            .observations(&ObservationFilter::default())
            .expect("rows")
            .into_iter()
            .map(|o| {
                (
                    o.observation.period.to_string(),
                    o.observation.kind.as_str().to_owned(),
                    o.observation.value.to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("FY2021".into(), "baseline".into(), "100".into()),
                ("FY2023".into(), "actual".into(), "400".into()),
                ("FY2025".into(), "target".into(), "600".into()),
            ]
        );
        let versions = db.indicator_versions(&st.id).expect("versions");
        assert_eq!(versions["LOE5-1"].len(), 1);
        let v1 = versions["LOE5-1"][0].id;
        assert!(
            db.observations(&ObservationFilter::default())
                .expect("rows")
                .iter()
                .all(|o| o.definition_version == Some(v1))
        );
        // Progress reads the stored values: 400 of the way from 100 to 600 is 60 %.
        let views = senda_store::indicator_views(&*db, &st, &Scope::Countries(vec![cc("GT")])).expect("views");
        let v = views.iter().find(|v| v.def.code == "LOE5-1").expect("LOE5-1");
        assert_eq!(v.progress.percent_of_target, Some(Decimal::from(60)));
    });
}

/// Value keys are indexed by every backend: a series code over `MAX_SERIES_CODE_BYTES` or a
/// place and disaggregation over `MAX_KEY_BYTES` is an error on its row (not stored), the same
/// on every backend; the other rows import. (A 3,000-byte series code made the whole import
/// fail on PostgreSQL, whose b-tree entries hold about 2,700 bytes, while SQLite stored it.)
#[test]
fn long_value_keys_are_refused_alike_on_every_backend() {
    let mut rng = fastrand::Rng::with_seed(3);
    let mut random = |n: usize| -> String { (0..n).map(|_| rng.alphanumeric()).collect() };
    let longest_code = random(senda_stats::MAX_SERIES_CODE_BYTES);
    let long_code = random(3000);
    let long_group = random(1500);
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = data_dir();
        let text = format!(
            "Month,Country,Series,Value,Group\n#date,#country+code,#indicator+code,#indicator+value,#population+type\n\
             2023-10,GT,{longest_code},1,\n2023-10,GT,{long_code},2,\n2023-10,GT,ok-series,3,{long_group}\n2023-11,GT,ok-series,4,returnees\n"
        );
        let f = write(dir.path(), "long.csv", text);
        let r = stats(&mut *db, std::slice::from_ref(&f));
        let file = &r.files[0];
        assert_eq!((file.inserted, file.rows_rejected, file.error.as_deref()), (2, 2, None), "{:?}", r.diagnostics);
        let refused: Vec<u64> = r.diagnostics.iter().filter(|d| d.code == "key-too-long").map(|d| d.line).collect();
        assert_eq!(refused, [4, 5], "{:?}", r.diagnostics);
        let series: Vec<String> = db.stat_series().expect("series").into_iter().map(|s| s.series.code).collect();
        assert_eq!(series.len(), 2);
        assert!(series.contains(&longest_code) && series.contains(&"ok-series".to_owned()));
        assert_eq!(values(&*db).len(), 2);
    });
}

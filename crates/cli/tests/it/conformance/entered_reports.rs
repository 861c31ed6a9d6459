//! Interventions entered in Senda in reports, on every backend (issue 18, item 3): entered
//! money and IATI money together equal the independent sum in every grouping, an intervention
//! linked to an IATI activity adds nothing of its own (no double counting), counts per
//! instrument include entered interventions without money, the source is marked, and a reader
//! sees only what the access policy's scope lets them see.

use super::*;
use crate::support::*;
use senda_core::Strategy;
use senda_core::accounts::{NewOrganisation, ReadScope};
use senda_core::intervention::{Context, Intervention, Workflow, parse_value};
use senda_core::report::{Filters, Totals};
use senda_store::accounts::Actor;
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn parse(v: serde_json::Value) -> Intervention {
    let s = Strategy::builtin(STRATEGY).expect("strategy");
    let ctx = Context { strategies: vec![&s], admin1: senda_stats::countries::canonical_admin1 };
    parse_value(&v, &ctx).unwrap_or_else(|e| panic!("valid record: {e}"))
}

fn organisation(s: &dyn Store, name: &str) -> i64 {
    let o = NewOrganisation::parse(name, None, None, None, Some("HN"), &[]).expect("organisation");
    s.create_organisation(&Actor::cli(), &o, NOW).expect("create organisation")
}

fn record(org: i64, instrument: &str, countries: &[&str], money: serde_json::Value) -> serde_json::Value {
    json!({
        "organisation": org,
        "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "informs migrants"},
                            {"line_of_effort": "LOE2", "reason": "and protects them"}],
        "instrument": instrument,
        "title": {"en": format!("{instrument} of {org}")},
        "countries": countries,
        "start": "2024-01-15",
        "status": "active",
        "money": money,
    })
}

fn publish(s: &dyn Store, id: i64) {
    for (from, to) in [
        (Workflow::Draft, Workflow::Submitted),
        (Workflow::Submitted, Workflow::Approved),
        (Workflow::Approved, Workflow::Published),
    ] {
        s.move_intervention(&Actor::cli(), id, from, to, NOW).expect("move");
    }
}

fn full(s: &dyn Store, scope: ReadScope, dims: Vec<Dimension>, filters: Filters) -> Report {
    senda_store::build_report_for(s, STRATEGY, scope, dims, false, filters).expect("report")
}

/// Two requirements of the plan (the copy test uses them).
pub fn fill_requirements(s: &dyn Store) {
    use senda_core::plan::{RequirementInput, parse_requirement};
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    let reqs: Vec<_> = [("LOE1", "GT", "1000000.50"), ("LOE7", "HN", "250000")]
        .iter()
        .map(|(l, c, a)| {
            let input = RequirementInput {
                line_of_effort: l,
                country: c,
                fiscal_year: "FY2024",
                amount: a,
                currency: "USD",
                source: "test plan",
                note: "a <b>note</b>",
            };
            parse_requirement(&input, &st).expect("requirement")
        })
        .collect();
    s.set_requirements(&Actor::cli(), &reqs, NOW).expect("set requirements");
}

fn usd(commitments: &str, disbursements: &str) -> Totals {
    Totals { commitments: dec(commitments), disbursements: dec(disbursements), ..Totals::default() }
}

#[test]
fn entered_money_and_iati_money_add_up_once_in_every_grouping() {
    for_each_backend(|b| {
        let mut db = b.db();
        let dir = tempfile::tempdir().expect("dir");
        let inner = format!(
            "  <title><narrative>Protection of returned migrants</narrative></title>\n  <recipient-country code=\"HN\"/>\n{}\n{}",
            transaction("2", "2024-02-01", "5000"),
            transaction("3", "2024-03-01", "3000.10"),
        );
        let file = write(dir.path(), "a.xml", activity_xml("XM-TEST-LINKED-1", &inner));
        let r = import(&mut *db, &[file]);
        assert_eq!(r.files_rejected, 0, "{}", dump(&r));
        let iati = senda_store::build_report(&*db, STRATEGY, vec![], false, Filters::new()).expect("iati report");
        assert_eq!(iati.total.usd.commitments, dec("5000"));

        let a = organisation(&*db, "Alianza");
        let o = organisation(&*db, "Otra");
        let money = json!([
            {"kind": "commitment", "amount": "1000.01", "currency": "USD", "date": "2024-02-01"},
            {"kind": "disbursement", "amount": "600", "currency": "USD", "date": "2024-11-01"},
            {"kind": "budget", "amount": "99999", "currency": "USD", "date": "2024-01-01"},
        ]);
        let mut messaging = record(a, "public_messaging", &["HN", "GT", "SV"], money);
        messaging["public_messaging"] =
            json!({"channels": ["radio"], "languages": ["es"], "audiences": ["youth"], "reach": []});
        messaging["implementing_partners"] = json!(["Radio América", "Radio Progreso"]);
        let mut diplomacy = record(o, "diplomacy", &["GT"], json!([]));
        diplomacy["diplomacy"] = json!({"counterpart": "Ministerio", "counterpart_kind": "government",
            "ask": "expand asylum capacity", "history": [{"date": "2024-01-10", "status": "raised"}]});
        let mut pathway = record(
            a,
            "immigration_initiatives",
            &["GT"],
            json!([
                {"kind": "commitment", "amount": "500", "currency": "EUR", "date": "2024-05-01"}
            ]),
        );
        pathway["immigration_initiatives"] = json!({"programme": "Safe Mobility Office", "figures": []});
        let mut linked = record(a, "foreign_assistance", &["HN"], json!([]));
        linked["foreign_assistance"] = json!({"iati_identifier": "XM-TEST-LINKED-1"});

        let mut ids = Vec::new();
        for v in [messaging, diplomacy, pathway, linked] {
            ids.push(db.create_intervention(&Actor::cli(), &parse(v), NOW).expect("create").id);
        }
        publish(&*db, ids[0]);
        publish(&*db, ids[1]);
        publish(&*db, ids[3]);
        // ids[2] (the pathway, in EUR) stays a draft of Alianza.

        // The public: IATI money + the published messaging campaign's money, once; activities:
        // the IATI one + messaging + diplomacy (the linked record adds nothing).
        let expected = {
            let mut t = iati.total.usd;
            t.commitments += dec("1000.01");
            t.disbursements += dec("600");
            t
        };
        let groupings = [
            vec![],
            vec![Dimension::LineOfEffort],
            vec![Dimension::Country],
            vec![Dimension::FiscalYear],
            vec![Dimension::ReportingOrg],
            vec![Dimension::ImplementingOrg],
            vec![Dimension::Instrument],
            vec![Dimension::Sector],
            vec![Dimension::Source],
            vec![Dimension::LineOfEffort, Dimension::Country, Dimension::Source],
            vec![Dimension::Instrument, Dimension::FiscalYear, Dimension::ImplementingOrg],
        ];
        for dims in &groupings {
            let r = full(&*db, ReadScope::PublishedOnly, dims.clone(), Filters::new());
            assert_eq!(r.total.usd.commitments, expected.commitments, "{dims:?}");
            assert_eq!(r.total.usd.disbursements, expected.disbursements, "{dims:?}");
            assert_eq!(r.total.activities, iati.total.activities + 2, "{dims:?}");
            assert!(r.total.unconverted.is_empty(), "the draft's EUR is not public: {dims:?}");
            if !dims.is_empty() {
                assert_reconciles(&r);
            }
        }

        let by_source = full(&*db, ReadScope::PublishedOnly, vec![Dimension::Source], Filters::new());
        assert_eq!(row(&by_source, "entered").usd, usd("1000.01", "600"));
        assert_eq!(row(&by_source, "entered").activities, 2);
        assert_eq!(row(&by_source, "iati").usd.commitments, dec("5000"));

        let by_instrument = full(&*db, ReadScope::PublishedOnly, vec![Dimension::Instrument], Filters::new());
        assert_eq!(row(&by_instrument, "diplomacy").activities, 1, "an engagement without money counts");
        assert!(row(&by_instrument, "diplomacy").usd.is_zero());
        assert_eq!(row(&by_instrument, "public_messaging").usd, usd("1000.01", "600"));
        assert_eq!(
            row(&by_instrument, "foreign_assistance").activities,
            iati.total.activities,
            "the linked record is the IATI activity, counted once"
        );

        // Split over three countries and two partners: parts add up exactly.
        let by_country = full(&*db, ReadScope::PublishedOnly, vec![Dimension::Country], Filters::new());
        // 1,000.01 in six parts (3 countries × 2 partners): 166.67 five times and 166.66 once.
        assert_eq!(
            row(&by_country, "HN").usd.commitments,
            dec("5333.34"),
            "the IATI activity's 5,000 and 333.34 entered"
        );
        assert_eq!(row(&by_country, "SV").usd.commitments, dec("333.33"));
        let by_impl = full(&*db, ReadScope::PublishedOnly, vec![Dimension::ImplementingOrg], Filters::new());
        assert_eq!(row(&by_impl, "Radio América").usd.disbursements, dec("300"));
        // Disbursed in November 2024: FY2025.
        let by_fy = full(&*db, ReadScope::PublishedOnly, vec![Dimension::FiscalYear], Filters::new());
        assert_eq!(row(&by_fy, "2025").usd.disbursements, dec("600"));

        // A filter on the source keeps one side only.
        let mut only_entered = Filters::new();
        only_entered.insert(Dimension::Source, vec!["entered".into()]);
        let r = full(&*db, ReadScope::PublishedOnly, vec![Dimension::Country], only_entered);
        assert_eq!(r.total.usd, usd("1000.01", "600"));

        // Alianza's editor sees its own draft too; the other organisation's editor does not;
        // a coordinator sees everything.
        let own = full(&*db, ReadScope::PublishedAndOwn(a), vec![], Filters::new());
        assert_eq!(own.total.unconverted.get("EUR").map(|t| t.commitments), Some(dec("500")));
        assert_eq!(own.total.activities, iati.total.activities + 3);
        let other = full(&*db, ReadScope::PublishedAndOwn(o), vec![], Filters::new());
        assert!(other.total.unconverted.is_empty());
        assert_eq!(other.total.activities, iati.total.activities + 2);
        let all = full(&*db, ReadScope::Everything, vec![Dimension::Source], Filters::new());
        assert_eq!(row(&all, "entered").unconverted.get("EUR").map(|t| t.commitments), Some(dec("500")));
    });
}

//! The reporting cycle (issue 18, item 5) on every backend: a partner's actual saved, submitted,
//! returned with a comment, submitted again and approved; each step audited; reads through the
//! policy's scope; only approved actuals of published interventions feed indicator progress; a
//! locked period takes no change until reopened; a form posted twice writes once.

use super::*;
use senda_core::Strategy;
use senda_core::accounts::ReadScope;
use senda_core::indicator::{Combined, Scope};
use senda_core::intervention::{Intervention, Workflow};
use senda_core::reporting::{ActualContext, ActualInput, ReportState, Step, parse_actual};
use senda_core::{CountryCode, Period};
use senda_store::accounts::{Actor, AuditFilter};
use senda_store::reporting::{ReportFilter, ReportWrite, Written};
use time::macros::date;

const NOW: i64 = 1_800_000_000;

fn actual(s: &Strategy, iv: &Intervention, value: &str, locked: &[Period]) -> senda_core::reporting::Actual {
    let ctx = ActualContext {
        strategy: s,
        intervention: iv,
        today: date!(2024 - 08 - 01),
        locked,
        admin1: senda_stats::countries::canonical_admin1,
    };
    let input = ActualInput {
        indicator: "LOE7-1",
        period: "2024-Q1",
        department: "HN-CR",
        value,
        denominator: "",
        note: "<b>radio</b> & WhatsApp",
    };
    parse_actual(&input, &ctx).unwrap_or_else(|e| panic!("valid actual: {e}"))
}

/// A published messaging campaign of a new organisation: (organisation, intervention, record).
fn campaign(s: &dyn Store, name: &str) -> (i64, i64, Intervention) {
    let org = super::interventions::organisation(s, name);
    let iv = super::interventions::records(org).remove(0);
    let id = s.create_intervention(&Actor::cli(), &iv, NOW).expect("create").id;
    for (from, to) in [
        (Workflow::Draft, Workflow::Submitted),
        (Workflow::Submitted, Workflow::Approved),
        (Workflow::Approved, Workflow::Published),
    ] {
        s.move_intervention(&Actor::cli(), id, from, to, NOW).expect("move");
    }
    (org, id, iv)
}

fn write(
    s: &dyn Store,
    org: i64,
    id: i64,
    a: &senda_core::reporting::Actual,
    step: Step,
    token: Option<&str>,
) -> Written {
    let w = ReportWrite {
        strategy: STRATEGY,
        intervention_id: id,
        organisation_id: org,
        actual: a,
        step,
        form_token: token,
        expected_version: None,
    };
    s.write_report(&Actor::cli(), &w, NOW).expect("write")
}

fn done(w: Written) -> senda_store::reporting::ReportRecord {
    match w {
        Written::Done(r) => *r,
        other => panic!("expected done: {other:?}"),
    }
}

fn latest_actual(s: &dyn Store, st: &Strategy) -> Option<Combined> {
    let hn = Scope::Countries(vec![CountryCode::parse("HN").expect("HN")]);
    let views = senda_store::indicator_views(s, st, &hn).expect("views");
    views.into_iter().find(|v| v.def.code == "LOE7-1").and_then(|v| v.progress.latest_actual).map(|p| p.value)
}

/// One report of each state and a locked period: rows in both reporting tables (the copy test).
pub fn fill_reporting(s: &dyn Store) {
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    let (org, id, iv) = campaign(s, "Filled reporting");
    let a = actual(&st, &iv, "1500", &[]);
    let r = done(write(s, org, id, &a, Step::Submit, Some("fill-token")));
    done(s.review_report(&Actor::cli(), r.id, Step::Approve, None, None, NOW).expect("approve"));
    assert!(s.lock_period(&Actor::cli(), STRATEGY, a.period, NOW).expect("lock"));
}

#[test]
fn a_report_goes_through_its_review_and_only_approved_values_feed_progress() {
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    for_each_backend(|b| {
        let db = b.db();
        let (org, id, iv) = campaign(&*db, "Alianza");
        let (other, _, _) = campaign(&*db, "Otra");
        let a = actual(&st, &iv, "1500", &[]);
        let r = done(write(&*db, org, id, &a, Step::Save, Some("t1")));
        assert_eq!(
            (r.state, r.version, r.actual.note.as_deref()),
            (ReportState::Draft, 1, Some("<b>radio</b> & WhatsApp"))
        );
        // The same form posted twice: one report, nothing written the second time.
        assert!(matches!(write(&*db, org, id, &a, Step::Save, Some("t1")), Written::Replayed(_)));
        let all = ReportFilter::default();
        assert_eq!(db.reports(&all, ReadScope::Everything).expect("list").len(), 1);
        // Reads through the scope: the owner sees its draft, the public and others do not.
        assert_eq!(db.reports(&all, ReadScope::PublishedAndOwn(org)).expect("own").len(), 1);
        assert!(db.reports(&all, ReadScope::PublishedAndOwn(other)).expect("other").is_empty());
        assert!(db.reports(&all, ReadScope::PublishedOnly).expect("public").is_empty());
        assert!(db.report(r.id, ReadScope::PublishedOnly).expect("one").is_none());
        let r = done(write(&*db, org, id, &a, Step::Submit, None));
        assert_eq!((r.state, r.version), (ReportState::Submitted, 2));
        // Submitted again without a return: refused, nothing written.
        assert!(matches!(write(&*db, org, id, &a, Step::Submit, None), Written::Refused(_)));
        assert_eq!(latest_actual(&*db, &st), None, "a submitted value does not feed progress");
        let r = done(
            db.review_report(&Actor::cli(), r.id, Step::Return, Some("<i>per department</i>"), Some(2), NOW)
                .expect("return"),
        );
        assert_eq!((r.state, r.comment.as_deref()), (ReportState::Returned, Some("<i>per department</i>")));
        // A stale version is a conflict, nothing written.
        assert!(matches!(
            db.review_report(&Actor::cli(), r.id, Step::Approve, None, Some(2), NOW).expect("stale"),
            Written::Conflict(_)
        ));
        let fixed = actual(&st, &iv, "1750", &[]);
        let r = done(write(&*db, org, id, &fixed, Step::Submit, None));
        assert_eq!(r.state, ReportState::Submitted);
        let g = db.generation().expect("generation");
        let r = done(db.review_report(&Actor::cli(), r.id, Step::Approve, None, None, NOW).expect("approve"));
        assert_eq!(r.state, ReportState::Approved);
        assert!(db.generation().expect("generation") > g, "approving changes progress: a new generation");
        assert_eq!(
            db.reports(&all, ReadScope::PublishedOnly).expect("public").len(),
            1,
            "approved and published: public"
        );
        assert_eq!(db.approved_actuals(STRATEGY).expect("approved").len(), 1);
        assert_eq!(latest_actual(&*db, &st), Some(Combined::Value(1750.into())));
        // Locked: no change at all until reopened.
        assert!(db.lock_period(&Actor::cli(), STRATEGY, a.period, NOW).expect("lock"));
        assert!(!db.lock_period(&Actor::cli(), STRATEGY, a.period, NOW).expect("lock again"));
        assert_eq!(db.locked_periods(STRATEGY).expect("locked"), vec![a.period]);
        assert_eq!(
            db.review_report(&Actor::cli(), r.id, Step::Return, Some("late"), None, NOW).expect("locked"),
            Written::Locked(a.period)
        );
        assert_eq!(write(&*db, org, id, &fixed, Step::Save, None), Written::Locked(a.period));
        assert!(db.reopen_period(&Actor::cli(), STRATEGY, a.period, NOW).expect("reopen"));
        assert!(db.locked_periods(STRATEGY).expect("locked").is_empty());
        assert!(matches!(
            db.review_report(&Actor::cli(), r.id, Step::Return, Some("again"), None, NOW).expect("return"),
            Written::Done(_)
        ));
        assert_eq!(latest_actual(&*db, &st), None, "a returned value no longer feeds progress");
        // Every step audited, in order.
        let events = db.audit_events(&AuditFilter { limit: 500, ..Default::default() }).expect("audit");
        let mut steps: Vec<&str> = events
            .iter()
            .filter(|e| e.record == format!("indicator_report:{}", r.id) || e.record.starts_with("reporting:"))
            .map(|e| e.action.as_str())
            .collect();
        steps.reverse();
        assert_eq!(
            steps,
            [
                "report.save",
                "report.submit",
                "report.return",
                "report.submit",
                "report.approve",
                "reporting.lock",
                "reporting.reopen",
                "report.return"
            ]
        );
    });
}

#[test]
fn several_partners_reports_of_one_department_add_up_and_unpublished_ones_stay_out() {
    let st = Strategy::builtin(STRATEGY).expect("strategy");
    for_each_backend(|b| {
        let db = b.db();
        for (name, v) in [("Uno", "100"), ("Dos", "250")] {
            let (org, id, iv) = campaign(&*db, name);
            let r = done(write(&*db, org, id, &actual(&st, &iv, v, &[]), Step::Submit, None));
            done(db.review_report(&Actor::cli(), r.id, Step::Approve, None, None, NOW).expect("approve"));
        }
        assert_eq!(latest_actual(&*db, &st), Some(Combined::Value(350.into())));
        // A partner's unpublished intervention: its approved report is not public progress.
        let (org, id, iv) = campaign(&*db, "Tres");
        db.move_intervention(&Actor::cli(), id, Workflow::Published, Workflow::Approved, NOW).expect("unpublish");
        let r = done(write(&*db, org, id, &actual(&st, &iv, "1000", &[]), Step::Submit, None));
        done(db.review_report(&Actor::cli(), r.id, Step::Approve, None, None, NOW).expect("approve"));
        assert_eq!(latest_actual(&*db, &st), Some(Combined::Value(350.into())));
    });
}

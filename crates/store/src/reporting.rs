//! The reporting cycle in the database (issue 18, item 5), on both backends: written once over
//! the [`AccountSql`] primitives, every write with its audit event in the same transaction
//! (`report.save`, `report.submit`, `report.approve`, `report.return`, `reporting.lock`,
//! `reporting.reopen`). The review's rules are core's (`senda_core::reporting::Step::apply`),
//! checked again inside the transaction against the row as it is then, with the period's lock;
//! who may take a step is the caller's question to the access policy
//! (`senda_core::reporting::may_step`, `may_lock`). Reads take the reader's [`ReadScope`] and
//! apply it in SQL: a report is public once approved and its intervention published.
//!
//! Approving a report, or returning an approved one, changes indicator progress: it bumps the
//! data generation in the same transaction, so that cached pages compute progress again.

use crate::StoreError;
use crate::accounts::audit::{AuditRow, write as audit};
use crate::accounts::{AccountSql, Actor, Param, int, rfc3339, text, tx};
use crate::tables::Cell;
use senda_core::accounts::ReadScope;
use senda_core::intervention::FieldError;
use senda_core::reporting::{Actual, ReportState, Step};
use senda_core::{CountryCode, Period};
use serde::Serialize;

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRecord {
    /// `indicator_report.id`.
    pub id: i64,
    /// The intervention reported on.
    pub intervention_id: i64,
    /// Its title (English, else Spanish).
    pub intervention_title: String,
    /// Whether the intervention is published.
    pub intervention_published: bool,
    /// The reporting organisation (the intervention's owner).
    pub organisation_id: i64,
    /// Its name.
    pub organisation_name: String,
    /// The strategy.
    pub strategy: String,
    /// The actual.
    pub actual: Actual,
    /// Where it is in its review.
    pub state: ReportState,
    /// The coordinator's comment of the last return.
    pub comment: Option<String>,
    /// 1 at creation, one more at every change.
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// What a write or a review step did (nothing is written but for `Done`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Done; the report as it is now.
    Done(Box<ReportRecord>),
    /// The form token had already written this report (a form posted twice): nothing written.
    Replayed(Box<ReportRecord>),
    /// The report changed since the version the step started from: the report now.
    Conflict(Box<ReportRecord>),
    /// The period is locked.
    Locked(Period),
    /// The step is not allowed from the report's state now (on the field `state`).
    Refused(FieldError),
    /// No report has this id.
    NotFound,
}

/// Which reports to list (all given conditions hold); the reader's [`ReadScope`] on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Of this strategy.
    pub strategy: Option<String>,
    /// Of this organisation.
    pub organisation_id: Option<i64>,
    /// Of this intervention.
    pub intervention_id: Option<i64>,
    /// Of this period.
    pub period: Option<Period>,
    /// In this state.
    pub state: Option<ReportState>,
}

/// A report to write: an intervention's actual and who owns it.
#[derive(Debug, Clone)]
pub struct ReportWrite<'a> {
    /// The strategy (the intervention's).
    pub strategy: &'a str,
    /// The intervention.
    pub intervention_id: i64,
    /// Its owner.
    pub organisation_id: i64,
    /// The checked actual.
    pub actual: &'a Actual,
    /// [`Step::Save`] or [`Step::Submit`].
    pub step: Step,
    /// A web form's one-time token.
    pub form_token: Option<&'a str>,
    /// The version the form was opened at (`None`: whatever it is now).
    pub expected_version: Option<i64>,
}

/// The reporting cycle on any backend (a supertrait of `Store`).
pub trait ReportingStore {
    /// Saves or submits an actual: creates the report of its (intervention, indicator, period,
    /// department), or changes it when its state allows the step. Audited as `report.save` or
    /// `report.submit` with the report before and after.
    fn write_report(&self, actor: &Actor, w: &ReportWrite<'_>, now: i64) -> Result<Written, StoreError>;
    /// Approves or returns report `id` ([`Step::Approve`], [`Step::Return`] with `comment`).
    /// Audited as `report.approve` or `report.return`.
    fn review_report(
        &self,
        actor: &Actor,
        id: i64,
        step: Step,
        comment: Option<&str>,
        expected_version: Option<i64>,
        now: i64,
    ) -> Result<Written, StoreError>;
    /// One report, if `scope` sees it.
    fn report(&self, id: i64, scope: ReadScope) -> Result<Option<ReportRecord>, StoreError>;
    /// The reports `filter` selects and `scope` sees, by period (latest first), organisation,
    /// intervention, indicator, department.
    fn reports(&self, filter: &ReportFilter, scope: ReadScope) -> Result<Vec<ReportRecord>, StoreError>;
    /// Locks a period of `strategy`; `false` when it was locked already (nothing written).
    /// Audited as `reporting.lock`.
    fn lock_period(&self, actor: &Actor, strategy: &str, period: Period, now: i64) -> Result<bool, StoreError>;
    /// Reopens a locked period; `false` when it was not locked. Audited as `reporting.reopen`.
    fn reopen_period(&self, actor: &Actor, strategy: &str, period: Period, now: i64) -> Result<bool, StoreError>;
    /// The locked periods of `strategy`, oldest first.
    fn locked_periods(&self, strategy: &str) -> Result<Vec<Period>, StoreError>;
    /// The approved actuals of `strategy`'s published interventions: what feeds indicator
    /// progress.
    fn approved_actuals(&self, strategy: &str) -> Result<Vec<Actual>, StoreError>;
}

const SELECT: &str = "SELECT r.id, r.intervention_id, i.title, i.workflow, r.organisation_id, o.name, r.strategy, \
     r.indicator, r.period, r.department, r.country, r.value, r.denominator, r.note, r.state, r.comment, \
     r.version, r.created_at, r.updated_at \
     FROM indicator_report r JOIN intervention i ON i.id = r.intervention_id \
     JOIN organisation o ON o.id = r.organisation_id";

fn corrupt(id: i64, what: &str) -> StoreError {
    StoreError::Corrupt { record: format!("indicator_report:{id}"), message: what.to_owned() }
}

fn record_of(r: &[Cell]) -> Result<ReportRecord, StoreError> {
    let id = r.first().and_then(int).ok_or_else(|| corrupt(0, "no id"))?;
    let t = |i: usize| r.get(i).and_then(text);
    let i = |n: usize| r.get(n).and_then(int);
    let dec = |n: usize| t(n).map(|v| v.parse().map_err(|_| corrupt(id, "bad number"))).transpose();
    let actual = Actual {
        indicator: t(7).ok_or_else(|| corrupt(id, "no indicator"))?,
        period: t(8).and_then(|p| Period::parse(&p).ok()).ok_or_else(|| corrupt(id, "bad period"))?,
        department: t(9).ok_or_else(|| corrupt(id, "no department"))?,
        country: t(10).and_then(|c| CountryCode::parse(&c).ok()).ok_or_else(|| corrupt(id, "bad country"))?,
        value: dec(11)?.ok_or_else(|| corrupt(id, "no value"))?,
        denominator: dec(12)?,
        note: t(13),
    };
    Ok(ReportRecord {
        id,
        intervention_id: i(1).ok_or_else(|| corrupt(id, "no intervention"))?,
        intervention_title: t(2).unwrap_or_default(),
        intervention_published: t(3).as_deref() == Some("published"),
        organisation_id: i(4).ok_or_else(|| corrupt(id, "no organisation"))?,
        organisation_name: t(5).unwrap_or_default(),
        strategy: t(6).unwrap_or_default(),
        actual,
        state: t(14).and_then(|s| ReportState::parse(&s)).ok_or_else(|| corrupt(id, "bad state"))?,
        comment: t(15),
        version: i(16).unwrap_or(1),
        created_at: t(17).unwrap_or_default(),
        updated_at: t(18).unwrap_or_default(),
    })
}

fn one<S: AccountSql + ?Sized>(s: &S, where_: &str, params: &[Param<'_>]) -> Result<Option<ReportRecord>, StoreError> {
    s.acc_query(&format!("{SELECT} WHERE {where_}"), params)?.first().map(|r| record_of(r)).transpose()
}

fn is_locked<S: AccountSql + ?Sized>(s: &S, strategy: &str, period: Period) -> Result<bool, StoreError> {
    let p = period.to_string();
    Ok(!s
        .acc_query(
            "SELECT id FROM reporting_lock WHERE strategy = ?1 AND period = ?2",
            &[Param::Text(strategy), Param::Text(&p)],
        )?
        .is_empty())
}

fn json(r: &ReportRecord) -> String {
    serde_json::json!({
        "intervention": r.intervention_id,
        "actual": r.actual,
        "state": r.state,
        "comment": r.comment,
        "version": r.version,
    })
    .to_string()
}

fn key(id: i64) -> String {
    format!("indicator_report:{id}")
}

fn bump_generation<S: AccountSql + ?Sized>(s: &S) -> Result<(), StoreError> {
    s.acc_exec("UPDATE store_generation SET generation = generation + 1 WHERE id = 1", &[])?;
    Ok(())
}

fn write_one<S: AccountSql + ?Sized>(
    s: &S,
    actor: &Actor,
    w: &ReportWrite<'_>,
    now: i64,
) -> Result<Written, StoreError> {
    if let Some(token) = w.form_token
        && let Some(r) = one(s, "r.form_token = ?1", &[Param::Text(token)])?
    {
        return Ok(Written::Replayed(Box::new(r)));
    }
    let a = w.actual;
    if is_locked(s, w.strategy, a.period)? {
        return Ok(Written::Locked(a.period));
    }
    let period = a.period.to_string();
    let before = one(
        s,
        "r.intervention_id = ?1 AND r.indicator = ?2 AND r.period = ?3 AND r.department = ?4",
        &[Param::Int(w.intervention_id), Param::Text(&a.indicator), Param::Text(&period), Param::Text(&a.department)],
    )?;
    if let (Some(b), Some(v)) = (&before, w.expected_version)
        && b.version != v
    {
        return Ok(Written::Conflict(Box::new(b.clone())));
    }
    let (to, _) = match w.step.apply(before.as_ref().map(|b| b.state)) {
        Ok(x) => x,
        Err(e) => return Ok(Written::Refused(e)),
    };
    let at = rfc3339(now);
    let value = a.value.to_string();
    let den = a.denominator.map(|d| d.to_string());
    let id = match &before {
        Some(b) => {
            s.acc_exec(
                "UPDATE indicator_report SET value = ?2, denominator = ?3, note = ?4, state = ?5, version = version + 1, \
                 updated_at = ?6, form_token = COALESCE(?7, form_token) WHERE id = ?1",
                &[
                    Param::Int(b.id),
                    Param::Text(&value),
                    den.as_deref().into(),
                    a.note.as_deref().into(),
                    Param::Text(to.as_str()),
                    Param::Text(&at),
                    w.form_token.into(),
                ],
            )?;
            b.id
        }
        None => {
            s.acc_exec(
                "INSERT INTO indicator_report (intervention_id, organisation_id, strategy, indicator, period, department, \
                 country, value, denominator, note, state, comment, version, form_token, created_at, updated_at) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,NULL,1,?12,?13,?13)",
                &[
                    Param::Int(w.intervention_id),
                    Param::Int(w.organisation_id),
                    Param::Text(w.strategy),
                    Param::Text(&a.indicator),
                    Param::Text(&period),
                    Param::Text(&a.department),
                    Param::Text(a.country.as_str()),
                    Param::Text(&value),
                    den.as_deref().into(),
                    a.note.as_deref().into(),
                    Param::Text(to.as_str()),
                    w.form_token.into(),
                    Param::Text(&at),
                ],
            )?;
            one(
                s,
                "r.intervention_id = ?1 AND r.indicator = ?2 AND r.period = ?3 AND r.department = ?4",
                &[
                    Param::Int(w.intervention_id),
                    Param::Text(&a.indicator),
                    Param::Text(&period),
                    Param::Text(&a.department),
                ],
            )?
            .map(|r| r.id)
            .ok_or_else(|| corrupt(0, "the new report is not found"))?
        }
    };
    let after = one(s, "r.id = ?1", &[Param::Int(id)])?.ok_or_else(|| corrupt(id, "gone"))?;
    let before_json = before.as_ref().map(json);
    let after_json = json(&after);
    audit(
        s,
        &AuditRow {
            actor,
            now,
            action: if w.step == Step::Submit { "report.submit" } else { "report.save" },
            record: &key(id),
            before: before_json.as_deref(),
            after: Some(&after_json),
            run_id: None,
        },
    )?;
    Ok(Written::Done(Box::new(after)))
}

impl<S: AccountSql + ?Sized> ReportingStore for S {
    fn write_report(&self, actor: &Actor, w: &ReportWrite<'_>, now: i64) -> Result<Written, StoreError> {
        match tx(self, |s| write_one(s, actor, w, now)) {
            // Two posts of one form at once (PostgreSQL, read committed): the unique index
            // refused the second; the first's report is the answer.
            Err(e) if self.acc_is_unique_violation(&e) => {
                if let Some(token) = w.form_token
                    && let Some(r) = one(self, "r.form_token = ?1", &[Param::Text(token)])?
                {
                    return Ok(Written::Replayed(Box::new(r)));
                }
                // The same cell written by two requests at once: the second sees the first.
                tx(self, |s| write_one(s, actor, w, now))
            }
            other => other,
        }
    }

    fn review_report(
        &self,
        actor: &Actor,
        id: i64,
        step: Step,
        comment: Option<&str>,
        expected_version: Option<i64>,
        now: i64,
    ) -> Result<Written, StoreError> {
        tx(self, |s| {
            let Some(before) = one(s, "r.id = ?1", &[Param::Int(id)])? else { return Ok(Written::NotFound) };
            if expected_version.is_some_and(|v| v != before.version) {
                return Ok(Written::Conflict(Box::new(before)));
            }
            if is_locked(s, &before.strategy, before.actual.period)? {
                return Ok(Written::Locked(before.actual.period));
            }
            let to = match step {
                Step::Approve | Step::Return => match step.apply(Some(before.state)) {
                    Ok((to, _)) => to,
                    Err(e) => return Ok(Written::Refused(e)),
                },
                _ => {
                    return Ok(Written::Refused(FieldError::new(
                        "state",
                        senda_core::intervention::Problem::ReportStep {
                            from: before.state.as_str().to_owned(),
                            step: step.as_str().to_owned(),
                        },
                    )));
                }
            };
            let at = rfc3339(now);
            let comment = if step == Step::Return { comment } else { before.comment.as_deref() };
            s.acc_exec(
                "UPDATE indicator_report SET state = ?2, comment = ?3, version = version + 1, updated_at = ?4 WHERE id = ?1",
                &[Param::Int(id), Param::Text(to.as_str()), comment.into(), Param::Text(&at)],
            )?;
            if to == ReportState::Approved || before.state == ReportState::Approved {
                bump_generation(s)?;
            }
            let after = one(s, "r.id = ?1", &[Param::Int(id)])?.ok_or_else(|| corrupt(id, "gone"))?;
            let (b, a) = (json(&before), json(&after));
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: if step == Step::Approve { "report.approve" } else { "report.return" },
                    record: &key(id),
                    before: Some(&b),
                    after: Some(&a),
                    run_id: None,
                },
            )?;
            Ok(Written::Done(Box::new(after)))
        })
    }

    fn report(&self, id: i64, scope: ReadScope) -> Result<Option<ReportRecord>, StoreError> {
        Ok(one(self, "r.id = ?1", &[Param::Int(id)])?.filter(|r| {
            scope.sees(
                Some(r.organisation_id),
                senda_core::reporting::report_published(r.state, r.intervention_published),
            )
        }))
    }

    fn reports(&self, f: &ReportFilter, scope: ReadScope) -> Result<Vec<ReportRecord>, StoreError> {
        let (mode, org) = match scope {
            ReadScope::Everything => ("all", None),
            ReadScope::PublishedAndOwn(o) => ("own", Some(o)),
            ReadScope::PublishedOnly => ("published", None),
        };
        let period = f.period.map(|p| p.to_string());
        let rows = self.acc_query(
            &format!(
                "{SELECT} WHERE (CAST(?1 AS TEXT) IS NULL OR r.strategy = ?1) \
                 AND (CAST(?2 AS BIGINT) IS NULL OR r.organisation_id = ?2) \
                 AND (CAST(?3 AS BIGINT) IS NULL OR r.intervention_id = ?3) \
                 AND (CAST(?4 AS TEXT) IS NULL OR r.period = ?4) \
                 AND (CAST(?5 AS TEXT) IS NULL OR r.state = ?5) \
                 AND (CAST(?6 AS TEXT) = 'all' OR (r.state = 'approved' AND i.workflow = 'published') \
                      OR (CAST(?6 AS TEXT) = 'own' AND r.organisation_id = CAST(?7 AS BIGINT))) \
                 ORDER BY r.period DESC, o.name, r.intervention_id, r.indicator, r.department"
            ),
            &[
                f.strategy.as_deref().into(),
                f.organisation_id.into(),
                f.intervention_id.into(),
                period.as_deref().into(),
                f.state.map(|s| s.as_str()).into(),
                Param::Text(mode),
                org.into(),
            ],
        )?;
        rows.iter().map(|r| record_of(r)).collect()
    }

    fn lock_period(&self, actor: &Actor, strategy: &str, period: Period, now: i64) -> Result<bool, StoreError> {
        let out = tx(self, |s| {
            if is_locked(s, strategy, period)? {
                return Ok(false);
            }
            let (p, at) = (period.to_string(), rfc3339(now));
            s.acc_exec(
                "INSERT INTO reporting_lock (strategy, period, locked_at, locked_by) VALUES (?1,?2,?3,?4)",
                &[Param::Text(strategy), Param::Text(&p), Param::Text(&at), Param::Text(&actor.label)],
            )?;
            let after = serde_json::json!({ "strategy": strategy, "period": p, "locked": true }).to_string();
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: "reporting.lock",
                    record: &format!("reporting:{strategy}/{p}"),
                    before: None,
                    after: Some(&after),
                    run_id: None,
                },
            )?;
            Ok(true)
        });
        match out {
            Err(e) if self.acc_is_unique_violation(&e) => Ok(false),
            other => other,
        }
    }

    fn reopen_period(&self, actor: &Actor, strategy: &str, period: Period, now: i64) -> Result<bool, StoreError> {
        tx(self, |s| {
            let p = period.to_string();
            let n = s.acc_exec(
                "DELETE FROM reporting_lock WHERE strategy = ?1 AND period = ?2",
                &[Param::Text(strategy), Param::Text(&p)],
            )?;
            if n == 0 {
                return Ok(false);
            }
            let before = serde_json::json!({ "strategy": strategy, "period": p, "locked": true }).to_string();
            let after = serde_json::json!({ "strategy": strategy, "period": p, "locked": false }).to_string();
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: "reporting.reopen",
                    record: &format!("reporting:{strategy}/{p}"),
                    before: Some(&before),
                    after: Some(&after),
                    run_id: None,
                },
            )?;
            Ok(true)
        })
    }

    fn locked_periods(&self, strategy: &str) -> Result<Vec<Period>, StoreError> {
        let mut out: Vec<Period> = self
            .acc_query("SELECT period FROM reporting_lock WHERE strategy = ?1", &[Param::Text(strategy)])?
            .iter()
            .filter_map(|r| r.first().and_then(text))
            .filter_map(|p| Period::parse(&p).ok())
            .collect();
        out.sort();
        Ok(out)
    }

    fn approved_actuals(&self, strategy: &str) -> Result<Vec<Actual>, StoreError> {
        let rows = self.acc_query(
            &format!(
                "{SELECT} WHERE r.strategy = ?1 AND r.state = 'approved' AND i.workflow = 'published' ORDER BY r.id"
            ),
            &[Param::Text(strategy)],
        )?;
        rows.iter().map(|r| record_of(r).map(|r| r.actual)).collect()
    }
}

/// One row of what is due, with the names a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueEntry {
    /// The reporting organisation's name.
    pub organisation_name: String,
    /// The intervention's title in the language asked (else the other).
    pub intervention_title: String,
    /// The row.
    #[serde(flatten)]
    pub row: senda_core::reporting::DueRow,
}

/// What is due and overdue for `strategy` as of `today` (`senda_core::reporting::due_rows`):
/// every approved or published intervention (agreed with a coordinator, so expected to
/// report) in each ended reporting period it ran. `scope` is the reader's: everything for
/// coordinators and viewers, a partner editor's own organisation's interventions only (the
/// others' reports it may not see), nothing for the public.
pub fn due_list(
    s: &dyn crate::Store,
    strategy: &senda_core::Strategy,
    today: time::Date,
    scope: ReadScope,
    lang: senda_core::intervention::Lang,
) -> Result<Vec<DueEntry>, StoreError> {
    let own = match scope {
        ReadScope::Everything => None,
        ReadScope::PublishedAndOwn(org) => Some(org),
        ReadScope::PublishedOnly => return Ok(Vec::new()),
    };
    let interventions: Vec<_> = s
        .interventions_for_report(&strategy.id, ReadScope::Everything)?
        .into_iter()
        .filter(|r| own.is_none_or(|o| o == r.organisation_id))
        .filter(|r| {
            matches!(
                r.workflow,
                senda_core::intervention::Workflow::Approved | senda_core::intervention::Workflow::Published
            )
        })
        .collect();
    let expected: Vec<senda_core::reporting::Expected> = interventions
        .iter()
        .map(|r| senda_core::reporting::Expected {
            intervention_id: r.id,
            organisation_id: r.organisation_id,
            start: r.intervention.start,
            end: r.intervention.end,
        })
        .collect();
    let filter = ReportFilter { strategy: Some(strategy.id.clone()), organisation_id: own, ..Default::default() };
    let reports: Vec<(i64, Period, ReportState)> = s
        .reports(&filter, ReadScope::Everything)?
        .into_iter()
        .map(|r| (r.intervention_id, r.actual.period, r.state))
        .collect();
    let locked = s.locked_periods(&strategy.id)?;
    let rows = senda_core::reporting::due_rows(&strategy.reporting_def(), today, &expected, &reports, &locked);
    let mut out: Vec<DueEntry> = rows
        .into_iter()
        .map(|row| {
            let iv = interventions.iter().find(|r| r.id == row.intervention_id);
            DueEntry {
                organisation_name: iv.map(|r| r.organisation_name.clone()).unwrap_or_default(),
                intervention_title: iv.map(|r| r.intervention.title.get(lang).to_owned()).unwrap_or_default(),
                row,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.organisation_name, a.row.period, a.row.intervention_id).cmp(&(
            &b.organisation_name,
            b.row.period,
            b.row.intervention_id,
        ))
    });
    Ok(out)
}

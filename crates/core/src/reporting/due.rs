//! What is due and overdue ([`due_rows`]) and approved actuals as indicator observations
//! ([`approved_observations`]).

use super::{Actual, ReportState, ReportingDef};
use crate::indicator::Aggregation;
use crate::observation::{Observation, Place, ValueKind};
use crate::period::Period;
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

// ---------------------------------------------------------------------------------------------
// Indicator progress

/// Approved actuals as indicator observations (kind `actual`, place the department), one per
/// indicator, department and period: the values several partners reported for the same one
/// combine by the indicator's `over_places` rule (partners' reports partition the people
/// reached like places do); values the rule cannot combine are left out (not aggregable).
pub fn approved_observations(strategy: &Strategy, approved: &[Actual]) -> Vec<Observation> {
    let mut groups: BTreeMap<(String, String, Period), Vec<&Actual>> = BTreeMap::new();
    for a in approved {
        groups.entry((a.indicator.clone(), a.department.clone(), a.period)).or_default().push(a);
    }
    let mut out = Vec::new();
    for ((code, dept, period), values) in groups {
        let Some(def) = strategy.indicator(&code) else { continue };
        let Ok(place) = Place::parse(&dept) else { continue };
        let combined = match (values.as_slice(), def.over_places) {
            ([one], _) => Some((one.value, one.denominator)),
            (many, Aggregation::Sum) => {
                many.iter().try_fold(Decimal::ZERO, |acc, a| acc.checked_add(a.value)).map(|v| (v, None))
            }
            (many, Aggregation::Maximum) => many.iter().map(|a| a.value).max().map(|v| (v, None)),
            (many, Aggregation::RatioOfSums) => {
                let num = many.iter().try_fold(Decimal::ZERO, |acc, a| acc.checked_add(a.value));
                let den = many.iter().try_fold(Decimal::ZERO, |acc, a| acc.checked_add(a.denominator?));
                num.zip(den).map(|(n, d)| (n, Some(d)))
            }
            _ => None,
        };
        if let Some((value, denominator)) = combined {
            out.push(Observation {
                series: code,
                place,
                period,
                disaggregation: Default::default(),
                kind: ValueKind::Actual,
                value,
                denominator,
                row: 0,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Due and overdue

/// An intervention expected to report: its id, owner and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// `intervention.id`.
    pub intervention_id: i64,
    /// The owning organisation.
    pub organisation_id: i64,
    /// Its start.
    pub start: Date,
    /// Its end, when known.
    pub end: Option<Date>,
}

/// Where an intervention's reporting of one period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    /// Nothing submitted after the due date.
    Overdue,
    /// Sent back by a coordinator: the partner must fix and submit again.
    Returned,
    /// Nothing submitted yet; the due date has not passed.
    Due,
    /// Submitted, waiting for review.
    Submitted,
    /// Every report approved.
    Approved,
}

impl DueStatus {
    /// `overdue`, `returned`, `due`, `submitted`, `approved`.
    pub fn as_str(self) -> &'static str {
        match self {
            DueStatus::Overdue => "overdue",
            DueStatus::Returned => "returned",
            DueStatus::Due => "due",
            DueStatus::Submitted => "submitted",
            DueStatus::Approved => "approved",
        }
    }

    /// Parses [`DueStatus::as_str`].
    pub fn parse(raw: &str) -> Option<Self> {
        [DueStatus::Overdue, DueStatus::Returned, DueStatus::Due, DueStatus::Submitted, DueStatus::Approved]
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
    }
}

/// One intervention and one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueRow {
    /// The organisation that reports.
    pub organisation_id: i64,
    /// The intervention.
    pub intervention_id: i64,
    /// The period.
    pub period: Period,
    /// The last day to report it.
    #[serde(with = "date_text")]
    pub due_date: Date,
    /// Where it stands.
    pub status: DueStatus,
    /// Days past the due date (overdue and returned rows; 0 otherwise).
    pub days_overdue: i64,
    /// Reports written for it, by state (drafts included).
    pub reports: BTreeMap<ReportState, u32>,
    /// Whether a coordinator locked the period.
    pub locked: bool,
}

mod date_text {
    pub fn serialize<S: serde::Serializer>(d: &time::Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
}

/// What is due: every ended reporting period in which each intervention of `expected` ran
/// (from its start to its end), with where it stands given the reports written
/// (`(intervention id, period, state)`): sorted by organisation, period, intervention.
pub fn due_rows(
    rules: &ReportingDef,
    today: Date,
    expected: &[Expected],
    reports: &[(i64, Period, ReportState)],
    locked: &[Period],
) -> Vec<DueRow> {
    let mut states: BTreeMap<(i64, Period), BTreeMap<ReportState, u32>> = BTreeMap::new();
    for (id, p, s) in reports {
        *states.entry((*id, *p)).or_default().entry(*s).or_default() += 1;
    }
    let periods = rules.ended_periods(today);
    let mut out = Vec::new();
    for e in expected {
        for p in periods.iter().filter(|p| e.start <= p.end() && e.end.is_none_or(|end| end >= p.start())) {
            let reports = states.get(&(e.intervention_id, *p)).cloned().unwrap_or_default();
            let has = |s: ReportState| reports.get(&s).copied().unwrap_or(0) > 0;
            let due_date = rules.due_date(*p);
            let late = (today - due_date).whole_days().max(0);
            let status = if has(ReportState::Returned) {
                DueStatus::Returned
            } else if has(ReportState::Submitted) {
                DueStatus::Submitted
            } else if has(ReportState::Approved) && !has(ReportState::Draft) {
                DueStatus::Approved
            } else if today > due_date {
                DueStatus::Overdue
            } else {
                DueStatus::Due
            };
            let days_overdue = if matches!(status, DueStatus::Overdue | DueStatus::Returned) { late } else { 0 };
            out.push(DueRow {
                organisation_id: e.organisation_id,
                intervention_id: e.intervention_id,
                period: *p,
                due_date,
                status,
                days_overdue,
                reports,
                locked: locked.contains(p),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.organisation_id, a.period, a.intervention_id).cmp(&(b.organisation_id, b.period, b.intervention_id))
    });
    out
}

//! The reporting cycle (issue 18, item 5): reporting periods set in the strategy file
//! (`[reporting]`: monthly or quarterly, a due rule), indicator actuals a partner editor reports
//! per period and department for its own interventions, their review (draft → submitted →
//! approved | returned with a comment → submitted again ...), locked periods, and what is due
//! and overdue.
//!
//! Rules (docs/reporting.md):
//! - A **reporting period** is a calendar month or quarter (the strategy's `frequency`) that
//!   starts on or after the period holding `start` and has ended: actuals of a period are
//!   reported once it is over. Its report is **due** `due_days` after the period's last day
//!   (default [`DEFAULT_DUE_DAYS`]).
//! - A report is one actual of one indicator of one of the intervention's lines of effort, for
//!   one period and one department (ISO 3166-2) of one of the intervention's countries. One
//!   report per (intervention, indicator, period, department).
//! - Only **approved** reports feed indicator progress ([`approved_observations`]), and only
//!   those of published interventions are public.
//! - A **locked** period takes no change at all (save, submit, approve, return) until a
//!   coordinator reopens it.
//!
//! [`parse_actual`] is the one check of every way in (the command line, the web form, the
//! API); the policy questions ([`may_step`], [`may_lock`]) are [`crate::accounts::decide`]'s
//! answers. Parts: this file (periods, the review, the check), `due.rs` ([`due_rows`],
//! [`approved_observations`]), `tests.rs`.

use crate::accounts::{Action, Decision, Principal, Resource, decide};
use crate::codes::CountryCode;
use crate::indicator::{Aggregation, IndicatorDef, IndicatorKind};
use crate::intervention::{FieldError, Intervention, Invalid, Problem};
use crate::period::Period;
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// Days after a period's last day its report is due, when the strategy file does not say.
/// Thirty days is the usual monthly and quarterly reporting window of humanitarian and
/// development reporting systems (e.g. a quarter's report by the end of the next month).
pub const DEFAULT_DUE_DAYS: u32 = 30;
/// The longest due rule accepted (days).
pub const MAX_DUE_DAYS: u32 = 366;
/// Characters at most in a note or a comment.
pub const MAX_TEXT: usize = 2000;

/// How often partners report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Calendar months (`2024-03`).
    Monthly,
    /// Calendar quarters (`2024-Q1`).
    Quarterly,
}

impl Frequency {
    /// `monthly` or `quarterly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
        }
    }
}

fn default_due_days() -> u32 {
    DEFAULT_DUE_DAYS
}

/// The strategy file's `[reporting]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingDef {
    /// `monthly` or `quarterly`.
    pub frequency: Frequency,
    /// A period's report is due this many days after its last day (0 to [`MAX_DUE_DAYS`]).
    #[serde(default = "default_due_days")]
    pub due_days: u32,
    /// ISO 8601 date: the first reporting period is the one holding it.
    pub start: String,
}

impl ReportingDef {
    /// What a strategy without `[reporting]` uses: quarterly, due after
    /// [`DEFAULT_DUE_DAYS`], from the strategy's publication date.
    pub fn default_for(published: &str) -> Self {
        ReportingDef { frequency: Frequency::Quarterly, due_days: DEFAULT_DUE_DAYS, start: published.to_owned() }
    }

    /// Checks the values serde cannot: `start` is a date, `due_days` at most [`MAX_DUE_DAYS`].
    /// The message names the key.
    pub fn check(&self) -> Result<(), String> {
        if crate::codes::parse_iso_date(&self.start).is_err() {
            return Err(format!("[reporting] start = {:?} is not an ISO 8601 date such as 2021-10-01", self.start));
        }
        if self.due_days > MAX_DUE_DAYS {
            return Err(format!("[reporting] due_days = {} is more than {MAX_DUE_DAYS} days", self.due_days));
        }
        Ok(())
    }

    fn start_date(&self) -> Date {
        crate::codes::parse_iso_date(&self.start).unwrap_or(Date::MIN)
    }

    /// The reporting period holding `d`.
    pub fn period_of(&self, d: Date) -> Period {
        match self.frequency {
            Frequency::Monthly => Period::month_of(d),
            Frequency::Quarterly => Period::Quarter { year: d.year(), quarter: (d.month() as u8 - 1) / 3 + 1 },
        }
    }

    /// The first reporting period.
    pub fn first_period(&self) -> Period {
        self.period_of(self.start_date())
    }

    /// The period after `p`.
    pub fn next(&self, p: Period) -> Period {
        let after = p.end().next_day().unwrap_or(p.end());
        self.period_of(after)
    }

    /// The last day to report period `p`.
    pub fn due_date(&self, p: Period) -> Date {
        p.end().checked_add(time::Duration::days(i64::from(self.due_days))).unwrap_or(p.end())
    }

    /// Every reporting period that has ended before `today`, oldest first.
    pub fn ended_periods(&self, today: Date) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = self.first_period();
        while p.end() < today && out.len() < 100_000 {
            out.push(p);
            p = self.next(p);
        }
        out
    }

    /// The reporting periods in words, for messages: `quarterly from 2021-Q4 to 2026-Q3`.
    pub fn describe(&self, today: Date) -> String {
        match self.ended_periods(today).last() {
            Some(last) => format!("{} from {} to {last}", self.frequency.as_str(), self.first_period()),
            None => format!("{} from {}, none ended yet", self.frequency.as_str(), self.first_period()),
        }
    }

    /// `raw` as a reporting period that has ended before `today`.
    pub fn check_period(&self, raw: &str, today: Date) -> Result<Period, Problem> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(Problem::Missing);
        }
        let p = Period::parse(t).map_err(|_| Problem::Period(t.to_owned()))?;
        let kind_ok = matches!(
            (self.frequency, p),
            (Frequency::Monthly, Period::Month { .. }) | (Frequency::Quarterly, Period::Quarter { .. })
        );
        if !kind_ok || p < self.first_period() || p.end() >= today {
            return Err(Problem::PeriodOutside { value: t.to_owned(), allowed: self.describe(today) });
        }
        Ok(p)
    }
}

impl Strategy {
    /// The strategy's reporting rules: its `[reporting]` table, else
    /// [`ReportingDef::default_for`] its publication date.
    pub fn reporting_def(&self) -> ReportingDef {
        self.reporting.clone().unwrap_or_else(|| ReportingDef::default_for(&self.published))
    }
}

// ---------------------------------------------------------------------------------------------
// Reports and their review

/// Where a report is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Saved by the partner, not sent.
    Draft,
    /// Sent for review.
    Submitted,
    /// Approved by a coordinator: it feeds indicator progress.
    Approved,
    /// Sent back to the partner with a comment.
    Returned,
}

impl ReportState {
    /// Every state.
    pub const ALL: [ReportState; 4] =
        [ReportState::Draft, ReportState::Submitted, ReportState::Approved, ReportState::Returned];

    /// `draft`, `submitted`, `approved`, `returned`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Approved => "approved",
            ReportState::Returned => "returned",
        }
    }

    /// Parses [`ReportState::as_str`].
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }
}

/// A step of a report's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Write the values, keep the report unsent (a new report is a draft; a returned one stays
    /// returned until sent again).
    Save,
    /// Write the values and send them for review (again, after a return).
    Submit,
    /// A coordinator approves a submitted report.
    Approve,
    /// A coordinator sends a submitted or approved report back, with a comment.
    Return,
}

impl Step {
    /// `save`, `submit`, `approve`, `return`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Save => "save",
            Step::Submit => "submit",
            Step::Approve => "approve",
            Step::Return => "return",
        }
    }

    /// Parses [`Step::as_str`].
    pub fn parse(raw: &str) -> Option<Self> {
        [Step::Save, Step::Submit, Step::Approve, Step::Return].into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// The state after this step from `from` (`None`: no report yet), and the policy action it
    /// needs: saving and submitting are writes of the partner's record, approving and
    /// returning are approvals. Anything else is a [`Problem::ReportStep`] on the field `state`.
    pub fn apply(self, from: Option<ReportState>) -> Result<(ReportState, Action), FieldError> {
        use ReportState::*;
        let to = match (from, self) {
            (None | Some(Draft), Step::Save) => Some((Draft, Action::Write)),
            (Some(Returned), Step::Save) => Some((Returned, Action::Write)),
            (None | Some(Draft | Returned), Step::Submit) => Some((Submitted, Action::Write)),
            (Some(Submitted), Step::Approve) => Some((Approved, Action::Approve)),
            (Some(Submitted | Approved), Step::Return) => Some((Returned, Action::Approve)),
            _ => None,
        };
        to.ok_or_else(|| {
            FieldError::new(
                "state",
                Problem::ReportStep {
                    from: from.map_or("not written yet", ReportState::as_str).to_owned(),
                    step: self.as_str().to_owned(),
                },
            )
        })
    }
}

/// Whether a report is public: approved, of a published intervention.
pub fn report_published(state: ReportState, intervention_published: bool) -> bool {
    state == ReportState::Approved && intervention_published
}

/// The policy's answer to `principal` taking `step` on a report of an intervention of `owner`
/// now in `from`; a step the review does not allow is an error on the field `state`.
pub fn may_step(
    principal: &Principal,
    owner: i64,
    from: Option<ReportState>,
    step: Step,
) -> Result<Decision, FieldError> {
    let (_, action) = step.apply(from)?;
    Ok(decide(principal, action, Resource::Record { owner: Some(owner), published: false }))
}

/// The policy's answer to `principal` locking or reopening a period: an approval of every
/// organisation's records (a coordinator's, an administrator's).
pub fn may_lock(principal: &Principal) -> Decision {
    decide(principal, Action::Approve, Resource::Record { owner: Some(i64::MIN), published: false })
}

/// An actual as typed: text fields from a command line or a form.
#[derive(Debug, Clone, Default)]
pub struct ActualInput<'a> {
    /// `indicator`: an indicator code (`LOE7-1`).
    pub indicator: &'a str,
    /// `period`: `2024-Q1` or `2024-03`, as the strategy's frequency.
    pub period: &'a str,
    /// `department`: ISO 3166-2 (`HN-CR`, `GT-16`).
    pub department: &'a str,
    /// `value`: a plain number.
    pub value: &'a str,
    /// `denominator`: for ratio indicators only.
    pub denominator: &'a str,
    /// `note`: optional text.
    pub note: &'a str,
}

/// What [`parse_actual`] checks against.
pub struct ActualContext<'a> {
    /// The strategy of the intervention.
    pub strategy: &'a Strategy,
    /// The intervention reported on.
    pub intervention: &'a Intervention,
    /// Today (UTC): periods must have ended before it.
    pub today: Date,
    /// The locked periods of the strategy.
    pub locked: &'a [Period],
    /// The department check: the canonical ISO 3166-2 code of a department of the country,
    /// or `None` (`senda_stats::countries::canonical_admin1` in the CLI and the web).
    pub admin1: fn(CountryCode, &str) -> Option<String>,
}

/// A checked actual: it exists, so it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    /// The indicator's code.
    pub indicator: String,
    /// The reporting period.
    pub period: Period,
    /// The department, canonical ISO 3166-2.
    pub department: String,
    /// Its country.
    pub country: CountryCode,
    /// The value, exact, in the indicator's unit (for a ratio, the numerator).
    pub value: Decimal,
    /// For a ratio indicator: the denominator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Decimal>,
    /// A note by the partner (plain text; shown escaped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Checks a free text: trimmed, at most [`MAX_TEXT`] characters, no control character (line
/// breaks and tabs aside). Markup is text like any other (escaped wherever it is shown).
pub fn check_text(field: &str, raw: &str, required: bool) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return if required { Err(FieldError::new(field, Problem::Missing)) } else { Ok(None) };
    }
    if t.chars().count() > MAX_TEXT {
        return Err(FieldError::new(field, Problem::TooLong(MAX_TEXT)));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(FieldError::new(field, Problem::Control));
    }
    Ok(Some(t.to_owned()))
}

fn is_ratio(def: &IndicatorDef) -> bool {
    [def.over_places, def.over_time, def.up_hierarchy].contains(&Aggregation::RatioOfSums)
}

fn number(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<Decimal> {
    let t = raw.trim();
    match crate::money::parse_amount(t) {
        Ok(v) if v.is_sign_negative() && !v.is_zero() => {
            errors.push(FieldError::new(field, Problem::Negative(t.to_owned())));
            None
        }
        Ok(v) => Some(v),
        Err(_) if t.is_empty() => {
            errors.push(FieldError::new(field, Problem::Missing));
            None
        }
        Err(crate::codes::CodeError::AmountRange(v)) => {
            errors.push(FieldError::new(field, Problem::AmountRange(v)));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(field, Problem::NotANumber(t.to_owned())));
            None
        }
    }
}

/// The result indicators a report on `intervention` may name: those of its lines of effort.
pub fn indicators_for<'a>(strategy: &'a Strategy, intervention: &Intervention) -> Vec<&'a IndicatorDef> {
    let lines = intervention.line_ids();
    strategy
        .indicators
        .iter()
        .filter(|d| d.kind == IndicatorKind::Result && lines.contains(&d.line_of_effort.as_str()))
        .collect()
}

/// Checks one actual: every field's problem at once, each naming its field (`indicator`,
/// `period`, `department`, `value`, `denominator`, `note`).
pub fn parse_actual(input: &ActualInput<'_>, ctx: &ActualContext<'_>) -> Result<Actual, Invalid> {
    let mut errors = Vec::new();
    let allowed = indicators_for(ctx.strategy, ctx.intervention);
    let code = input.indicator.trim();
    let def = allowed.iter().find(|d| d.code.eq_ignore_ascii_case(code)).copied();
    if def.is_none() {
        errors.push(FieldError::new(
            "indicator",
            if code.is_empty() {
                Problem::Missing
            } else {
                Problem::NotOneOf { value: code.to_owned(), allowed: allowed.iter().map(|d| d.code.clone()).collect() }
            },
        ));
    }
    let rules = ctx.strategy.reporting_def();
    let period = match rules.check_period(input.period, ctx.today) {
        Ok(p) if ctx.locked.contains(&p) => {
            errors.push(FieldError::new("period", Problem::PeriodLocked(p.to_string())));
            None
        }
        Ok(p) => Some(p),
        Err(problem) => {
            errors.push(FieldError::new("period", problem));
            None
        }
    };
    let raw_dept = input.department.trim();
    let department = if raw_dept.is_empty() {
        errors.push(FieldError::new("department", Problem::Missing));
        None
    } else {
        match CountryCode::parse(raw_dept.split('-').next().unwrap_or_default()) {
            Ok(_) if !raw_dept.contains('-') => {
                errors.push(FieldError::new("department", Problem::Department(raw_dept.to_owned())));
                None
            }
            Ok(cc) if !ctx.intervention.countries.contains(&cc) => {
                errors.push(FieldError::new("department", Problem::DepartmentOutside(raw_dept.to_owned())));
                None
            }
            Ok(cc) => match (ctx.admin1)(cc, raw_dept) {
                Some(code) => Some((code, cc)),
                None => {
                    errors.push(FieldError::new("department", Problem::Department(raw_dept.to_owned())));
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError::new("department", Problem::Department(raw_dept.to_owned())));
                None
            }
        }
    };
    let value = number("value", input.value, &mut errors);
    let denominator = match def {
        Some(d) if is_ratio(d) => match number("denominator", input.denominator, &mut errors) {
            Some(x) if x.is_zero() => {
                errors.push(FieldError::new(
                    "denominator",
                    Problem::NotOneOf { value: "0".into(), allowed: vec!["> 0".into()] },
                ));
                None
            }
            x => x,
        },
        _ if !input.denominator.trim().is_empty() => {
            errors.push(FieldError::new("denominator", Problem::OnlyForRatio));
            None
        }
        _ => None,
    };
    let note = match check_text("note", input.note, false) {
        Ok(n) => n,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (def, period, department, value) {
        (Some(def), Some(period), Some((department, country)), Some(value)) if errors.is_empty() => {
            Ok(Actual { indicator: def.code.clone(), period, department, country, value, denominator, note })
        }
        _ => Err(Invalid(errors)),
    }
}

mod due;
pub use due::*;

#[cfg(test)]
mod tests;

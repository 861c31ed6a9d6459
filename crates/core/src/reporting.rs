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
//! [`parse_actual`] is the one check of every way in (the command line, the web form); the
//! policy questions ([`may_step`], [`may_lock`]) are [`crate::accounts::decide`]'s answers.

use crate::accounts::{Action, Decision, Principal, Resource, decide};
use crate::codes::CountryCode;
use crate::indicator::{Aggregation, IndicatorDef, IndicatorKind};
use crate::intervention::{FieldError, Intervention, Invalid, Problem};
use crate::observation::{Observation, Place, ValueKind};
use crate::period::Period;
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
            Ok(cc) if !raw_dept.contains('-') => {
                let _ = cc;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervention::{Context, parse_json};

    fn st() -> Strategy {
        Strategy::builtin("cmms-2021").expect("strategy")
    }

    fn d(s: &str) -> Date {
        crate::codes::parse_iso_date(s).expect("date")
    }

    fn admin1(c: CountryCode, code: &str) -> Option<String> {
        let code = code.trim().to_ascii_uppercase();
        (code.starts_with(c.as_str()) && ["HN-CR", "HN-FM", "GT-16", "SV-SS"].contains(&code.as_str())).then_some(code)
    }

    fn campaign() -> Intervention {
        let s = st();
        let ctx = Context { strategies: vec![&s], admin1 };
        let json = r#"{"organisation": 7, "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "messaging"}],
            "instrument": "public_messaging", "title": {"en": "Radio"}, "countries": ["HN"], "start": "2023-01-01",
            "status": "active", "public_messaging": {"channels": ["radio"], "languages": ["es"], "audiences": ["youth"]}}"#;
        parse_json(json, &ctx).expect("intervention")
    }

    fn input<'a>(indicator: &'a str, period: &'a str, department: &'a str, value: &'a str) -> ActualInput<'a> {
        ActualInput { indicator, period, department, value, denominator: "", note: "" }
    }

    #[test]
    fn the_builtin_strategy_reports_quarterly_and_periods_end_before_today() {
        let rules = st().reporting_def();
        assert_eq!(rules.frequency, Frequency::Quarterly);
        let today = d("2024-05-10");
        let ended = rules.ended_periods(today);
        assert_eq!(ended.last().map(ToString::to_string).as_deref(), Some("2024-Q1"));
        assert_eq!(rules.due_date(Period::parse("2024-Q1").expect("q")).to_string(), "2024-04-30");
        assert!(rules.check_period("2024-Q2", today).is_err(), "not ended yet");
        assert!(matches!(rules.check_period("2024-03", today), Err(Problem::PeriodOutside { .. })));
        assert!(matches!(rules.check_period("2001-Q1", today), Err(Problem::PeriodOutside { .. })));
        assert_eq!(rules.check_period("2024-q1", today), Ok(Period::Quarter { year: 2024, quarter: 1 }));
    }

    #[test]
    fn bad_reporting_tables_are_refused_with_the_key() {
        let base = "id='x'\ntitle='t'\nshort_title='t'\npublished='2021-01-01'\nsource='s'\nfocus_countries=['GT']\n[[lines_of_effort]]\nid='A'\ntitle='a'\nscope='s'\n";
        let ok = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-02-15'\n");
        let s = Strategy::from_toml("ok.toml", &ok).expect("ok");
        assert_eq!(s.reporting_def().due_days, DEFAULT_DUE_DAYS);
        assert_eq!(s.reporting_def().first_period().to_string(), "2021-02");
        let weekly = format!("{base}[reporting]\nfrequency='weekly'\nstart='2021-02-15'\n");
        let e = Strategy::from_toml("f.toml", &weekly).expect_err("weekly").to_string();
        assert!(e.contains("weekly") && e.contains("monthly") && e.contains("quarterly"), "{e}");
        let bad_start = format!("{base}[reporting]\nfrequency='monthly'\nstart='Feb 2021'\n");
        let e = Strategy::from_toml("f.toml", &bad_start).expect_err("start").to_string();
        assert!(e.contains("f.toml") && e.contains("start") && e.contains("Feb 2021"), "{e}");
        let long = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-01-01'\ndue_days=900\n");
        let e = Strategy::from_toml("f.toml", &long).expect_err("due").to_string();
        assert!(e.contains("due_days"), "{e}");
        let neg = format!("{base}[reporting]\nfrequency='monthly'\nstart='2021-01-01'\ndue_days=-3\n");
        assert!(Strategy::from_toml("f.toml", &neg).is_err());
    }

    #[test]
    fn bad_actuals_name_each_field_and_make_nothing() {
        let s = st();
        let iv = campaign();
        let locked = [Period::parse("2023-Q4").expect("q")];
        let ctx = ActualContext { strategy: &s, intervention: &iv, today: d("2024-05-10"), locked: &locked, admin1 };
        let ok = parse_actual(&input("loe7-1", "2024-Q1", "hn-cr", "1500"), &ctx).expect("valid");
        assert_eq!((ok.indicator.as_str(), ok.department.as_str(), ok.value), ("LOE7-1", "HN-CR", Decimal::from(1500)));
        for bad in ["N/A", "1,5", "<5", "", "1e3"] {
            let e = parse_actual(&input("LOE7-1", "2024-Q1", "HN-CR", bad), &ctx).expect_err(bad);
            assert_eq!(e.0.len(), 1, "{bad}: {e}");
            assert_eq!(e.0[0].field, "value");
        }
        let e = parse_actual(&input("LOE7-1", "2024-Q1", "HN-CR", "-3"), &ctx).expect_err("negative");
        assert_eq!(e.0[0].problem, Problem::Negative("-3".into()));
        let e = parse_actual(&input("LOE7-1", "2024-Q1", "GT-16", "3"), &ctx).expect_err("outside");
        assert_eq!(e.0[0].problem, Problem::DepartmentOutside("GT-16".into()));
        let e = parse_actual(&input("LOE7-1", "2023-Q4", "HN-CR", "3"), &ctx).expect_err("locked");
        assert_eq!(e.0[0].problem, Problem::PeriodLocked("2023-Q4".into()));
        let e = parse_actual(&input("LOE1-1", "2024-Q2", "HN-XX", "x"), &ctx).expect_err("all");
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["indicator", "period", "department", "value"]);
        assert!(e.0[1].message(crate::intervention::Lang::Es).contains("período de informe"));
        let mut i = input("LOE7-1", "2024-Q1", "HN-CR", "3");
        i.denominator = "10";
        i.note = "<script>alert(1)</script>";
        let e = parse_actual(&i, &ctx).expect_err("denominator");
        assert_eq!(e.0[0].problem, Problem::OnlyForRatio);
        i.denominator = "";
        assert_eq!(parse_actual(&i, &ctx).expect("markup is text").note.as_deref(), Some("<script>alert(1)</script>"));
    }

    #[test]
    fn the_review_goes_from_draft_to_approved_or_returned_and_back() {
        use ReportState::*;
        assert_eq!(Step::Save.apply(None).map(|x| x.0), Ok(Draft));
        assert_eq!(Step::Submit.apply(Some(Returned)).map(|x| x.0), Ok(Submitted));
        assert_eq!(Step::Approve.apply(Some(Submitted)), Ok((Approved, Action::Approve)));
        assert_eq!(Step::Return.apply(Some(Approved)).map(|x| x.0), Ok(Returned));
        assert!(Step::Approve.apply(Some(Draft)).is_err());
        assert!(Step::Submit.apply(Some(Approved)).is_err(), "an approved report changes only after a return");
        assert!(Step::Save.apply(Some(Submitted)).is_err());
    }

    #[test]
    fn due_rows_say_due_overdue_submitted_returned_approved() {
        let rules = st().reporting_def();
        let e = Expected { intervention_id: 1, organisation_id: 7, start: d("2023-11-15"), end: None };
        let q = |s: &str| Period::parse(s).expect("q");
        let reports = [(1, q("2023-Q4"), ReportState::Approved), (1, q("2024-Q1"), ReportState::Returned)];
        let rows = due_rows(&rules, d("2024-08-15"), std::slice::from_ref(&e), &reports, &[q("2023-Q4")]);
        let got: Vec<(String, &str, i64, bool)> =
            rows.iter().map(|r| (r.period.to_string(), r.status.as_str(), r.days_overdue, r.locked)).collect();
        assert_eq!(
            got,
            [
                ("2023-Q4".to_owned(), "approved", 0, true),
                ("2024-Q1".to_owned(), "returned", 107, false),
                ("2024-Q2".to_owned(), "overdue", 16, false),
            ]
        );
        let rows = due_rows(&rules, d("2024-07-10"), &[e], &[], &[]);
        assert_eq!(rows.last().map(|r| r.status), Some(DueStatus::Due));
    }

    #[test]
    fn approved_values_of_several_partners_add_up_by_the_places_rule() {
        let s = st();
        let a = |v: i64| Actual {
            indicator: "LOE7-1".into(),
            period: Period::parse("2024-Q1").expect("q"),
            department: "HN-CR".into(),
            country: CountryCode::parse("HN").expect("hn"),
            value: Decimal::from(v),
            denominator: None,
            note: None,
        };
        let obs = approved_observations(&s, &[a(100), a(250)]);
        assert_eq!(obs.len(), 1);
        assert_eq!(
            (obs[0].value, obs[0].kind, obs[0].place.to_string()),
            (Decimal::from(350), ValueKind::Actual, "HN-CR".into())
        );
    }
}

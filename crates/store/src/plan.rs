//! The plan's requirements in the database (issue 18, item 4), on both backends: written once
//! over the [`AccountSql`] primitives, every write with its audit event in the same
//! transaction. Requirements are the coordinators' plan, public like the strategy itself; who
//! may write them is the access policy's (`senda_core::accounts::decide` with
//! `Resource::Plan`), asked by the caller as for the other entered records.

use crate::StoreError;
use crate::accounts::audit::{AuditRow, write as audit};
use crate::accounts::{AccountSql, Actor, Param, int, rfc3339, text, tx};
use crate::tables::Cell;
use senda_core::codes::CountryCode;
use senda_core::money::CurrencyCode;
use senda_core::plan::Requirement;
use serde::Serialize;

/// A requirement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementRecord {
    /// `requirement.id`.
    pub id: i64,
    /// RFC 3339, UTC: when it was last set.
    pub updated_at: String,
    /// The requirement.
    pub requirement: Requirement,
}

/// What setting a requirement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetOutcome {
    /// The cell had no requirement.
    Created,
    /// The cell's requirement was replaced by another value.
    Replaced,
    /// The cell already held exactly this requirement (nothing written, nothing audited).
    Unchanged,
}

/// The plan on any backend (a supertrait of `Store`).
pub trait PlanStore {
    /// Sets the requirement of its cell (strategy, line of effort, country, fiscal year);
    /// audited as `requirement.set` with the value before.
    fn set_requirement(&self, actor: &Actor, r: &Requirement, now: i64) -> Result<SetOutcome, StoreError>;
    /// Sets every requirement of `rs` in one transaction (all or none), in order.
    fn set_requirements(&self, actor: &Actor, rs: &[Requirement], now: i64) -> Result<Vec<SetOutcome>, StoreError>;
    /// Removes the requirement of a cell; `false` when there was none. Audited.
    fn delete_requirement(
        &self,
        actor: &Actor,
        strategy: &str,
        line_of_effort: &str,
        country: &str,
        fiscal_year: i32,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The requirements of `strategy`, by line of effort, country and fiscal year.
    fn requirements(&self, strategy: &str) -> Result<Vec<RequirementRecord>, StoreError>;
}

const SELECT: &str = "SELECT id, strategy, line_of_effort, country, fiscal_year, amount, currency, source, note, updated_at \
     FROM requirement";

fn corrupt(id: i64, what: &str) -> StoreError {
    StoreError::Corrupt { record: format!("requirement:{id}"), message: what.to_owned() }
}

fn record_of(r: &[Cell]) -> Result<RequirementRecord, StoreError> {
    let id = r.first().and_then(int).ok_or_else(|| corrupt(0, "no id"))?;
    let t = |i: usize| r.get(i).and_then(text);
    let requirement = Requirement {
        strategy: t(1).ok_or_else(|| corrupt(id, "no strategy"))?,
        line_of_effort: t(2).ok_or_else(|| corrupt(id, "no line of effort"))?,
        country: t(3).and_then(|c| CountryCode::parse(&c).ok()).ok_or_else(|| corrupt(id, "bad country"))?,
        fiscal_year: r
            .get(4)
            .and_then(int)
            .and_then(|y| i32::try_from(y).ok())
            .ok_or_else(|| corrupt(id, "bad fiscal year"))?,
        amount: t(5).and_then(|a| a.parse().ok()).ok_or_else(|| corrupt(id, "bad amount"))?,
        currency: t(6).and_then(|c| CurrencyCode::parse(&c).ok()).ok_or_else(|| corrupt(id, "bad currency"))?,
        source: t(7).unwrap_or_default(),
        note: t(8),
    };
    Ok(RequirementRecord { id, updated_at: t(9).unwrap_or_default(), requirement })
}

fn cell_key(r: &Requirement) -> String {
    format!("requirement:{}/{}/{}/FY{}", r.strategy, r.line_of_effort, r.country.as_str(), r.fiscal_year)
}

fn find<S: AccountSql + ?Sized>(
    s: &S,
    strategy: &str,
    line: &str,
    country: &str,
    fy: i32,
) -> Result<Option<RequirementRecord>, StoreError> {
    s.acc_query(
        &format!("{SELECT} WHERE strategy = ?1 AND line_of_effort = ?2 AND country = ?3 AND fiscal_year = ?4"),
        &[Param::Text(strategy), Param::Text(line), Param::Text(country), Param::Int(i64::from(fy))],
    )?
    .first()
    .map(|r| record_of(r))
    .transpose()
}

fn set_one<S: AccountSql + ?Sized>(s: &S, actor: &Actor, r: &Requirement, now: i64) -> Result<SetOutcome, StoreError> {
    let before = find(s, &r.strategy, &r.line_of_effort, r.country.as_str(), r.fiscal_year)?;
    if before.as_ref().is_some_and(|b| b.requirement == *r) {
        return Ok(SetOutcome::Unchanged);
    }
    let at = rfc3339(now);
    let amount = r.amount.to_string();
    let params = [
        Param::Text(&r.strategy),
        Param::Text(&r.line_of_effort),
        Param::Text(r.country.as_str()),
        Param::Int(i64::from(r.fiscal_year)),
        Param::Text(&amount),
        Param::Text(r.currency.as_str()),
        Param::Text(&r.source),
        r.note.as_deref().into(),
        Param::Text(&at),
    ];
    let outcome = if before.is_some() {
        s.acc_exec(
            "UPDATE requirement SET amount = ?5, currency = ?6, source = ?7, note = ?8, updated_at = ?9 \
             WHERE strategy = ?1 AND line_of_effort = ?2 AND country = ?3 AND fiscal_year = ?4",
            &params,
        )?;
        SetOutcome::Replaced
    } else {
        s.acc_exec(
            "INSERT INTO requirement (strategy, line_of_effort, country, fiscal_year, amount, currency, source, note, updated_at) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            &params,
        )?;
        SetOutcome::Created
    };
    let before_json = before.map(|b| serde_json::to_string(&b.requirement).unwrap_or_default());
    let after_json = serde_json::to_string(r).unwrap_or_default();
    audit(
        s,
        &AuditRow {
            actor,
            now,
            action: "requirement.set",
            record: &cell_key(r),
            before: before_json.as_deref(),
            after: Some(&after_json),
            run_id: None,
        },
    )?;
    Ok(outcome)
}

impl<S: AccountSql + ?Sized> PlanStore for S {
    fn set_requirement(&self, actor: &Actor, r: &Requirement, now: i64) -> Result<SetOutcome, StoreError> {
        tx(self, |s| set_one(s, actor, r, now))
    }

    fn set_requirements(&self, actor: &Actor, rs: &[Requirement], now: i64) -> Result<Vec<SetOutcome>, StoreError> {
        tx(self, |s| rs.iter().map(|r| set_one(s, actor, r, now)).collect())
    }

    fn delete_requirement(
        &self,
        actor: &Actor,
        strategy: &str,
        line_of_effort: &str,
        country: &str,
        fiscal_year: i32,
        now: i64,
    ) -> Result<bool, StoreError> {
        tx(self, |s| {
            let Some(before) = find(s, strategy, line_of_effort, country, fiscal_year)? else {
                return Ok(false);
            };
            s.acc_exec("DELETE FROM requirement WHERE id = ?1", &[Param::Int(before.id)])?;
            let before_json = serde_json::to_string(&before.requirement).unwrap_or_default();
            audit(
                s,
                &AuditRow {
                    actor,
                    now,
                    action: "requirement.delete",
                    record: &cell_key(&before.requirement),
                    before: Some(&before_json),
                    after: None,
                    run_id: None,
                },
            )?;
            Ok(true)
        })
    }

    fn requirements(&self, strategy: &str) -> Result<Vec<RequirementRecord>, StoreError> {
        self.acc_query(
            &format!("{SELECT} WHERE strategy = ?1 ORDER BY line_of_effort, country, fiscal_year"),
            &[Param::Text(strategy)],
        )?
        .iter()
        .map(|r| record_of(r))
        .collect()
    }
}

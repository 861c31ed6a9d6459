//! Partner contributions (issue 18, item 2) in the database, on both backends.
//!
//! Written once over the backends' [`AccountSql`] primitives, like
//! [`crate::interventions`]. Every write runs in one transaction with its audit event
//! (`audit_event`, record `contribution:ID`). Reads take the access policy's [`ReadScope`]
//! and apply it in SQL, so a list never shows a contribution a single read would not.
//!
//! The record is stored whole as JSON (`contribution.doc`, the checked [`Contribution`]
//! serialised: the input format itself) beside the columns lists filter on. A contribution
//! is public only once published (`published = 1`), which a coordinator decides
//! (`senda_core::contribution::may_publish`); the policy is the caller's, as for
//! interventions (the command line is trusted).

use crate::StoreError;
use crate::accounts::{AccountSql, Actor, Param};
use crate::accounts::{int, rfc3339, text};
use crate::tables::Cell;
use senda_core::CountryCode;
use senda_core::accounts::ReadScope;
use senda_core::contribution::Contribution;
use senda_core::intervention::{Lang, Problem};
use serde::Serialize;

/// A contribution as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContributionRecord {
    /// `contribution.id`.
    pub id: i64,
    /// The contributing organisation.
    pub organisation_id: i64,
    /// Its name.
    pub organisation_name: String,
    /// Whether it is public (a coordinator published it).
    pub published: bool,
    /// 1 at creation, one more at every change.
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// The record.
    pub contribution: Contribution,
}

/// Which contributions to list (all given conditions hold); the reader's [`ReadScope`] is
/// applied on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContributionFilter {
    /// To this line of effort: given on the contribution, or one of the lines of effort of
    /// the intervention it contributes to.
    pub line_of_effort: Option<String>,
    /// Concerning this country.
    pub country: Option<CountryCode>,
    /// Of this organisation.
    pub organisation_id: Option<i64>,
    /// At most this many, newest first (clamped to 1..=1000; 0 means 100).
    pub limit: u64,
}

/// What a publication change gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Done; the record as it is now.
    Done(Box<ContributionRecord>),
    /// No contribution has this id.
    NotFound,
    /// It was already in the state asked for (nothing written).
    Unchanged(Box<ContributionRecord>),
}

/// Contributions on any backend: a supertrait of `Store`, written once over [`AccountSql`].
/// Writes take the [`Actor`] and the time (`now`, seconds since 1970, UTC) and record their
/// audit event in the same transaction.
pub trait ContributionStore {
    /// Stores a checked contribution, unpublished; returns its id. Errors
    /// (`StoreError::Account`): the organisation does not exist (field `organisation`), the
    /// intervention does not exist (field `intervention`).
    fn create_contribution(&self, actor: &Actor, c: &Contribution, now: i64) -> Result<i64, StoreError>;
    /// One contribution, if it exists and `scope` sees it.
    fn contribution(&self, id: i64, scope: ReadScope) -> Result<Option<ContributionRecord>, StoreError>;
    /// Contributions that `filter` selects and `scope` sees, newest (latest date) first.
    fn contributions(
        &self,
        filter: &ContributionFilter,
        scope: ReadScope,
    ) -> Result<Vec<ContributionRecord>, StoreError>;
    /// Publishes (`true`) or unpublishes a contribution; audited as `contribution.publish` or
    /// `contribution.unpublish`. The policy is the caller's.
    fn publish_contribution(&self, actor: &Actor, id: i64, publish: bool, now: i64) -> Result<Published, StoreError>;
}

fn corrupt(record: &str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt { record: record.into(), message: message.into() }
}

fn audit<S: AccountSql + ?Sized>(
    s: &S,
    actor: &Actor,
    now: i64,
    action: &str,
    id: i64,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), StoreError> {
    s.acc_exec(
        "INSERT INTO audit_event (at, actor, person_id, token_id, organisation_id, action, record, before_value, after_value, run_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,NULL)",
        &[
            Param::Text(&rfc3339(now)),
            Param::Text(&actor.label),
            actor.person_id.into(),
            actor.token_id.into(),
            actor.organisation_id.into(),
            Param::Text(action),
            Param::Text(&format!("contribution:{id}")),
            before.into(),
            after.into(),
        ],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT c.id, c.organisation_id, o.name, c.published, c.version, c.created_at, c.updated_at, c.doc \
     FROM contribution c JOIN organisation o ON o.id = c.organisation_id";

fn record_of(r: &[Cell]) -> Result<ContributionRecord, StoreError> {
    let id = r.first().and_then(int).ok_or_else(|| corrupt("contribution", "no id"))?;
    let name = format!("contribution:{id}");
    let doc = r.get(7).and_then(text).ok_or_else(|| corrupt(&name, "no document"))?;
    let contribution: Contribution =
        serde_json::from_str(&doc).map_err(|e| corrupt(&name, format!("document: {e}")))?;
    Ok(ContributionRecord {
        id,
        organisation_id: r.get(1).and_then(int).ok_or_else(|| corrupt(&name, "no organisation"))?,
        organisation_name: r.get(2).and_then(text).unwrap_or_default(),
        published: r.get(3).and_then(int) == Some(1),
        version: r.get(4).and_then(int).unwrap_or(0),
        created_at: r.get(5).and_then(text).unwrap_or_default(),
        updated_at: r.get(6).and_then(text).unwrap_or_default(),
        contribution,
    })
}

fn read_one<S: AccountSql + ?Sized>(s: &S, id: i64) -> Result<Option<ContributionRecord>, StoreError> {
    s.acc_query(&format!("{SELECT} WHERE c.id = ?1"), &[Param::Int(id)])?.first().map(|r| record_of(r)).transpose()
}

fn exists<S: AccountSql + ?Sized>(s: &S, table: &str, id: i64) -> Result<bool, StoreError> {
    Ok(!s.acc_query(&format!("SELECT id FROM {table} WHERE id = ?1"), &[Param::Int(id)])?.is_empty())
}

impl<S: AccountSql + ?Sized> ContributionStore for S {
    fn create_contribution(&self, actor: &Actor, c: &Contribution, now: i64) -> Result<i64, StoreError> {
        let countries = serde_json::to_string(&c.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>())
            .map_err(|e| corrupt("contribution", e.to_string()))?;
        let doc = serde_json::to_string(c).map_err(|e| corrupt("contribution", format!("cannot serialise: {e}")))?;
        let at = rfc3339(now);
        crate::accounts::tx(self, |s| {
            if !exists(s, "organisation", c.organisation)? {
                return Err(StoreError::Account {
                    field: "organisation",
                    message: Problem::UnknownOrganisation(c.organisation).message(Lang::En),
                });
            }
            if let Some(i) = c.intervention
                && !exists(s, "intervention", i)?
            {
                return Err(StoreError::Account {
                    field: "intervention",
                    message: Problem::UnknownIntervention(i).message(Lang::En),
                });
            }
            let rows = s.acc_query(
                "INSERT INTO contribution (organisation_id, strategy, kind, line_of_effort, intervention_id, countries, \
                 contribution_date, published, version, doc, created_at, updated_at) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,0,1,?8,?9,?9) RETURNING id",
                &[
                    Param::Int(c.organisation),
                    Param::Text(&c.strategy),
                    Param::Text(c.kind.as_str()),
                    c.line_of_effort.as_deref().into(),
                    c.intervention.into(),
                    Param::Text(&countries),
                    Param::Text(&c.date.to_string()),
                    Param::Text(&doc),
                    Param::Text(&at),
                ],
            )?;
            let id =
                rows.first().and_then(|r| r.first()).and_then(int).ok_or_else(|| corrupt("contribution", "no id"))?;
            let after = serde_json::json!({"published": false, "version": 1, "record": c}).to_string();
            audit(s, actor, now, "contribution.create", id, None, Some(&after))?;
            Ok(id)
        })
    }

    fn contribution(&self, id: i64, scope: ReadScope) -> Result<Option<ContributionRecord>, StoreError> {
        Ok(read_one(self, id)?.filter(|r| scope.sees(Some(r.organisation_id), r.published)))
    }

    fn contributions(&self, f: &ContributionFilter, scope: ReadScope) -> Result<Vec<ContributionRecord>, StoreError> {
        let limit = (if f.limit == 0 { 100 } else { f.limit.clamp(1, 1000) }) as i64;
        let (mode, org) = match scope {
            ReadScope::Everything => ("all", None),
            ReadScope::PublishedAndOwn(org) => ("own", Some(org)),
            ReadScope::PublishedOnly => ("published", None),
        };
        let country = f.country.map(|c| format!("%\"{}\"%", c.as_str()));
        let line = f.line_of_effort.as_deref().map(str::to_ascii_uppercase);
        let line_like = line.as_deref().map(|l| format!("%\"{l}\"%"));
        let rows = self.acc_query(
            &format!(
                "{SELECT} WHERE (CAST(?1 AS TEXT) IS NULL OR c.line_of_effort = ?1 \
                      OR EXISTS (SELECT 1 FROM intervention i WHERE i.id = c.intervention_id AND i.lines LIKE ?2)) \
                 AND (CAST(?3 AS TEXT) IS NULL OR c.countries LIKE ?3) \
                 AND (CAST(?4 AS BIGINT) IS NULL OR c.organisation_id = ?4) \
                 AND (CAST(?5 AS TEXT) = 'all' OR c.published = 1 \
                      OR (CAST(?5 AS TEXT) = 'own' AND c.organisation_id = CAST(?6 AS BIGINT))) \
                 ORDER BY c.contribution_date DESC, c.id DESC LIMIT ?7"
            ),
            &[
                line.as_deref().into(),
                line_like.as_deref().into(),
                country.as_deref().into(),
                f.organisation_id.into(),
                Param::Text(mode),
                org.into(),
                Param::Int(limit),
            ],
        )?;
        rows.iter().map(|r| record_of(r)).collect()
    }

    fn publish_contribution(&self, actor: &Actor, id: i64, publish: bool, now: i64) -> Result<Published, StoreError> {
        crate::accounts::tx(self, |s| {
            let n = s.acc_exec(
                "UPDATE contribution SET published = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3 AND published <> ?1",
                &[Param::Int(i64::from(publish)), Param::Text(&rfc3339(now)), Param::Int(id)],
            )?;
            let Some(r) = read_one(s, id)? else { return Ok(Published::NotFound) };
            if n == 0 {
                return Ok(Published::Unchanged(Box::new(r)));
            }
            let before = serde_json::json!({"published": !publish, "version": r.version - 1}).to_string();
            let after = serde_json::json!({"published": publish, "version": r.version}).to_string();
            let action = if publish { "contribution.publish" } else { "contribution.unpublish" };
            audit(s, actor, now, action, id, Some(&before), Some(&after))?;
            Ok(Published::Done(Box::new(r)))
        })
    }
}

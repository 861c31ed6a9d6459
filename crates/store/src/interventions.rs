//! Interventions entered in Senda (issue 18, item 1) in the database, on both backends.
//!
//! Written once over the backends' [`AccountSql`] primitives (SQL with `?N` placeholders,
//! portable to SQLite and PostgreSQL), like the accounts. Every write runs in one transaction
//! with its audit event (`audit_event`, the same trail as accounts). Reads take the access
//! policy's [`ReadScope`] and apply it in SQL, so a list never shows a record a single read
//! would not.
//!
//! The record is stored whole as JSON (`intervention.doc`, the checked
//! [`Intervention`] serialised: the input format itself), beside the narrow columns lists filter
//! on. Writes do not bump the data generation: entered interventions are not in any report
//! yet (their money would need its own facts, marked by source, so that an intervention linked
//! to an IATI activity never counts its money twice; see ARCHITECTURE.md).

use crate::StoreError;
use crate::accounts::{AccountSql, Actor, Param};
use crate::accounts::{int, rfc3339, text, tx};
use crate::tables::Cell;
use senda_core::accounts::ReadScope;
use senda_core::intervention::{FieldError, Instrument, Intervention, Lang, Problem, Sight, Workflow};
use senda_core::{CountryCode, IatiIdentifier};
use serde::Serialize;

/// An intervention as stored, with its place in the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterventionRecord {
    /// `intervention.id`.
    pub id: i64,
    /// The owning organisation.
    pub organisation_id: i64,
    /// Its name.
    pub organisation_name: String,
    /// Draft, submitted, approved or published (only published records are public).
    pub workflow: Workflow,
    /// 1 at creation, one more at every change.
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// Foreign assistance: whether an imported activity has the linked `iati-identifier`
    /// (`None` for other instruments). A link to an activity not imported yet takes effect
    /// when it is imported.
    pub iati_linked: Option<bool>,
    /// The record.
    pub intervention: Intervention,
    /// Fields marked not for publication that were withheld from this reader (emptied in
    /// `intervention`): every read but [`InterventionStore::intervention_seen`] for a reader
    /// whose [`Sight`] covers the record withholds them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<senda_core::intervention::Restricted>,
}

/// Which interventions to list (all given conditions hold); the caller's [`ReadScope`] is
/// applied on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterventionFilter {
    /// Of this instrument.
    pub instrument: Option<Instrument>,
    /// In this workflow state.
    pub workflow: Option<Workflow>,
    /// Of this organisation.
    pub organisation_id: Option<i64>,
    /// In this country.
    pub country: Option<CountryCode>,
    /// At most this many, newest first (clamped to 1..=1000; 0 means 100).
    pub limit: u64,
}

/// What creating an intervention gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The new `intervention.id`.
    pub id: i64,
    /// Warnings (the record is saved): a linked IATI activity not imported yet.
    pub warnings: Vec<FieldError>,
    /// The form token had already made this record (a form posted twice): nothing written.
    pub replayed: bool,
}

/// What an edit gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// Saved; the record as it is now (whole: the editor may see it) and warnings.
    Done(Box<InterventionRecord>, Vec<FieldError>),
    /// No intervention has this id.
    NotFound,
    /// Someone changed the record since the version the edit started from: nothing written.
    /// The record as it is now, **whole** (fields not for publication included): show it only
    /// to a reader whose [`Sight`] covers it, or read it again with the reader's scope.
    Conflict(Box<InterventionRecord>),
}

/// What a workflow change gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// Done; the record as it is now.
    Done(Box<InterventionRecord>),
    /// No intervention has this id.
    NotFound,
    /// Someone changed the record meanwhile: it is no longer in the state the change was
    /// decided from (nothing written).
    Conflict {
        /// Its state now.
        workflow: Workflow,
        /// Its version now.
        version: i64,
    },
}

/// Interventions on any backend: a supertrait of `Store`, written once over [`AccountSql`].
/// Writes take the [`Actor`] and the time (`now`, seconds since 1970, UTC) and record their
/// audit event in the same transaction. The access policy is the caller's (the web asks
/// `senda_core::intervention::Intervention::may_create` and `may_move`; the command line is
/// trusted, as for accounts).
pub trait InterventionStore {
    /// Stores a checked intervention as a draft. Errors: the organisation does not exist
    /// (`StoreError::Account` on the field `organisation`).
    fn create_intervention(&self, actor: &Actor, i: &Intervention, now: i64) -> Result<Created, StoreError>;
    /// One intervention, if it exists and `scope` sees it.
    fn intervention(&self, id: i64, scope: ReadScope) -> Result<Option<InterventionRecord>, StoreError>;
    /// Interventions that `filter` selects and `scope` sees, newest first.
    fn interventions(
        &self,
        filter: &InterventionFilter,
        scope: ReadScope,
    ) -> Result<Vec<InterventionRecord>, StoreError>;
    /// Moves an intervention from `from` to `to` (submit, return, approve, publish,
    /// unpublish), if it is still in `from`; audited as `intervention.workflow`.
    fn move_intervention(
        &self,
        actor: &Actor,
        id: i64,
        from: Workflow,
        to: Workflow,
        now: i64,
    ) -> Result<Moved, StoreError>;
    /// [`InterventionStore::create_intervention`] once per `form_token` (a web form's one-time
    /// token, kept with the record under a unique index): a second call with the same token
    /// writes nothing and answers the first record's id with `replayed`.
    fn create_intervention_once(
        &self,
        actor: &Actor,
        i: &Intervention,
        form_token: &str,
        now: i64,
    ) -> Result<Created, StoreError>;
    /// Replaces the content of intervention `id` with `i` if its version is still
    /// `expected_version` (one more after); audited as `intervention.update` with the record
    /// before and after, in the same transaction. Its workflow state does not change. The
    /// policy is the caller's (`senda_core::intervention::may_edit`, for the owner before and
    /// after). Errors: the organisation does not exist.
    fn update_intervention(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        i: &Intervention,
        now: i64,
    ) -> Result<Updated, StoreError>;
    /// [`InterventionStore::intervention`], with the fields not for publication shown when
    /// `sight` (`senda_core::intervention::Sight::of` the reader) covers the record.
    fn intervention_seen(
        &self,
        id: i64,
        scope: ReadScope,
        sight: Sight,
    ) -> Result<Option<InterventionRecord>, StoreError>;
    /// Every intervention of `strategy` that `scope` sees (no limit): what reports add to the
    /// imported activities (`senda_core::entered`).
    fn interventions_for_report(&self, strategy: &str, scope: ReadScope)
    -> Result<Vec<InterventionRecord>, StoreError>;
    /// A value that changes whenever any intervention is created or changed (count, latest
    /// change, sum of versions): readers that keep reports in memory compare it.
    fn interventions_stamp(&self) -> Result<String, StoreError>;
    /// The same over published interventions only: what the public's cached views depend on
    /// (a partner's draft saved a thousand times leaves it alone).
    fn published_interventions_stamp(&self) -> Result<String, StoreError>;
}

fn corrupt(record: &str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt { record: record.into(), message: message.into() }
}

/// The audit event of an intervention write, in the write's transaction (the same row as
/// `crate::accounts` writes).
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
            Param::Text(&format!("intervention:{id}")),
            before.into(),
            after.into(),
        ],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT i.id, i.organisation_id, o.name, i.workflow, i.version, i.created_at, i.updated_at, i.doc, \
     (SELECT count(*) FROM activity a WHERE a.iati_identifier = i.iati_identifier) \
     FROM intervention i JOIN organisation o ON o.id = i.organisation_id";

/// The scope as SQL parameters: a mode (`all`, `own`, `published`) and the organisation.
fn scope_params(scope: ReadScope) -> (&'static str, Option<i64>) {
    match scope {
        ReadScope::Everything => ("all", None),
        ReadScope::PublishedAndOwn(org) => ("own", Some(org)),
        ReadScope::PublishedOnly => ("published", None),
    }
}

/// A row as a record, the fields not for publication withheld (the default of every read).
fn record_of(r: &[Cell]) -> Result<InterventionRecord, StoreError> {
    record_seen(r, Sight::Nothing)
}

/// A row as a record, the fields not for publication shown only if `sight` covers its owner.
fn record_seen(r: &[Cell], sight: Sight) -> Result<InterventionRecord, StoreError> {
    let id = r.first().and_then(int).ok_or_else(|| corrupt("intervention", "no id"))?;
    let name = format!("intervention:{id}");
    let workflow = r
        .get(3)
        .and_then(text)
        .and_then(|w| Workflow::parse(&w))
        .ok_or_else(|| corrupt(&name, "unknown workflow state"))?;
    let doc = r.get(7).and_then(text).ok_or_else(|| corrupt(&name, "no document"))?;
    let mut intervention: Intervention =
        serde_json::from_str(&doc).map_err(|e| corrupt(&name, format!("document: {e}")))?;
    let linked = r.get(8).and_then(int).unwrap_or(0) > 0;
    let organisation_id = r.get(1).and_then(int).ok_or_else(|| corrupt(&name, "no organisation"))?;
    let withheld = if sight.sees(organisation_id) { Vec::new() } else { intervention.withhold() };
    Ok(InterventionRecord {
        id,
        organisation_id,
        organisation_name: r.get(2).and_then(text).unwrap_or_default(),
        workflow,
        version: r.get(4).and_then(int).unwrap_or(0),
        created_at: r.get(5).and_then(text).unwrap_or_default(),
        updated_at: r.get(6).and_then(text).unwrap_or_default(),
        iati_linked: (intervention.instrument == Instrument::ForeignAssistance).then_some(linked),
        intervention,
        withheld,
    })
}

fn read_one<S: AccountSql + ?Sized>(s: &S, id: i64) -> Result<Option<InterventionRecord>, StoreError> {
    read_seen(s, id, Sight::Nothing)
}

fn read_seen<S: AccountSql + ?Sized>(s: &S, id: i64, sight: Sight) -> Result<Option<InterventionRecord>, StoreError> {
    s.acc_query(&format!("{SELECT} WHERE i.id = ?1"), &[Param::Int(id)])?
        .first()
        .map(|r| record_seen(r, sight))
        .transpose()
}

/// The filter columns of a record and its document.
struct Columns {
    countries: String,
    lines: String,
    start: String,
    end: Option<String>,
    doc: String,
}

impl Columns {
    fn of(i: &Intervention) -> Result<Self, StoreError> {
        Ok(Columns {
            countries: serde_json::to_string(&i.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>())
                .unwrap_or_default(),
            lines: serde_json::to_string(&i.line_ids()).unwrap_or_default(),
            start: i.start.to_string(),
            end: i.end.map(|d| d.to_string()),
            doc: serde_json::to_string(i).map_err(|e| corrupt("intervention", format!("cannot serialise: {e}")))?,
        })
    }
}

fn organisation_exists<S: AccountSql + ?Sized>(s: &S, org: i64) -> Result<(), StoreError> {
    if s.acc_query("SELECT id FROM organisation WHERE id = ?1", &[Param::Int(org)])?.is_empty() {
        return Err(StoreError::Account {
            field: "organisation",
            message: Problem::UnknownOrganisation(org).message(Lang::En),
        });
    }
    Ok(())
}

fn link_warnings<S: AccountSql + ?Sized>(s: &S, i: &Intervention) -> Result<Vec<FieldError>, StoreError> {
    let mut warnings = Vec::new();
    if let Some(link) = i.iati_identifier()
        && !activity_exists(s, link)?
    {
        warnings.push(FieldError::new(
            "foreign_assistance.iati_identifier",
            Problem::LinkPending(link.as_str().to_owned()),
        ));
    }
    Ok(warnings)
}

fn by_token<S: AccountSql + ?Sized>(s: &S, token: &str) -> Result<Option<i64>, StoreError> {
    Ok(s.acc_query("SELECT id FROM intervention WHERE form_token = ?1", &[Param::Text(token)])?
        .first()
        .and_then(|r| r.first())
        .and_then(int))
}

fn activity_exists<S: AccountSql + ?Sized>(s: &S, id: &IatiIdentifier) -> Result<bool, StoreError> {
    Ok(!s.acc_query("SELECT 1 FROM activity WHERE iati_identifier = ?1", &[Param::Text(id.as_str())])?.is_empty())
}

/// Inserts a checked record as a draft (version 1) with its audit event, inside the caller's
/// transaction.
fn insert<S: AccountSql + ?Sized>(
    s: &S,
    actor: &Actor,
    i: &Intervention,
    form_token: Option<&str>,
    now: i64,
) -> Result<Created, StoreError> {
    let c = Columns::of(i)?;
    let at = rfc3339(now);
    organisation_exists(s, i.organisation)?;
    let rows = s.acc_query(
        "INSERT INTO intervention (organisation_id, strategy, instrument, workflow, status, title, countries, lines, \
         start_date, end_date, iati_identifier, version, doc, created_at, updated_at, form_token) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,1,?12,?13,?13,?14) RETURNING id",
        &[
            Param::Int(i.organisation),
            Param::Text(&i.strategy),
            Param::Text(i.instrument.as_str()),
            Param::Text(Workflow::Draft.as_str()),
            Param::Text(i.status.as_str()),
            Param::Text(i.title.get(Lang::En)),
            Param::Text(&c.countries),
            Param::Text(&c.lines),
            Param::Text(&c.start),
            c.end.as_deref().into(),
            i.iati_identifier().map(|x| x.as_str()).into(),
            Param::Text(&c.doc),
            Param::Text(&at),
            form_token.into(),
        ],
    )?;
    let id = rows.first().and_then(|r| r.first()).and_then(int).ok_or_else(|| corrupt("intervention", "no id"))?;
    let after = serde_json::json!({"workflow": Workflow::Draft.as_str(), "version": 1, "record": i}).to_string();
    audit(s, actor, now, "intervention.create", id, None, Some(&after))?;
    Ok(Created { id, warnings: link_warnings(s, i)?, replayed: false })
}

impl<S: AccountSql + ?Sized> InterventionStore for S {
    fn create_intervention(&self, actor: &Actor, i: &Intervention, now: i64) -> Result<Created, StoreError> {
        tx(self, |s| insert(s, actor, i, None, now))
    }

    fn intervention(&self, id: i64, scope: ReadScope) -> Result<Option<InterventionRecord>, StoreError> {
        Ok(read_one(self, id)?.filter(|r| scope.sees(Some(r.organisation_id), r.workflow.published())))
    }

    fn interventions(&self, f: &InterventionFilter, scope: ReadScope) -> Result<Vec<InterventionRecord>, StoreError> {
        let limit = (if f.limit == 0 { 100 } else { f.limit.clamp(1, 1000) }) as i64;
        let (mode, org) = scope_params(scope);
        let country = f.country.map(|c| format!("%\"{}\"%", c.as_str()));
        let rows = self.acc_query(
            &format!(
                "{SELECT} WHERE (CAST(?1 AS TEXT) IS NULL OR i.instrument = ?1) \
                 AND (CAST(?2 AS TEXT) IS NULL OR i.workflow = ?2) \
                 AND (CAST(?3 AS BIGINT) IS NULL OR i.organisation_id = ?3) \
                 AND (CAST(?4 AS TEXT) IS NULL OR i.countries LIKE ?4) \
                 AND (CAST(?5 AS TEXT) = 'all' OR i.workflow = 'published' \
                      OR (CAST(?5 AS TEXT) = 'own' AND i.organisation_id = CAST(?6 AS BIGINT))) \
                 ORDER BY i.id DESC LIMIT ?7"
            ),
            &[
                f.instrument.map(|x| x.as_str()).into(),
                f.workflow.map(|x| x.as_str()).into(),
                f.organisation_id.into(),
                country.as_deref().into(),
                Param::Text(mode),
                org.into(),
                Param::Int(limit),
            ],
        )?;
        rows.iter().map(|r| record_of(r)).collect()
    }

    fn interventions_for_report(
        &self,
        strategy: &str,
        scope: ReadScope,
    ) -> Result<Vec<InterventionRecord>, StoreError> {
        let (mode, org) = scope_params(scope);
        let rows = self.acc_query(
            &format!(
                "{SELECT} WHERE i.strategy = ?1 \
                 AND (CAST(?2 AS TEXT) = 'all' OR i.workflow = 'published' \
                      OR (CAST(?2 AS TEXT) = 'own' AND i.organisation_id = CAST(?3 AS BIGINT))) \
                 ORDER BY i.id"
            ),
            &[Param::Text(strategy), Param::Text(mode), org.into()],
        )?;
        rows.iter().map(|r| record_of(r)).collect()
    }

    fn interventions_stamp(&self) -> Result<String, StoreError> {
        stamp_of(self, "")
    }

    fn published_interventions_stamp(&self) -> Result<String, StoreError> {
        stamp_of(self, " WHERE workflow = 'published'")
    }

    fn move_intervention(
        &self,
        actor: &Actor,
        id: i64,
        from: Workflow,
        to: Workflow,
        now: i64,
    ) -> Result<Moved, StoreError> {
        tx(self, |s| {
            let n = s.acc_exec(
                "UPDATE intervention SET workflow = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3 AND workflow = ?4",
                &[Param::Text(to.as_str()), Param::Text(&rfc3339(now)), Param::Int(id), Param::Text(from.as_str())],
            )?;
            let Some(now_record) = read_one(s, id)? else { return Ok(Moved::NotFound) };
            if n == 0 {
                return Ok(Moved::Conflict { workflow: now_record.workflow, version: now_record.version });
            }
            let before = serde_json::json!({"workflow": from.as_str(), "version": now_record.version - 1}).to_string();
            let after = serde_json::json!({"workflow": to.as_str(), "version": now_record.version}).to_string();
            audit(s, actor, now, "intervention.workflow", id, Some(&before), Some(&after))?;
            Ok(Moved::Done(Box::new(now_record)))
        })
    }

    fn create_intervention_once(
        &self,
        actor: &Actor,
        i: &Intervention,
        form_token: &str,
        now: i64,
    ) -> Result<Created, StoreError> {
        let out = tx(self, |s| match by_token(s, form_token)? {
            Some(id) => Ok(Created { id, warnings: Vec::new(), replayed: true }),
            None => insert(s, actor, i, Some(form_token), now),
        });
        match out {
            // Two posts at once (PostgreSQL, read committed): the unique index refused the
            // second; the first's record is the answer.
            Err(e) if self.acc_is_unique_violation(&e) => match by_token(self, form_token)? {
                Some(id) => Ok(Created { id, warnings: Vec::new(), replayed: true }),
                None => Err(e),
            },
            other => other,
        }
    }

    fn update_intervention(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        i: &Intervention,
        now: i64,
    ) -> Result<Updated, StoreError> {
        let c = Columns::of(i)?;
        let at = rfc3339(now);
        tx(self, |s| {
            let Some(before) = read_seen(s, id, Sight::All)? else { return Ok(Updated::NotFound) };
            if before.version != expected_version {
                return Ok(Updated::Conflict(Box::new(before)));
            }
            organisation_exists(s, i.organisation)?;
            let n = s.acc_exec(
                "UPDATE intervention SET organisation_id = ?1, strategy = ?2, instrument = ?3, status = ?4, title = ?5, \
                 countries = ?6, lines = ?7, start_date = ?8, end_date = ?9, iati_identifier = ?10, doc = ?11, \
                 version = version + 1, updated_at = ?12 WHERE id = ?13 AND version = ?14",
                &[
                    Param::Int(i.organisation),
                    Param::Text(&i.strategy),
                    Param::Text(i.instrument.as_str()),
                    Param::Text(i.status.as_str()),
                    Param::Text(i.title.get(Lang::En)),
                    Param::Text(&c.countries),
                    Param::Text(&c.lines),
                    Param::Text(&c.start),
                    c.end.as_deref().into(),
                    i.iati_identifier().map(|x| x.as_str()).into(),
                    Param::Text(&c.doc),
                    Param::Text(&at),
                    Param::Int(id),
                    Param::Int(expected_version),
                ],
            )?;
            let Some(after) = read_seen(s, id, Sight::All)? else { return Ok(Updated::NotFound) };
            if n == 0 {
                return Ok(Updated::Conflict(Box::new(after)));
            }
            let old = serde_json::json!({"workflow": before.workflow.as_str(), "version": before.version, "record": before.intervention}).to_string();
            let new = serde_json::json!({"workflow": after.workflow.as_str(), "version": after.version, "record": i})
                .to_string();
            audit(s, actor, now, "intervention.update", id, Some(&old), Some(&new))?;
            let warnings = link_warnings(s, i)?;
            Ok(Updated::Done(Box::new(after), warnings))
        })
    }

    fn intervention_seen(
        &self,
        id: i64,
        scope: ReadScope,
        sight: Sight,
    ) -> Result<Option<InterventionRecord>, StoreError> {
        Ok(read_seen(self, id, sight)?.filter(|r| scope.sees(Some(r.organisation_id), r.workflow.published())))
    }
}

/// Count, sum of versions and latest change of the interventions `filter` selects (`""`: all).
fn stamp_of<S: AccountSql + ?Sized>(s: &S, filter: &str) -> Result<String, StoreError> {
    let rows = s.acc_query(
        &format!("SELECT count(*), CAST(COALESCE(sum(version), 0) AS BIGINT), COALESCE(max(updated_at), '') FROM intervention{filter}"),
        &[],
    )?;
    let r = rows.first().ok_or_else(|| corrupt("intervention", "no stamp"))?;
    Ok(format!(
        "{}|{}|{}",
        r.first().and_then(int).unwrap_or(0),
        r.get(1).and_then(int).unwrap_or(0),
        r.get(2).and_then(text).unwrap_or_default()
    ))
}

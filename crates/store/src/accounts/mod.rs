//! Accounts in the database (issue 17): organisations, people, web sessions, API tokens and the
//! audit trail, on both backends.
//!
//! The rules are written once, here, over [`AccountSql`] (a few primitive calls each backend
//! implements in `sqlite/accounts.rs` and `pg/accounts.rs`): SQL with `?N` placeholders (turned
//! into `$N` on PostgreSQL), portable to both. Every write runs in one transaction with its
//! audit event ([`AccountStore`]'s writes take an [`Actor`]), so no account write can skip the
//! trail. Account writes do not take Senda's data write lock and do not bump the data
//! generation: they change no figure.
//!
//! Secrets are never stored: a session id and an API token are kept as their SHA-256 digest
//! (`senda_core::accounts::secret_digest`), a password as its Argon2id hash.

use crate::StoreError;
use crate::tables::Cell;
use senda_core::accounts::{Caller, Email, NewOrganisation, Role};
use serde::Serialize;

mod adopt;
pub(crate) mod audit;

pub use adopt::{Adoption, OrgCandidate};
pub use audit::{AuditEvent, AuditFilter, AuditRow, INSERT_AUDIT, import_run_summary};

/// One parameter of an account query.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// NULL.
    Null,
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Param::Null, Param::Text)
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Param::Null, Param::Int)
    }
}

/// What a backend provides for accounts: statements with `?N` placeholders, and transactions.
/// Backend plumbing; callers use [`AccountStore`].
pub trait AccountSql {
    /// Runs a statement, returns the rows it changed.
    fn acc_exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError>;
    /// Runs a query, returns its rows (integers, text and NULLs).
    fn acc_query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>, StoreError>;
    /// Begins a write transaction (SQLite: IMMEDIATE).
    fn acc_begin(&self) -> Result<(), StoreError>;
    /// Commits it.
    fn acc_commit(&self) -> Result<(), StoreError>;
    /// Rolls it back.
    fn acc_rollback(&self);
    /// Whether `e` is a unique-constraint violation.
    fn acc_is_unique_violation(&self, e: &StoreError) -> bool;
}

/// Who makes a write, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `cli`, the person's e-mail, or `token:ID (e-mail)`.
    pub label: String,
    /// The person, if any.
    pub person_id: Option<i64>,
    /// The API token, if the write came with one.
    pub token_id: Option<i64>,
    /// The actor's organisation.
    pub organisation_id: Option<i64>,
}

impl Actor {
    /// The command line (whoever may open the database file or URL).
    pub fn cli() -> Self {
        Actor { label: "cli".into(), person_id: None, token_id: None, organisation_id: None }
    }

    /// The command line run by the operating-system user `user` (`cli:ana`), or `cli` when it
    /// is not known. Informative only: whoever can open the database is trusted anyway.
    pub fn cli_user(user: Option<&str>) -> Self {
        let user: String =
            user.unwrap_or_default().chars().filter(|c| !c.is_control() && !c.is_whitespace()).take(64).collect();
        let label = if user.is_empty() { "cli".to_owned() } else { format!("cli:{user}") };
        Actor { label, ..Actor::cli() }
    }

    /// A signed-in person or token.
    pub fn of(c: &Caller) -> Self {
        let label = match c.token_id {
            Some(t) => format!("token:{t} ({})", c.email),
            None => c.email.clone(),
        };
        Actor { label, person_id: Some(c.person_id), token_id: c.token_id, organisation_id: c.organisation_id }
    }
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// `organisation.id`.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Name in Spanish.
    pub name_es: Option<String>,
    /// IATI organisation identifier.
    pub iati_ref: Option<String>,
    /// Partner category id.
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A stored person (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// `person.id`.
    pub id: i64,
    /// E-mail, lower case.
    pub email: String,
    /// Organisation.
    pub organisation_id: Option<i64>,
    /// Role.
    #[serde(serialize_with = "role_str")]
    pub role: Role,
    /// Disabled accounts cannot sign in; their sessions and tokens are ended.
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

fn role_str<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.as_str())
}

/// An API token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// `api_token.id`.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role it acts with (at most the person's at the time of use).
    #[serde(serialize_with = "role_str")]
    pub role: Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Expiry, seconds since 1970.
    pub expires_unix: i64,
    /// Last use, RFC 3339.
    pub last_used_at: Option<String>,
    /// Revocation, RFC 3339.
    pub revoked_at: Option<String>,
}

/// A web session found by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The person, as the policy sees them.
    pub caller: Caller,
    /// The session's CSRF token.
    pub csrf: String,
}

/// Session timeouts (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused for longer ends.
    pub idle: i64,
    /// A session older than this ends, used or not.
    pub absolute: i64,
}

pub(crate) fn int(c: &Cell) -> Option<i64> {
    match c {
        Cell::Int(i) => Some(*i),
        _ => None,
    }
}
pub(crate) fn text(c: &Cell) -> Option<String> {
    match c {
        Cell::Text(s) => Some(s.clone()),
        _ => None,
    }
}
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt { record: what.into(), message: "unexpected column value".into() }
}
fn role_of(c: &Cell) -> Result<Role, StoreError> {
    text(c).and_then(|s| Role::parse(&s).ok()).ok_or_else(|| corrupt("person.role"))
}

fn person_of(r: &[Cell]) -> Result<Person, StoreError> {
    Ok(Person {
        id: int(&r[0]).ok_or_else(|| corrupt("person.id"))?,
        email: text(&r[1]).ok_or_else(|| corrupt("person.email"))?,
        organisation_id: int(&r[2]),
        role: role_of(&r[3])?,
        disabled: int(&r[4]) == Some(1),
        created_at: text(&r[5]).unwrap_or_default(),
    })
}
const PERSON_COLUMNS: &str = "id, email, organisation_id, role, disabled, created_at";

fn org_of(r: &[Cell]) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: int(&r[0]).ok_or_else(|| corrupt("organisation.id"))?,
        name: text(&r[1]).unwrap_or_default(),
        name_es: text(&r[2]),
        iati_ref: text(&r[3]),
        category: text(&r[4]),
        country: text(&r[5]),
        created_at: text(&r[6]).unwrap_or_default(),
    })
}

/// RFC 3339 of `unix` seconds (UTC).
pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub(crate) fn tx<S: AccountSql + ?Sized, T>(
    s: &S,
    f: impl FnOnce(&S) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    s.acc_begin()?;
    match f(s) {
        Ok(v) => {
            s.acc_commit()?;
            Ok(v)
        }
        Err(e) => {
            s.acc_rollback();
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn audit<S: AccountSql + ?Sized>(
    s: &S,
    actor: &Actor,
    now: i64,
    action: &str,
    record: &str,
    before: Option<&str>,
    after: Option<&str>,
    run_id: Option<i64>,
) -> Result<(), StoreError> {
    audit::write(s, &AuditRow { actor, now, action, record, before, after, run_id })
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Seconds between uses of a session before its `seen_unix` is written again (fewer writes).
pub const SESSION_TOUCH_SECONDS: i64 = 60;

/// Accounts on any backend. Every write takes the [`Actor`] and the time (`now`, seconds since
/// 1970, UTC) and records its audit event in the same transaction.
pub trait AccountStore {
    /// Creates an organisation. Errors: `iati_ref` already used by another organisation.
    fn create_organisation(&self, actor: &Actor, org: &NewOrganisation, now: i64) -> Result<i64, StoreError>;
    /// Every organisation, by name.
    fn organisations(&self) -> Result<Vec<Organisation>, StoreError>;
    /// One organisation.
    fn organisation(&self, id: i64) -> Result<Option<Organisation>, StoreError>;
    /// Organisations of imported activities (`reporting-org` and `participating-org` with a
    /// `@ref`), by identifier, with their roles and the Senda organisation already adopted for
    /// each.
    fn organisation_candidates(&self) -> Result<Vec<OrgCandidate>, StoreError>;
    /// Adopts the organisations of imported activities with these identifiers (matched
    /// exactly) as Senda organisations: the name as published, the category given, the country
    /// of a country's registration agency (`HN-...`); one already adopted stays as it is.
    /// Returns the ids, in order. Errors, before anything is created: an identifier no imported
    /// activity names (field `iati_ref`), an unknown category (`category`).
    fn adopt_organisations(&self, actor: &Actor, adoption: &Adoption<'_>, now: i64) -> Result<Vec<i64>, StoreError>;
    /// Creates a person. Errors: the e-mail is taken (`email`), the organisation does not
    /// exist (`organisation`).
    fn create_person(
        &self,
        actor: &Actor,
        email: &Email,
        organisation_id: Option<i64>,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<i64, StoreError>;
    /// Every person, by e-mail.
    fn people(&self) -> Result<Vec<Person>, StoreError>;
    /// A person and their password hash.
    fn person_for_login(&self, email: &Email) -> Result<Option<(Person, String)>, StoreError>;
    /// Disables or enables a person; disabling ends their sessions at once (their tokens stop
    /// working because every token use checks the person). Errors: unknown e-mail (`email`).
    fn set_person_disabled(&self, actor: &Actor, email: &Email, disabled: bool, now: i64) -> Result<(), StoreError>;
    /// Changes a person's role (and organisation when `organisation` is `Some`); ends their
    /// sessions.
    fn set_person_role(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
        organisation: Option<Option<i64>>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Replaces a person's password hash; ends their sessions.
    fn set_password(&self, actor: &Actor, email: &Email, password_hash: &str, now: i64) -> Result<(), StoreError>;
    /// Records a new session for a person who just signed in (audited as `session.login`).
    fn create_session(&self, caller: &Caller, id_digest: &str, csrf: &str, now: i64) -> Result<(), StoreError>;
    /// The session with this digest, if it exists, is within `limits` and its person is
    /// enabled; an expired one is deleted.
    fn session(&self, id_digest: &str, limits: SessionLimits, now: i64) -> Result<Option<SessionInfo>, StoreError>;
    /// Ends a session (logout; audited when it existed).
    fn end_session(&self, id_digest: &str, now: i64) -> Result<bool, StoreError>;
    /// Creates an API token for `caller`, made by themselves: [`AccountStore::create_token_by`]
    /// with `Actor::of(caller)`.
    fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        role: Role,
        digest: &str,
        expires_unix: i64,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.create_token_by(&Actor::of(caller), caller, name, role, digest, expires_unix, now)
    }
    /// Creates an API token for `owner` (role at most theirs; `owner` enabled), made by
    /// `actor` (the owner signed in, or the command line); the digest is stored. Errors: a
    /// role above the owner's (`role`), a disabled owner (`user`).
    #[allow(clippy::too_many_arguments)]
    fn create_token_by(
        &self,
        actor: &Actor,
        owner: &Caller,
        name: &str,
        role: Role,
        digest: &str,
        expires_unix: i64,
        now: i64,
    ) -> Result<i64, StoreError>;
    /// A person's tokens, newest first.
    fn tokens(&self, person_id: i64) -> Result<Vec<TokenInfo>, StoreError>;
    /// The person a token belongs to, `None` when no token has this id.
    fn token_owner(&self, token_id: i64) -> Result<Option<i64>, StoreError>;
    /// Revokes one of `caller`'s tokens, as themselves: [`AccountStore::revoke_token_by`].
    fn revoke_token(&self, caller: &Caller, token_id: i64, now: i64) -> Result<bool, StoreError> {
        self.revoke_token_by(&Actor::of(caller), caller.person_id, token_id, now)
    }
    /// Revokes token `token_id` of person `person_id` (audited as `actor`); false when it is
    /// not theirs or already revoked.
    fn revoke_token_by(&self, actor: &Actor, person_id: i64, token_id: i64, now: i64) -> Result<bool, StoreError>;
    /// The caller a token stands for: not revoked, not expired, its person enabled; the role
    /// is the lesser of the token's and the person's. Records the use.
    fn token_caller(&self, digest: &str, now: i64) -> Result<Option<Caller>, StoreError>;
    /// The newest audit event's id (0 when none): it moves with every audited write, account
    /// changes included (a disabled person, a new role, a revoked token, a logout), whichever
    /// process made it. The server's cache of signed-in callers is valid while it stays.
    fn audit_mark(&self) -> Result<i64, StoreError>;
    /// Appends an event (for writes made outside this trait: import runs, `senda audit`
    /// itself never writes).
    #[allow(clippy::too_many_arguments)]
    fn record_audit(
        &self,
        actor: &Actor,
        action: &str,
        record: &str,
        before: Option<&str>,
        after: Option<&str>,
        run_id: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Audit events, newest first.
    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
}

fn person_by_email<S: AccountSql + ?Sized>(s: &S, email: &Email) -> Result<Person, StoreError> {
    let rows =
        s.acc_query(&format!("SELECT {PERSON_COLUMNS} FROM person WHERE email = ?1"), &[Param::Text(email.as_str())])?;
    match rows.first() {
        Some(r) => person_of(r),
        None => Err(StoreError::Account { field: "email", message: format!("no person with e-mail {email}") }),
    }
}

fn check_organisation<S: AccountSql + ?Sized>(s: &S, id: Option<i64>) -> Result<(), StoreError> {
    if let Some(id) = id
        && s.acc_query("SELECT id FROM organisation WHERE id = ?1", &[Param::Int(id)])?.is_empty()
    {
        return Err(StoreError::Account { field: "organisation", message: format!("no organisation with id {id}") });
    }
    Ok(())
}

fn caller_of(p: &Person) -> Caller {
    Caller { person_id: p.id, email: p.email.clone(), organisation_id: p.organisation_id, role: p.role, token_id: None }
}

impl<S: AccountSql + ?Sized> AccountStore for S {
    fn create_organisation(&self, actor: &Actor, org: &NewOrganisation, now: i64) -> Result<i64, StoreError> {
        tx(self, |s| {
            let r = s.acc_query(
                "INSERT INTO organisation (name, name_es, iati_ref, category, country, created_at) VALUES (?1,?2,?3,?4,?5,?6) RETURNING id",
                &[
                    Param::Text(&org.name),
                    org.name_es.as_deref().into(),
                    org.iati_ref.as_deref().into(),
                    org.category.as_deref().into(),
                    org.country.as_ref().map(|c| c.as_str()).into(),
                    Param::Text(&rfc3339(now)),
                ],
            );
            let id = match r {
                Ok(rows) => rows.first().and_then(|r| int(&r[0])).ok_or_else(|| corrupt("organisation.id"))?,
                Err(e) if s.acc_is_unique_violation(&e) => {
                    return Err(StoreError::Account {
                        field: "iati_ref",
                        message: format!(
                            "another organisation has the identifier {}",
                            org.iati_ref.as_deref().unwrap_or_default()
                        ),
                    });
                }
                Err(e) => return Err(e),
            };
            let after = s.acc_query(
                "SELECT id, name, name_es, iati_ref, category, country, created_at FROM organisation WHERE id = ?1",
                &[Param::Int(id)],
            )?;
            let after = after.first().map(|r| org_of(r)).transpose()?;
            audit(
                s,
                actor,
                now,
                "organisation.create",
                &format!("organisation:{id}"),
                None,
                Some(&json(&after)),
                None,
            )?;
            Ok(id)
        })
    }

    fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        self.acc_query(
            "SELECT id, name, name_es, iati_ref, category, country, created_at FROM organisation ORDER BY name, id",
            &[],
        )?
        .iter()
        .map(|r| org_of(r))
        .collect()
    }

    fn organisation(&self, id: i64) -> Result<Option<Organisation>, StoreError> {
        self.acc_query(
            "SELECT id, name, name_es, iati_ref, category, country, created_at FROM organisation WHERE id = ?1",
            &[Param::Int(id)],
        )?
        .first()
        .map(|r| org_of(r))
        .transpose()
    }

    fn organisation_candidates(&self) -> Result<Vec<OrgCandidate>, StoreError> {
        adopt::candidates(self)
    }

    fn adopt_organisations(&self, actor: &Actor, adoption: &Adoption<'_>, now: i64) -> Result<Vec<i64>, StoreError> {
        adopt::adopt(self, actor, adoption, now)
    }

    fn create_person(
        &self,
        actor: &Actor,
        email: &Email,
        organisation_id: Option<i64>,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        tx(self, |s| {
            check_organisation(s, organisation_id)?;
            let r = s.acc_query(
                "INSERT INTO person (email, organisation_id, role, password_hash, disabled, created_at) VALUES (?1,?2,?3,?4,0,?5) RETURNING id",
                &[
                    Param::Text(email.as_str()),
                    organisation_id.into(),
                    Param::Text(role.as_str()),
                    Param::Text(password_hash),
                    Param::Text(&rfc3339(now)),
                ],
            );
            let id = match r {
                Ok(rows) => rows.first().and_then(|r| int(&r[0])).ok_or_else(|| corrupt("person.id"))?,
                Err(e) if s.acc_is_unique_violation(&e) => {
                    return Err(StoreError::Account {
                        field: "email",
                        message: format!("{email} already has an account"),
                    });
                }
                Err(e) => return Err(e),
            };
            let after = person_by_email(s, email)?;
            audit(s, actor, now, "person.create", &format!("person:{id}"), None, Some(&json(&after)), None)?;
            Ok(id)
        })
    }

    fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.acc_query(&format!("SELECT {PERSON_COLUMNS} FROM person ORDER BY email"), &[])?
            .iter()
            .map(|r| person_of(r))
            .collect()
    }

    fn person_for_login(&self, email: &Email) -> Result<Option<(Person, String)>, StoreError> {
        let rows = self.acc_query(
            &format!("SELECT {PERSON_COLUMNS}, password_hash FROM person WHERE email = ?1"),
            &[Param::Text(email.as_str())],
        )?;
        rows.first().map(|r| Ok((person_of(r)?, text(&r[6]).unwrap_or_default()))).transpose()
    }

    fn set_person_disabled(&self, actor: &Actor, email: &Email, disabled: bool, now: i64) -> Result<(), StoreError> {
        tx(self, |s| {
            let before = person_by_email(s, email)?;
            s.acc_exec(
                "UPDATE person SET disabled = ?1 WHERE id = ?2",
                &[Param::Int(disabled.into()), Param::Int(before.id)],
            )?;
            s.acc_exec("DELETE FROM web_session WHERE person_id = ?1", &[Param::Int(before.id)])?;
            let after = person_by_email(s, email)?;
            let action = if disabled { "person.disable" } else { "person.enable" };
            audit(
                s,
                actor,
                now,
                action,
                &format!("person:{}", before.id),
                Some(&json(&before)),
                Some(&json(&after)),
                None,
            )
        })
    }

    fn set_person_role(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
        organisation: Option<Option<i64>>,
        now: i64,
    ) -> Result<(), StoreError> {
        tx(self, |s| {
            let before = person_by_email(s, email)?;
            let org = organisation.unwrap_or(before.organisation_id);
            check_organisation(s, org)?;
            s.acc_exec(
                "UPDATE person SET role = ?1, organisation_id = ?2 WHERE id = ?3",
                &[Param::Text(role.as_str()), org.into(), Param::Int(before.id)],
            )?;
            s.acc_exec("DELETE FROM web_session WHERE person_id = ?1", &[Param::Int(before.id)])?;
            let after = person_by_email(s, email)?;
            audit(
                s,
                actor,
                now,
                "person.set_role",
                &format!("person:{}", before.id),
                Some(&json(&before)),
                Some(&json(&after)),
                None,
            )
        })
    }

    fn set_password(&self, actor: &Actor, email: &Email, password_hash: &str, now: i64) -> Result<(), StoreError> {
        tx(self, |s| {
            let p = person_by_email(s, email)?;
            s.acc_exec(
                "UPDATE person SET password_hash = ?1 WHERE id = ?2",
                &[Param::Text(password_hash), Param::Int(p.id)],
            )?;
            s.acc_exec("DELETE FROM web_session WHERE person_id = ?1", &[Param::Int(p.id)])?;
            audit(s, actor, now, "person.set_password", &format!("person:{}", p.id), None, None, None)
        })
    }

    fn create_session(&self, caller: &Caller, id_digest: &str, csrf: &str, now: i64) -> Result<(), StoreError> {
        tx(self, |s| {
            s.acc_exec(
                "INSERT INTO web_session (id_digest, person_id, csrf, created_unix, seen_unix) VALUES (?1,?2,?3,?4,?4)",
                &[Param::Text(id_digest), Param::Int(caller.person_id), Param::Text(csrf), Param::Int(now)],
            )?;
            audit(
                s,
                &Actor::of(caller),
                now,
                "session.login",
                &format!("person:{}", caller.person_id),
                None,
                None,
                None,
            )
        })
    }

    fn session(&self, id_digest: &str, limits: SessionLimits, now: i64) -> Result<Option<SessionInfo>, StoreError> {
        let rows = self.acc_query(
            "SELECT p.id, p.email, p.organisation_id, p.role, p.disabled, p.created_at, s.csrf, s.created_unix, s.seen_unix \
                 FROM web_session s JOIN person p ON p.id = s.person_id WHERE s.id_digest = ?1",
            &[Param::Text(id_digest)],
        )?;
        let Some(r) = rows.first() else { return Ok(None) };
        let person = person_of(r)?;
        let created = int(&r[7]).unwrap_or(0);
        let seen = int(&r[8]).unwrap_or(0);
        if person.disabled || now - seen > limits.idle || now - created > limits.absolute {
            self.acc_exec("DELETE FROM web_session WHERE id_digest = ?1", &[Param::Text(id_digest)])?;
            return Ok(None);
        }
        if now - seen >= SESSION_TOUCH_SECONDS {
            self.acc_exec(
                "UPDATE web_session SET seen_unix = ?1 WHERE id_digest = ?2",
                &[Param::Int(now), Param::Text(id_digest)],
            )?;
        }
        Ok(Some(SessionInfo { caller: caller_of(&person), csrf: text(&r[6]).unwrap_or_default() }))
    }

    fn end_session(&self, id_digest: &str, now: i64) -> Result<bool, StoreError> {
        tx(self, |s| {
            let rows =
                s.acc_query("SELECT person_id FROM web_session WHERE id_digest = ?1", &[Param::Text(id_digest)])?;
            let Some(person_id) = rows.first().and_then(|r| int(&r[0])) else { return Ok(false) };
            s.acc_exec("DELETE FROM web_session WHERE id_digest = ?1", &[Param::Text(id_digest)])?;
            let actor = Actor {
                label: format!("person:{person_id}"),
                person_id: Some(person_id),
                token_id: None,
                organisation_id: None,
            };
            audit(s, &actor, now, "session.logout", &format!("person:{person_id}"), None, None, None)?;
            Ok(true)
        })
    }

    fn create_token_by(
        &self,
        actor: &Actor,
        caller: &Caller,
        name: &str,
        role: Role,
        digest: &str,
        expires_unix: i64,
        now: i64,
    ) -> Result<i64, StoreError> {
        if role > caller.role {
            return Err(StoreError::Account {
                field: "role",
                message: format!("a token may act as {} or less", caller.role),
            });
        }
        tx(self, |s| {
            let owner = s.acc_query(
                &format!("SELECT {PERSON_COLUMNS} FROM person WHERE id = ?1"),
                &[Param::Int(caller.person_id)],
            )?;
            match owner.first().map(|r| person_of(r)).transpose()? {
                None => {
                    return Err(StoreError::Account {
                        field: "user",
                        message: format!("no person with id {}", caller.person_id),
                    });
                }
                Some(p) if p.disabled => {
                    return Err(StoreError::Account {
                        field: "user",
                        message: format!("{} is disabled: a token of theirs would not work", p.email),
                    });
                }
                Some(p) if role > p.role => {
                    return Err(StoreError::Account {
                        field: "role",
                        message: format!("a token of {} may act as {} or less", p.email, p.role),
                    });
                }
                Some(_) => {}
            }
            let rows = s.acc_query(
                "INSERT INTO api_token (digest, person_id, name, role, created_at, expires_unix) VALUES (?1,?2,?3,?4,?5,?6) RETURNING id",
                &[
                    Param::Text(digest),
                    Param::Int(caller.person_id),
                    Param::Text(name),
                    Param::Text(role.as_str()),
                    Param::Text(&rfc3339(now)),
                    Param::Int(expires_unix),
                ],
            )?;
            let id = rows.first().and_then(|r| int(&r[0])).ok_or_else(|| corrupt("api_token.id"))?;
            let after = serde_json::json!({"name": name, "role": role.as_str(), "expires_at": rfc3339(expires_unix)});
            audit(s, actor, now, "token.create", &format!("api_token:{id}"), None, Some(&after.to_string()), None)?;
            Ok(id)
        })
    }

    fn tokens(&self, person_id: i64) -> Result<Vec<TokenInfo>, StoreError> {
        self.acc_query(
            "SELECT id, name, role, created_at, expires_unix, last_used_at, revoked_at FROM api_token WHERE person_id = ?1 ORDER BY id DESC",
            &[Param::Int(person_id)],
        )?
        .iter()
        .map(|r| {
            Ok(TokenInfo {
                id: int(&r[0]).ok_or_else(|| corrupt("api_token.id"))?,
                name: text(&r[1]).unwrap_or_default(),
                role: role_of(&r[2])?,
                created_at: text(&r[3]).unwrap_or_default(),
                expires_unix: int(&r[4]).unwrap_or(0),
                last_used_at: text(&r[5]),
                revoked_at: text(&r[6]),
            })
        })
        .collect()
    }

    fn token_owner(&self, token_id: i64) -> Result<Option<i64>, StoreError> {
        let rows = self.acc_query("SELECT person_id FROM api_token WHERE id = ?1", &[Param::Int(token_id)])?;
        Ok(rows.first().and_then(|r| int(&r[0])))
    }

    fn revoke_token_by(&self, actor: &Actor, person_id: i64, token_id: i64, now: i64) -> Result<bool, StoreError> {
        tx(self, |s| {
            let n = s.acc_exec(
                "UPDATE api_token SET revoked_at = ?1 WHERE id = ?2 AND person_id = ?3 AND revoked_at IS NULL",
                &[Param::Text(&rfc3339(now)), Param::Int(token_id), Param::Int(person_id)],
            )?;
            if n > 0 {
                audit(s, actor, now, "token.revoke", &format!("api_token:{token_id}"), None, None, None)?;
            }
            Ok(n > 0)
        })
    }

    fn token_caller(&self, digest: &str, now: i64) -> Result<Option<Caller>, StoreError> {
        let rows = self.acc_query(
            "SELECT p.id, p.email, p.organisation_id, p.role, p.disabled, p.created_at, t.id, t.role, t.expires_unix, t.revoked_at, \
                 t.last_used_at FROM api_token t JOIN person p ON p.id = t.person_id WHERE t.digest = ?1",
            &[Param::Text(digest)],
        )?;
        let Some(r) = rows.first() else { return Ok(None) };
        let person = person_of(r)?;
        let token_id = int(&r[6]).ok_or_else(|| corrupt("api_token.id"))?;
        let token_role = role_of(&r[7])?;
        if person.disabled || int(&r[8]).unwrap_or(0) <= now || text(&r[9]).is_some() {
            return Ok(None);
        }
        // The last use is written at most once a minute (as a session's): a write per request
        // would serialise every request of a script on the database's write lock. RFC 3339 UTC
        // text in whole seconds sorts as time does.
        let stale = text(&r[10]).is_none_or(|last| last < rfc3339(now - SESSION_TOUCH_SECONDS));
        if stale {
            self.acc_exec(
                "UPDATE api_token SET last_used_at = ?1 WHERE id = ?2",
                &[Param::Text(&rfc3339(now)), Param::Int(token_id)],
            )?;
        }
        let mut c = caller_of(&person);
        c.role = c.role.min(token_role);
        c.token_id = Some(token_id);
        Ok(Some(c))
    }

    fn audit_mark(&self) -> Result<i64, StoreError> {
        let rows = self.acc_query("SELECT coalesce(max(id), 0) FROM audit_event", &[])?;
        Ok(rows.first().and_then(|r| r.first()).and_then(int).unwrap_or(0))
    }

    fn record_audit(
        &self,
        actor: &Actor,
        action: &str,
        record: &str,
        before: Option<&str>,
        after: Option<&str>,
        run_id: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        tx(self, |s| audit(s, actor, now, action, record, before, after, run_id))
    }

    fn audit_events(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        audit::events(self, f)
    }
}

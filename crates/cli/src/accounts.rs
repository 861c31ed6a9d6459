//! `senda user`, `senda organisation` and `senda audit` (issue 17): accounts from the command
//! line. Whoever can open the database is trusted here (the audit trail records them as `cli`);
//! the first administrator is made with `senda user add EMAIL --role administrator`.
//!
//! Passwords are never taken from arguments (they would sit in the shell history and in the
//! process list): they are read from standard input (one line) or, on a terminal, from a
//! prompt that does not echo, asked twice.

use crate::commands::{open_existing_store, open_store};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use senda_core::Strategy;
use senda_core::accounts::{
    Caller, Email, NewOrganisation, NewToken, Password, Role, SALT_BYTES, TOKEN_PREFIX, encode_secret, hash_password,
    secret_digest,
};
use senda_store::accounts::{Actor, Adoption, AuditEvent, AuditFilter};
use std::io::{BufRead, IsTerminal, Write};

/// `senda user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person (the password is read from standard input or a prompt).
    Add {
        /// E-mail address (the login name).
        email: String,
        /// administrator, coordinator, partner_editor or viewer.
        #[arg(long)]
        role: String,
        /// Organisation id (`senda organisation list`); required for a partner editor.
        #[arg(long)]
        organisation: Option<i64>,
    },
    /// List people.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: it cannot sign in, its sessions end at once, its tokens stop working.
    Disable {
        /// E-mail address.
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// E-mail address.
        email: String,
    },
    /// Set a new password (read from standard input or a prompt); ends the person's sessions.
    ResetPassword {
        /// E-mail address.
        email: String,
    },
    /// Change a person's role (and organisation); ends the person's sessions.
    SetRole {
        /// E-mail address.
        email: String,
        /// administrator, coordinator, partner_editor or viewer.
        role: String,
        /// Move the person to this organisation.
        #[arg(long, conflicts_with = "no_organisation")]
        organisation: Option<i64>,
        /// Take the person out of their organisation.
        #[arg(long)]
        no_organisation: bool,
    },
}

/// `senda organisation ...`.
#[derive(Debug, Subcommand)]
pub enum OrganisationCommand {
    /// Create an organisation.
    Add(OrganisationArgs),
    /// List organisations.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Organisations named in imported IATI data (reporting-org and participating-org with an
    /// identifier), their roles, and whether each is adopted.
    Candidates {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Adopt organisations of imported IATI data as Senda organisations by identifier
    /// (reporting-org/@ref or participating-org/@ref): the name as published, no retyping.
    Adopt {
        /// IATI organisation identifiers (`senda organisation candidates`).
        #[arg(required = true)]
        identifiers: Vec<String>,
        /// Partner category id of the strategy for the organisations adopted now
        /// (`senda strategy show cmms-2021`).
        #[arg(long)]
        category: Option<String>,
    },
}

/// `senda organisation add`.
#[derive(Debug, Args)]
pub struct OrganisationArgs {
    /// Name (English or the organisation's own).
    #[arg(long)]
    pub name: String,
    /// Name in Spanish.
    #[arg(long)]
    pub name_es: Option<String>,
    /// IATI organisation identifier.
    #[arg(long)]
    pub iati_ref: Option<String>,
    /// Partner category id of the strategy (`senda strategy show cmms-2021`).
    #[arg(long)]
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[arg(long)]
    pub country: Option<String>,
}

/// `senda token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a person; the secret is printed once, on standard output.
    Add {
        /// The person the token acts for (e-mail).
        #[arg(long)]
        user: String,
        /// What it is for (shown in lists).
        #[arg(long)]
        name: String,
        /// The role it acts with: the person's (default) or less.
        #[arg(long)]
        role: Option<String>,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value = "90")]
        days: String,
    },
    /// List tokens (never their secrets): one person's, or everyone's.
    List {
        /// Only this person's tokens (e-mail).
        #[arg(long)]
        user: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stops working on the next request.
    Revoke {
        /// The token's id (`senda token list`).
        id: i64,
    },
}

/// `senda audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Writes by this person (e-mail).
    #[arg(long)]
    pub person: Option<String>,
    /// Writes by people of this organisation (id).
    #[arg(long)]
    pub organisation: Option<i64>,
    /// Writes on this record (`person:3`, `organisation:1`).
    #[arg(long)]
    pub record: Option<String>,
    /// From this date or instant (`2026-01-31` or RFC 3339, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Before this date or instant.
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many events, newest first.
    #[arg(long, default_value_t = 1000)]
    pub limit: u64,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
}

/// Output of `senda audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A table.
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON array.
    Json,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Seconds since 1970, UTC (the time account writes and audit events take).
pub fn unix_now() -> i64 {
    now()
}

/// Who the audit trail records for a write made from the command line: the operating-system
/// user (`cli:ana`, from `USER` or `LOGNAME`), or `cli` when neither is set.
pub fn cli_actor() -> Actor {
    let user = std::env::var("USER").ok().filter(|u| !u.trim().is_empty()).or_else(|| std::env::var("LOGNAME").ok());
    Actor::cli_user(user.as_deref())
}

/// 16 random bytes from the operating system (a password salt).
pub fn salt() -> Result<[u8; SALT_BYTES]> {
    let mut b = [0u8; SALT_BYTES];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    Ok(b)
}

/// Reads a new password: a prompt without echo (asked twice) on a terminal, else the first line
/// of standard input. Checked by [`Password::parse`] (the error names `password`).
pub fn read_password(input: &mut dyn BufRead, terminal: bool) -> Result<Password> {
    if terminal {
        let first = prompt("New password (12 characters or more): ")?;
        let p = Password::parse(&first)?;
        let again = prompt("Again: ")?;
        if again != first {
            bail!("password: the two entries differ; nothing changed");
        }
        return Ok(p);
    }
    let mut line = String::new();
    input.read_line(&mut line).context("password: cannot read standard input")?;
    if line.is_empty() {
        bail!("password: standard input is empty; give the password on standard input (one line) or run on a terminal");
    }
    Ok(Password::parse(&line)?)
}

#[cfg(target_os = "linux")]
fn prompt(label: &str) -> Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    eprint!("{label}");
    std::io::stderr().flush()?;
    let saved = tcgetattr(&stdin).ok();
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = tcsetattr(&stdin, OptionalActions::Now, t);
    }
    eprintln!();
    r.context("password: cannot read the terminal")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(not(target_os = "linux"))]
fn prompt(label: &str) -> Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("password: cannot read the terminal")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn new_password_hash() -> Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let pw = read_password(&mut stdin.lock(), terminal)?;
    Ok(hash_password(&pw, &salt()?)?)
}

fn role_with_organisation(role: &str, organisation: Option<i64>) -> Result<Role> {
    let role = Role::parse(role)?;
    if role.needs_organisation() && organisation.is_none() {
        bail!(
            "--organisation: a {role} edits its own organisation's records, so it needs one (`senda organisation list`)"
        );
    }
    Ok(role)
}

/// The partner category ids of the built-in strategies.
pub fn partner_categories() -> Result<Vec<String>> {
    let mut ids: Vec<String> =
        Strategy::all_builtin()?.iter().flat_map(|s| s.partner_categories.iter().map(|c| c.id.clone())).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `senda user ...`.
pub fn cmd_user(db: &str, c: UserCommand) -> Result<i32> {
    let cli = cli_actor();
    match c {
        UserCommand::Add { email, role, organisation } => {
            let email = Email::parse(&email)?;
            let role = role_with_organisation(&role, organisation)?;
            let store = open_store(db)?;
            if store.person_for_login(&email)?.is_some() {
                bail!("email: {email} already has an account (`senda user reset-password` sets a new password)");
            }
            let hash = new_password_hash()?;
            let id = store.create_person(&cli, &email, organisation, role, &hash, now())?;
            eprintln!("created {email} ({role}), person {id}");
        }
        UserCommand::List { json } => {
            let store = open_existing_store(db)?;
            let people = store.people()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&people)?);
            } else {
                outln!("{:>4}  {:<40} {:<15} {:>12}  status", "id", "email", "role", "organisation");
                for p in people {
                    let org = p.organisation_id.map(|o| o.to_string()).unwrap_or_else(|| "-".into());
                    let status = if p.disabled { "disabled" } else { "active" };
                    outln!("{:>4}  {:<40} {:<15} {:>12}  {status}", p.id, p.email, p.role.as_str(), org);
                }
            }
        }
        UserCommand::Disable { email } => {
            let email = Email::parse(&email)?;
            open_existing_store(db)?.set_person_disabled(&cli, &email, true, now())?;
            eprintln!("disabled {email}: its sessions ended, its tokens stopped working");
        }
        UserCommand::Enable { email } => {
            let email = Email::parse(&email)?;
            open_existing_store(db)?.set_person_disabled(&cli, &email, false, now())?;
            eprintln!("enabled {email}");
        }
        UserCommand::ResetPassword { email } => {
            let email = Email::parse(&email)?;
            let store = open_existing_store(db)?;
            if store.person_for_login(&email)?.is_none() {
                bail!("email: no person with e-mail {email}");
            }
            let hash = new_password_hash()?;
            store.set_password(&cli, &email, &hash, now())?;
            eprintln!("new password set for {email}; its sessions ended");
        }
        UserCommand::SetRole { email, role, organisation, no_organisation } => {
            let email = Email::parse(&email)?;
            let store = open_existing_store(db)?;
            let Some((person, _)) = store.person_for_login(&email)? else {
                bail!("email: no person with e-mail {email}");
            };
            let org = if no_organisation { None } else { organisation.or(person.organisation_id) };
            let role = role_with_organisation(&role, org)?;
            let change = if no_organisation || organisation.is_some() { Some(org) } else { None };
            store.set_person_role(&cli, &email, role, change, now())?;
            eprintln!("{email} is now {role}; its sessions ended");
        }
    }
    Ok(0)
}

/// `senda organisation ...`.
pub fn cmd_organisation(db: &str, c: OrganisationCommand) -> Result<i32> {
    let cli = cli_actor();
    match c {
        OrganisationCommand::Add(a) => {
            let cats = partner_categories()?;
            let cats: Vec<&str> = cats.iter().map(String::as_str).collect();
            let org = NewOrganisation::parse(
                &a.name,
                a.name_es.as_deref(),
                a.iati_ref.as_deref(),
                a.category.as_deref(),
                a.country.as_deref(),
                &cats,
            )?;
            let id = open_store(db)?.create_organisation(&cli, &org, now())?;
            eprintln!("created organisation {id}: {}", org.name);
        }
        OrganisationCommand::List { json } => {
            let orgs = open_existing_store(db)?.organisations()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&orgs)?);
            } else {
                outln!("{:>4}  {:<40} {:<24} {:<20} country", "id", "name", "iati_ref", "category");
                for o in orgs {
                    outln!(
                        "{:>4}  {:<40} {:<24} {:<20} {}",
                        o.id,
                        o.name,
                        o.iati_ref.as_deref().unwrap_or("-"),
                        o.category.as_deref().unwrap_or("-"),
                        o.country.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        OrganisationCommand::Candidates { json } => {
            let store = open_existing_store(db)?;
            let candidates = store.organisation_candidates()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&candidates)?);
            } else {
                outln!("{:<28} {:>10}  {:<8} {:<36} name", "iati_ref", "activities", "adopted", "roles");
                for c in candidates {
                    let adopted = c.adopted_as.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
                    outln!(
                        "{:<28} {:>10}  {:<8} {:<36} {}",
                        c.iati_ref,
                        c.activities,
                        adopted,
                        c.roles.join(","),
                        c.name
                    );
                }
            }
        }
        OrganisationCommand::Adopt { identifiers, category } => {
            let store = open_existing_store(db)?;
            let cats = partner_categories()?;
            let cats: Vec<&str> = cats.iter().map(String::as_str).collect();
            let adoption = Adoption { refs: &identifiers, category: category.as_deref(), categories: &cats };
            let ids = store.adopt_organisations(&cli, &adoption, now())?;
            for (r, id) in identifiers.iter().zip(ids) {
                eprintln!("{r}: organisation {id}");
            }
        }
    }
    Ok(0)
}

fn caller_of(p: &senda_store::accounts::Person) -> Caller {
    Caller { person_id: p.id, email: p.email.clone(), organisation_id: p.organisation_id, role: p.role, token_id: None }
}

fn person_arg(store: &dyn senda_store::Store, raw: &str) -> Result<senda_store::accounts::Person> {
    let email = Email::parse(raw).map_err(|e| anyhow::anyhow!("--user: {}", e.message))?;
    match store.person_for_login(&email)? {
        Some((p, _)) => Ok(p),
        None => bail!("--user: no person with e-mail {email} (`senda user list`)"),
    }
}

/// A new API token's secret: `senda_` and 43 characters from 32 random bytes.
pub fn new_token_secret() -> Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    Ok(format!("{TOKEN_PREFIX}{}", encode_secret(&b)))
}

/// An expiry (seconds since 1970) as an RFC 3339 date and time, UTC.
fn instant(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// `senda token ...`.
pub fn cmd_token(db: &str, c: TokenCommand) -> Result<i32> {
    let cli = cli_actor();
    match c {
        TokenCommand::Add { user, name, role, days } => {
            let store = open_existing_store(db)?;
            let person = person_arg(&*store, &user)?;
            if person.disabled {
                bail!("--user: {} is disabled (`senda user enable` first)", person.email);
            }
            let t = NewToken::parse(&name, role.as_deref(), &days, person.role).map_err(|e| {
                let flag = match e.field {
                    "name" => "--name",
                    "role" => "--role",
                    "days" => "--days",
                    other => other,
                };
                anyhow::anyhow!("{flag}: {}", e.message)
            })?;
            let secret = new_token_secret()?;
            let at = now();
            let expires = at + i64::from(t.days) * 86_400;
            let id = store.create_token_by(
                &cli,
                &caller_of(&person),
                &t.name,
                t.role,
                &secret_digest(&secret),
                expires,
                at,
            )?;
            outln!("{secret}");
            eprintln!(
                "token {id} for {} ({}), expires {}: the secret above is shown once and cannot be read again; \
                 send it as `Authorization: Bearer <token>`",
                person.email,
                t.role,
                instant(expires)
            );
        }
        TokenCommand::List { user, json } => {
            let store = open_existing_store(db)?;
            let people = match user {
                Some(u) => vec![person_arg(&*store, &u)?],
                None => store.people()?,
            };
            let mut rows = Vec::new();
            for p in people {
                for t in store.tokens(p.id)? {
                    rows.push((p.email.clone(), t));
                }
            }
            if json {
                let v: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(e, t)| {
                        let mut v = serde_json::to_value(t).unwrap_or_default();
                        v["user"] = serde_json::Value::String(e.clone());
                        v["expires_at"] = serde_json::Value::String(instant(t.expires_unix));
                        v
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let at = now();
                outln!(
                    "{:>4}  {:<32} {:<24} {:<15} {:<20}  {:<20}  status",
                    "id",
                    "user",
                    "name",
                    "role",
                    "expires",
                    "last used"
                );
                for (e, t) in rows {
                    let status = if t.revoked_at.is_some() {
                        "revoked"
                    } else if t.expires_unix <= at {
                        "expired"
                    } else {
                        "active"
                    };
                    outln!(
                        "{:>4}  {:<32} {:<24} {:<15} {:<20}  {:<20}  {status}",
                        t.id,
                        e,
                        t.name,
                        t.role.as_str(),
                        instant(t.expires_unix),
                        t.last_used_at.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            let store = open_existing_store(db)?;
            let Some(person_id) = store.token_owner(id)? else {
                bail!("id: no token {id} (`senda token list`)");
            };
            if store.revoke_token_by(&cli, person_id, id, now())? {
                eprintln!("token {id} revoked: it stops working on the next request");
            } else {
                bail!("id: token {id} was already revoked");
            }
        }
    }
    Ok(0)
}

/// `senda audit`.
pub fn cmd_audit(db: &str, a: AuditArgs) -> Result<i32> {
    let store = open_existing_store(db)?;
    let person_id = match &a.person {
        None => None,
        Some(e) => {
            let email = Email::parse(e).map_err(|e| anyhow::anyhow!("--person: {}", e.message))?;
            match store.person_for_login(&email)? {
                Some((p, _)) => Some(p.id),
                None => bail!("--person: no person with e-mail {email}"),
            }
        }
    };
    for (flag, v) in [("--from", &a.from), ("--to", &a.to)] {
        if let Some(v) = v
            && !valid_instant(v)
        {
            bail!("{flag}: {v:?} is not a date (2026-01-31) or an RFC 3339 instant in UTC (2026-01-31T12:00:00Z)");
        }
    }
    let filter = AuditFilter {
        person_id,
        organisation_id: a.organisation,
        record: a.record.clone(),
        from: a.from.clone(),
        to: a.to.clone(),
        limit: a.limit,
    };
    let events = store.audit_events(&filter)?;
    write_audit(&events, a.format, &mut std::io::stdout().lock())?;
    Ok(0)
}

fn valid_instant(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).is_ok()
        || (s.ends_with('Z') && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok())
}

/// Writes audit events as a table, CSV (what the web's download gives too) or JSON.
pub fn write_audit(events: &[AuditEvent], format: AuditFormat, out: &mut dyn Write) -> Result<()> {
    match format {
        AuditFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(events)?)?,
        AuditFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id",
                "at",
                "actor",
                "person_id",
                "token_id",
                "organisation_id",
                "action",
                "record",
                "before",
                "after",
                "run_id",
            ])?;
            let o = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            for e in events {
                w.write_record([
                    e.id.to_string(),
                    e.at.clone(),
                    e.actor.clone(),
                    o(e.person_id),
                    o(e.token_id),
                    o(e.organisation_id),
                    e.action.clone(),
                    e.record.clone(),
                    e.before.clone().unwrap_or_default(),
                    e.after.clone().unwrap_or_default(),
                    o(e.run_id),
                ])?;
            }
            w.flush()?;
        }
        AuditFormat::Table => {
            writeln!(out, "{:<20}  {:<30} {:<22} record", "at", "actor", "action")?;
            for e in events {
                writeln!(out, "{:<20}  {:<30} {:<22} {}", e.at, e.actor, e.action, e.record)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_from_standard_input_is_checked_with_the_field_named() {
        let ok = read_password(&mut "correct horse battery\n".as_bytes(), false).expect("valid");
        assert_eq!(ok.expose(), "correct horse battery");
        let short = read_password(&mut "short\n".as_bytes(), false).expect_err("short");
        assert!(short.to_string().starts_with("password: "), "{short}");
        let empty = read_password(&mut "".as_bytes(), false).expect_err("empty");
        assert!(empty.to_string().contains("standard input is empty"), "{empty}");
    }
}

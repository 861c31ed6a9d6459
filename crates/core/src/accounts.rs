//! Accounts (issue 17): organisations, people, roles, passwords, API tokens and the **access
//! policy**, the one place that decides who may read or write what.
//!
//! Everything here is parsed once at the boundary (a CLI argument, a form field, a JSON body):
//! an [`Email`], a [`Role`], a [`Password`] or a [`NewOrganisation`] that exists is valid. A bad
//! value is an [`AccountError`] naming the field it came from.
//!
//! The policy is [`decide`]: `(principal, action, resource) -> Decision`. Reads of records go
//! through [`ReadScope`] (what a principal may see, derived from [`decide`], so a list, a count
//! and a total filtered by it never disagree with a single read). The web server calls both in
//! one place (its route table and its caller extractor); the store applies the scope in SQL.
//!
//! No I/O here: password hashing is pure computation (Argon2id, [`hash_password`]); the salt
//! and every random secret come from the caller, which reads the operating system's generator.

use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;

/// A value that is not acceptable, naming the field it came from (`email`, `password`,
/// `role`, `organisation`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct AccountError {
    /// The field (form field, CLI argument or JSON key) that held the value.
    pub field: &'static str,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl AccountError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

// ---------------------------------------------------------------------------------------------
// Roles and principals

/// A person's role. The anonymous public is not a role: it is [`Principal::Anonymous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything, published or not; writes nothing.
    Viewer,
    /// Edits its own organisation's records and reports; reads what is published and its own.
    PartnerEditor,
    /// Edits and approves every record; reads everything.
    Coordinator,
    /// Manages accounts and organisations, and may do what a coordinator does.
    Administrator,
}

impl Role {
    /// Every role, least powerful first (the order "or less" compares in, for API tokens).
    pub const ALL: [Role; 4] = [Role::Viewer, Role::PartnerEditor, Role::Coordinator, Role::Administrator];

    /// The stored and typed name: `administrator`, `coordinator`, `partner_editor`, `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::PartnerEditor => "partner_editor",
            Role::Coordinator => "coordinator",
            Role::Administrator => "administrator",
        }
    }

    /// Parses a role name (any case; `partner-editor` is accepted for `partner_editor`).
    /// Errors name the field `role` and list the roles.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let s = raw.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            AccountError::new(
                "role",
                format!("unknown role {raw:?}; one of: administrator, coordinator, partner_editor, viewer"),
            )
        })
    }

    /// Whether the role must belong to an organisation (a partner editor edits its own
    /// organisation's records, so it needs one).
    pub fn needs_organisation(self) -> bool {
        self == Role::PartnerEditor
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is asking: nobody signed in, or a person (directly or through one of their API tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The anonymous public: reads published data only.
    Anonymous,
    /// A signed-in person or a script holding a token.
    Person(Caller),
}

/// A signed-in person as the policy sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `person.id`.
    pub person_id: i64,
    /// The person's e-mail address (for logs and the audit trail).
    pub email: String,
    /// `organisation.id` of the person's organisation, if any.
    pub organisation_id: Option<i64>,
    /// The role in force: the person's, or for a token the lesser of the token's and the
    /// person's current role.
    pub role: Role,
    /// `api_token.id` when the request came with a token rather than a session.
    pub token_id: Option<i64>,
}

impl Principal {
    /// The role, `None` for the public.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Anonymous => None,
            Principal::Person(c) => Some(c.role),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The policy

/// What a principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See it (in a page, a list, a count, a total, a download or the API).
    Read,
    /// Create or change it.
    Write,
    /// Approve and publish it.
    Approve,
}

/// What the action is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// A record: imported IATI data (owner `None`, always published) or a record entered in
    /// Senda by an organisation (published once approved).
    Record {
        /// `organisation.id` of the organisation the record belongs to; `None` for imported data.
        owner: Option<i64>,
        /// Whether it is published (imported data always is).
        published: bool,
    },
    /// Accounts, organisations and tokens of others (administration).
    Accounts,
    /// The audit trail.
    Audit,
    /// One's own account (password, tokens): any signed-in person.
    OwnAccount,
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Refused: the principal is not signed in and signing in might help (401 / login page).
    SignIn,
    /// Refused to a signed-in principal (403; 404 when the record's existence must not show).
    Deny,
}

impl Decision {
    /// Whether it is [`Decision::Allow`].
    pub fn allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// **The access policy**: may `principal` do `action` on `resource`? Every read and write of
/// Senda is decided here (directly, or through [`ReadScope`] for queries, which is derived
/// from this function and tested against it).
pub fn decide(principal: &Principal, action: Action, resource: Resource) -> Decision {
    let caller = match principal {
        Principal::Anonymous => {
            return match (action, resource) {
                (Action::Read, Resource::Record { published: true, .. }) => Decision::Allow,
                _ => Decision::SignIn,
            };
        }
        Principal::Person(c) => c,
    };
    let own = |owner: Option<i64>| owner.is_some() && owner == caller.organisation_id;
    let allowed = match (caller.role, action, resource) {
        (_, _, Resource::OwnAccount) => true,
        (Role::Administrator, _, _) => true,
        (_, _, Resource::Accounts) => false,
        (Role::Coordinator | Role::Viewer, Action::Read, _) => true,
        (Role::PartnerEditor, _, Resource::Audit) => false,
        (Role::Coordinator, Action::Write | Action::Approve, Resource::Record { .. }) => true,
        (Role::Coordinator, _, Resource::Audit) => false,
        (Role::PartnerEditor, Action::Read, Resource::Record { owner, published }) => published || own(owner),
        // Imported data (no owner) is nobody's to edit but a coordinator's.
        (Role::PartnerEditor, Action::Write, Resource::Record { owner, .. }) => own(owner),
        (Role::PartnerEditor, Action::Approve, _) => false,
        (Role::Viewer, _, _) => false,
    };
    if allowed { Decision::Allow } else { Decision::Deny }
}

/// Which records a principal may read, as a query filter: what lists, counts, totals, charts
/// and downloads apply, so that none of them reveals a record [`decide`] would not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadScope {
    /// Every record, published or not (viewer, coordinator, administrator).
    Everything,
    /// Published records and the unpublished ones of this organisation (partner editor).
    PublishedAndOwn(i64),
    /// Published records only (the public; a partner editor without an organisation).
    PublishedOnly,
}

impl ReadScope {
    /// The scope of `principal`, derived from [`decide`].
    pub fn of(principal: &Principal) -> Self {
        let unpublished_other = Resource::Record { owner: Some(i64::MIN), published: false };
        if decide(principal, Action::Read, unpublished_other).allowed() {
            return ReadScope::Everything;
        }
        match principal {
            Principal::Person(Caller { organisation_id: Some(org), .. })
                if decide(principal, Action::Read, Resource::Record { owner: Some(*org), published: false })
                    .allowed() =>
            {
                ReadScope::PublishedAndOwn(*org)
            }
            _ => ReadScope::PublishedOnly,
        }
    }

    /// Whether a record of `owner` (`None`: imported) and `published` state is in the scope.
    pub fn sees(self, owner: Option<i64>, published: bool) -> bool {
        match self {
            ReadScope::Everything => true,
            ReadScope::PublishedAndOwn(org) => published || owner == Some(org),
            ReadScope::PublishedOnly => published,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values parsed once

/// An e-mail address, trimmed and lower-cased (the key of a person).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

impl Email {
    /// Parses an address: one `@`, something before it, a domain with a dot after it, no
    /// spaces or control characters, at most [`MAX_EMAIL_BYTES`]. Errors name the field `email`.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let s = raw.trim().to_lowercase();
        let bad = |m: &str| Err(AccountError::new("email", m.to_owned()));
        if s.is_empty() {
            return bad("is empty");
        }
        if s.len() > MAX_EMAIL_BYTES {
            return bad(&format!("longer than {MAX_EMAIL_BYTES} bytes"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("contains a space or a control character");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return bad(&format!("{raw:?} has no @"));
        };
        if local.is_empty() || domain.contains('@') {
            return bad(&format!("{raw:?} is not an address (one @, with a name before it)"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return bad(&format!("{raw:?}: the domain after @ must be a name with a dot, e.g. example.org"));
        }
        Ok(Email(s))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest password accepted (characters). No composition rules (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (characters): bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 1000;

/// Common passwords of [`MIN_PASSWORD_CHARS`] or more, lower case, sorted (`data/common-passwords.txt`).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether `candidate` (any case) is on the shipped list of common passwords.
pub fn is_common_password(candidate: &str) -> bool {
    let lower = candidate.to_lowercase();
    COMMON_PASSWORDS.lines().any(|l| !l.starts_with('#') && l == lower)
}

/// A new password that follows the rules: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_CHARS`], not on the common-passwords list. Never printed (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// Checks a new password. A trailing line end (from standard input) is not part of it.
    /// Errors name the field `password`.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let s = raw.strip_suffix('\n').unwrap_or(raw);
        let s = s.strip_suffix('\r').unwrap_or(s);
        let n = s.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(AccountError::new(
                "password",
                format!(
                    "{n} characters; at least {MIN_PASSWORD_CHARS} are needed (any characters: a few words make a good one)"
                ),
            ));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(AccountError::new("password", format!("{n} characters; at most {MAX_PASSWORD_CHARS}")));
        }
        if is_common_password(s) {
            return Err(AccountError::new("password", "is on the list of commonly used passwords; choose another"));
        }
        Ok(Password(s.to_owned()))
    }

    /// The password's text (to hash it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Argon2id memory cost (KiB): 19 MiB, OWASP's first recommended setting.
pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;
/// Bytes of salt (random, from the caller).
pub const SALT_BYTES: usize = 16;

fn argon2() -> argon2::Argon2<'static> {
    // The constants are within Argon2's bounds (tested), so `Params::new` cannot fail; the
    // default is only a fallback that keeps this function total.
    let params = argon2::Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None).unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes `password` with Argon2id ([`ARGON2_M_COST_KIB`], [`ARGON2_T_COST`],
/// [`ARGON2_P_COST`], version 0x13) and `salt`: a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), what `person.password_hash` holds.
/// Takes about 30 ms of one core: call it off an async runtime's workers.
pub fn hash_password(password: &Password, salt: &[u8; SALT_BYTES]) -> Result<String, AccountError> {
    use argon2::PasswordHasher;
    argon2()
        .hash_password_with_salt(password.expose().as_bytes(), salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::new("password", format!("cannot be hashed: {e}")))
}

/// Whether `candidate` matches the stored PHC string (its own parameters are used, so hashes
/// made with older parameters still verify). A malformed stored hash never matches.
pub fn verify_password(candidate: &str, phc: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2().verify_password(candidate.as_bytes(), phc).is_ok()
}

/// SHA-256 of a high-entropy secret (a session id, an API token), hex: what the database keeps
/// instead of the secret, so a copy of the database does not open anyone's session.
pub fn secret_digest(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Characters of a secret made by [`encode_secret`] from 32 random bytes.
pub const SECRET_CHARS: usize = 43;

/// A random secret as URL-safe text (base64url without padding, 43 characters for 32 bytes).
pub fn encode_secret(bytes: &[u8; 32]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(SECRET_CHARS);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Prefix of every API token, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "senda_";

/// An organisation to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    /// Name in English (or the organisation's own language), 1 to 300 characters.
    pub name: String,
    /// Name in Spanish, when known.
    pub name_es: Option<String>,
    /// IATI organisation identifier (`reporting-org/@ref`, `participating-org/@ref`), when known.
    pub iati_ref: Option<String>,
    /// A partner category id of the strategy file (`[[partner_categories]]`), when known.
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2 country, when known.
    pub country: Option<crate::CountryCode>,
}

/// Longest organisation name (characters).
pub const MAX_NAME_CHARS: usize = 300;

fn optional(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

impl NewOrganisation {
    /// Parses the fields: `name` (required), `name_es`, `iati_ref` (no spaces, at most 200
    /// bytes), `category` (one of `categories`, the strategy's partner category ids),
    /// `country` (IATI Country codelist). Errors name the field.
    pub fn parse(
        name: &str,
        name_es: Option<&str>,
        iati_ref: Option<&str>,
        category: Option<&str>,
        country: Option<&str>,
        categories: &[&str],
    ) -> Result<Self, AccountError> {
        let check_name = |field: &'static str, s: &str| -> Result<String, AccountError> {
            let s = s.trim();
            if s.is_empty() {
                return Err(AccountError::new(field, "is empty"));
            }
            if s.chars().count() > MAX_NAME_CHARS {
                return Err(AccountError::new(field, format!("longer than {MAX_NAME_CHARS} characters")));
            }
            if s.chars().any(char::is_control) {
                return Err(AccountError::new(field, "contains a control character"));
            }
            Ok(s.to_owned())
        };
        let name = check_name("name", name)?;
        let name_es = optional(name_es).map(|s| check_name("name_es", s)).transpose()?;
        let iati_ref = match optional(iati_ref) {
            None => None,
            Some(r) if r.len() > 200 || r.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(AccountError::new(
                    "iati_ref",
                    format!("{r:?} is not an IATI organisation identifier (no spaces, at most 200 bytes)"),
                ));
            }
            Some(r) => Some(r.to_owned()),
        };
        let category = match optional(category) {
            None => None,
            Some(c) if categories.contains(&c) => Some(c.to_owned()),
            Some(c) => {
                return Err(AccountError::new(
                    "category",
                    format!("unknown partner category {c:?}; one of: {}", categories.join(", ")),
                ));
            }
        };
        let country = optional(country)
            .map(|c| {
                crate::CountryCode::parse(c).map_err(|_| {
                    AccountError::new("country", format!("{c:?} is not an ISO 3166-1 alpha-2 country code"))
                })
            })
            .transpose()?;
        Ok(NewOrganisation { name, name_es, iati_ref, category, country })
    }
}

/// Longest API token name (characters).
pub const MAX_TOKEN_NAME_CHARS: usize = 100;
/// Longest life of an API token (days).
pub const MAX_TOKEN_DAYS: u32 = 366;

/// An API token to create: a name, a role no higher than its creator's, a life in days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// What it is for (shown in lists), 1 to [`MAX_TOKEN_NAME_CHARS`] characters.
    pub name: String,
    /// The role it acts with (at most the creator's).
    pub role: Role,
    /// Days until it expires, 1 to [`MAX_TOKEN_DAYS`].
    pub days: u32,
}

impl NewToken {
    /// Parses the fields `name`, `role` (default: the creator's) and `days` for `creator`.
    pub fn parse(name: &str, role: Option<&str>, days: &str, creator: Role) -> Result<Self, AccountError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AccountError::new("name", "is empty"));
        }
        if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AccountError::new(
                "name",
                format!("at most {MAX_TOKEN_NAME_CHARS} characters, no control characters"),
            ));
        }
        let role = match optional(role) {
            None => creator,
            Some(r) => Role::parse(r)?,
        };
        if role > creator {
            return Err(AccountError::new("role", format!("a token may act as {creator} or less, not {role}")));
        }
        let days: u32 = days.trim().parse().ok().filter(|d| (1..=MAX_TOKEN_DAYS).contains(d)).ok_or_else(|| {
            AccountError::new("days", format!("{days:?}: a whole number of days from 1 to {MAX_TOKEN_DAYS}"))
        })?;
        Ok(NewToken { name: name.to_owned(), role, days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, org: Option<i64>) -> Principal {
        Principal::Person(Caller { person_id: 1, email: "a@b.org".into(), organisation_id: org, role, token_id: None })
    }

    fn principals() -> Vec<Principal> {
        let mut v = vec![Principal::Anonymous];
        for r in Role::ALL {
            v.push(person(r, Some(1)));
            v.push(person(r, None));
        }
        v
    }

    #[test]
    fn the_read_scope_agrees_with_the_policy_for_every_principal_and_record() {
        for p in principals() {
            let scope = ReadScope::of(&p);
            for owner in [None, Some(1), Some(2)] {
                for published in [true, false] {
                    let allowed = decide(&p, Action::Read, Resource::Record { owner, published }).allowed();
                    assert_eq!(scope.sees(owner, published), allowed, "{p:?} {owner:?} {published}");
                }
            }
        }
    }

    #[test]
    fn the_public_reads_published_records_only_and_writes_nothing() {
        let p = Principal::Anonymous;
        assert_eq!(decide(&p, Action::Read, Resource::Record { owner: None, published: true }), Decision::Allow);
        assert_eq!(decide(&p, Action::Read, Resource::Record { owner: Some(1), published: false }), Decision::SignIn);
        assert_eq!(decide(&p, Action::Write, Resource::Record { owner: None, published: true }), Decision::SignIn);
        assert_eq!(decide(&p, Action::Read, Resource::Accounts), Decision::SignIn);
    }

    #[test]
    fn a_partner_editor_edits_its_own_organisation_only() {
        let p = person(Role::PartnerEditor, Some(1));
        let own = Resource::Record { owner: Some(1), published: false };
        let other = Resource::Record { owner: Some(2), published: false };
        assert!(decide(&p, Action::Write, own).allowed());
        assert!(decide(&p, Action::Read, own).allowed());
        assert_eq!(decide(&p, Action::Write, other), Decision::Deny);
        assert_eq!(decide(&p, Action::Read, other), Decision::Deny);
        assert_eq!(decide(&p, Action::Approve, own), Decision::Deny);
        assert_eq!(decide(&p, Action::Write, Resource::Record { owner: None, published: true }), Decision::Deny);
        assert_eq!(decide(&p, Action::Read, Resource::Accounts), Decision::Deny);
        assert_eq!(decide(&p, Action::Read, Resource::Audit), Decision::Deny);
    }

    #[test]
    fn roles_do_what_the_issue_says() {
        let unpublished = Resource::Record { owner: Some(2), published: false };
        let v = person(Role::Viewer, None);
        assert!(decide(&v, Action::Read, unpublished).allowed());
        assert!(!decide(&v, Action::Write, unpublished).allowed());
        let c = person(Role::Coordinator, None);
        assert!(decide(&c, Action::Approve, unpublished).allowed());
        assert!(!decide(&c, Action::Write, Resource::Accounts).allowed());
        let a = person(Role::Administrator, None);
        assert!(decide(&a, Action::Write, Resource::Accounts).allowed());
        for p in principals().into_iter().skip(1) {
            assert!(decide(&p, Action::Write, Resource::OwnAccount).allowed());
        }
    }

    #[test]
    fn roles_parse_with_the_field_named() {
        assert_eq!(Role::parse("Partner-Editor"), Ok(Role::PartnerEditor));
        let e = Role::parse("boss").expect_err("refused");
        assert_eq!(e.field, "role");
        assert!(e.to_string().contains("administrator, coordinator, partner_editor, viewer"));
    }

    #[test]
    fn emails_are_parsed_once() {
        assert_eq!(Email::parse("  Ana@Example.ORG ").map(|e| e.to_string()), Ok("ana@example.org".into()));
        for bad in ["", "ana", "@example.org", "ana@example", "ana@@example.org", "a na@example.org", "ana@.org"] {
            let e = Email::parse(bad).expect_err("refused");
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn passwords_need_twelve_characters_and_not_a_common_one() {
        assert!(Password::parse("correct horse battery").is_ok());
        assert!(Password::parse("ñandúñandúñ\n").is_err(), "11 characters after the line end");
        assert!(Password::parse("ñandúñandúña").is_ok(), "12 characters, 14 bytes");
        let short = Password::parse("short").expect_err("refused");
        assert_eq!(short.field, "password");
        assert!(short.message.contains("at least 12"));
        let common = Password::parse("Password1234").expect_err("refused");
        assert!(common.message.contains("commonly used"), "{common}");
        assert!(Password::parse(&"x".repeat(1001)).is_err());
        assert_eq!(format!("{:?}", Password::parse("correct horse battery")), "Ok(Password(..))");
    }

    #[test]
    fn the_common_list_is_sorted_lower_case_and_long_enough_to_matter() {
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(lines.len() > 1000);
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert!(lines.iter().all(|l| l.chars().count() >= MIN_PASSWORD_CHARS && l.to_lowercase() == *l));
    }

    #[test]
    fn hashes_are_argon2id_with_the_documented_parameters_and_verify() {
        let pw = Password::parse("correct horse battery").expect("valid");
        let h = hash_password(&pw, &[7; SALT_BYTES]).expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        let other_salt = hash_password(&pw, &[8; SALT_BYTES]).expect("hash");
        assert_ne!(h, other_salt);
    }

    #[test]
    fn secrets_are_url_safe_and_digested() {
        let s = encode_secret(&[255; 32]);
        assert_eq!(s.len(), SECRET_CHARS);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(secret_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn organisations_parse_with_the_field_named() {
        let cats = ["us_government", "civil_society"];
        let o = NewOrganisation::parse(" USAID ", Some(""), Some("US-GOV-1"), Some("us_government"), Some("us"), &cats)
            .expect("valid");
        assert_eq!(o.name, "USAID");
        assert_eq!(o.name_es, None);
        assert_eq!(o.country.map(|c| c.as_str().to_owned()), Some("US".into()));
        let field = |r: Result<NewOrganisation, AccountError>| r.expect_err("refused").field;
        assert_eq!(field(NewOrganisation::parse(" ", None, None, None, None, &cats)), "name");
        assert_eq!(field(NewOrganisation::parse("A", None, Some("US GOV"), None, None, &cats)), "iati_ref");
        assert_eq!(field(NewOrganisation::parse("A", None, None, Some("army"), None, &cats)), "category");
        assert_eq!(field(NewOrganisation::parse("A", None, None, None, Some("USA"), &cats)), "country");
    }

    #[test]
    fn tokens_act_with_the_creators_role_or_less() {
        assert_eq!(NewToken::parse("sync", None, "30", Role::Coordinator).map(|t| t.role), Ok(Role::Coordinator));
        assert_eq!(NewToken::parse("sync", Some("viewer"), "30", Role::Coordinator).map(|t| t.role), Ok(Role::Viewer));
        assert_eq!(
            NewToken::parse("sync", Some("administrator"), "30", Role::Coordinator).expect_err("refused").field,
            "role"
        );
        assert_eq!(NewToken::parse("sync", None, "0", Role::Viewer).expect_err("refused").field, "days");
        assert_eq!(NewToken::parse("sync", None, "400", Role::Viewer).expect_err("refused").field, "days");
        assert_eq!(NewToken::parse(" ", None, "1", Role::Viewer).expect_err("refused").field, "name");
    }
}

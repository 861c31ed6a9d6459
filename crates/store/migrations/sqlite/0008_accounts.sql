-- Senda SQLite schema, version 8: accounts (issue 17). Organisations, people, server-side web
-- sessions, API tokens (stored as SHA-256 digests, never the secret) and the audit trail.
-- Instants are RFC 3339 text in UTC; `*_unix` columns are the same instants in seconds, which
-- the timeouts compare.
CREATE TABLE organisation (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_es     TEXT,
    iati_ref    TEXT UNIQUE,            -- IATI organisation identifier, when known
    category    TEXT,                   -- a partner category id of the strategy file
    country     TEXT,                   -- ISO 3166-1 alpha-2
    created_at  TEXT NOT NULL
);
CREATE TABLE person (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,   -- lower case
    organisation_id INTEGER REFERENCES organisation(id),
    role            TEXT NOT NULL CHECK (role IN ('administrator', 'coordinator', 'partner_editor', 'viewer')),
    password_hash   TEXT NOT NULL,          -- Argon2id, PHC string
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE TABLE web_session (
    id_digest    TEXT PRIMARY KEY,          -- SHA-256 of the cookie's value, hex
    person_id    INTEGER NOT NULL REFERENCES person(id),
    csrf         TEXT NOT NULL,             -- the session's CSRF token (forms carry it)
    created_unix INTEGER NOT NULL,
    seen_unix    INTEGER NOT NULL
);
CREATE INDEX web_session_person ON web_session(person_id);
CREATE TABLE api_token (
    id           INTEGER PRIMARY KEY,
    digest       TEXT NOT NULL UNIQUE,      -- SHA-256 of the token, hex
    person_id    INTEGER NOT NULL REFERENCES person(id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('administrator', 'coordinator', 'partner_editor', 'viewer')),
    created_at   TEXT NOT NULL,
    expires_unix INTEGER NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_token_person ON api_token(person_id);
CREATE TABLE audit_event (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,          -- e-mail of the person, `token:ID (e-mail)`, or `cli`
    person_id       INTEGER,
    token_id        INTEGER,
    organisation_id INTEGER,                -- the actor's organisation
    action          TEXT NOT NULL,          -- e.g. person.create, session.login, import.run
    record          TEXT NOT NULL,          -- e.g. person:3, organisation:1, import_run:7
    before_value    TEXT,                   -- JSON, NULL for a creation
    after_value     TEXT,                   -- JSON, NULL for a removal
    run_id          INTEGER                 -- the import run, if any
);
CREATE INDEX audit_event_at ON audit_event(at, id);
CREATE INDEX audit_event_record ON audit_event(record, id);

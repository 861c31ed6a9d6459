-- Senda SQLite schema, version 1.
-- activity: one row per iati-identifier (duplicates resolved at import).
CREATE TABLE activity (
    id                 INTEGER PRIMARY KEY,
    iati_identifier    TEXT NOT NULL UNIQUE,
    reporting_org_ref  TEXT,
    reporting_org_name TEXT NOT NULL DEFAULT '',
    title              TEXT NOT NULL DEFAULT '',   -- in English (else the default language)
    title_es           TEXT NOT NULL DEFAULT '',   -- in Spanish, when published
    status             TEXT,
    hierarchy          INTEGER,
    humanitarian       INTEGER,
    countries          TEXT NOT NULL DEFAULT '',   -- ';GT;HN;' (activity and transaction level)
    start_date         TEXT,
    end_date           TEXT,
    last_updated       TEXT,                       -- as published
    last_updated_utc   TEXT NOT NULL DEFAULT '',   -- normalised for comparison
    source_path        TEXT NOT NULL,              -- canonical path of the file it came from
    source_ordinal     INTEGER NOT NULL,           -- position in that file
    fingerprint        TEXT NOT NULL,
    n_transactions     INTEGER NOT NULL DEFAULT 0,
    commitments_usd    TEXT NOT NULL DEFAULT '0',
    disbursements_usd  TEXT NOT NULL DEFAULT '0',
    expenditures_usd   TEXT NOT NULL DEFAULT '0',
    synthetic          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX activity_source ON activity(source_path);
CREATE INDEX activity_synthetic ON activity(synthetic) WHERE synthetic != 0;

-- activity_doc: the full activity, apart from the row above so that scans of `activity` stay small.
CREATE TABLE activity_doc (
    activity_id  INTEGER PRIMARY KEY REFERENCES activity(id) ON DELETE CASCADE,
    doc          BLOB NOT NULL,              -- the activity without transactions (senda_store::codec)
    transactions BLOB NOT NULL               -- its transactions (senda_store::codec)
);

-- fact: attributed slices of commitments, disbursements and expenditures (see senda_core::attribution).
CREATE TABLE fact (
    activity_id       INTEGER NOT NULL REFERENCES activity(id) ON DELETE CASCADE,
    transaction_index INTEGER,
    transaction_type  TEXT NOT NULL,
    date              TEXT,
    currency          TEXT NOT NULL,
    country           TEXT NOT NULL,
    sector            TEXT NOT NULL,
    implementing_org  TEXT NOT NULL,
    amount            TEXT NOT NULL
);
CREATE INDEX fact_activity ON fact(activity_id);

-- activity_mapping: the rules' result per strategy (narrow: reports scan it).
CREATE TABLE activity_mapping (
    activity_id INTEGER NOT NULL REFERENCES activity(id) ON DELETE CASCADE,
    strategy    TEXT NOT NULL,
    lines       TEXT NOT NULL,        -- 'LOE1;LOE5', '' when not mapped
    PRIMARY KEY (strategy, activity_id)
) WITHOUT ROWID;
CREATE INDEX activity_mapping_activity ON activity_mapping(activity_id);

-- mapping_evidence: why (rule, field, matched value), JSON; read one activity at a time.
CREATE TABLE mapping_evidence (
    activity_id INTEGER NOT NULL REFERENCES activity(id) ON DELETE CASCADE,
    strategy    TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    PRIMARY KEY (activity_id, strategy)
);

-- mapping_override: an analyst's decision; keyed by identifier so it survives re-imports.
CREATE TABLE mapping_override (
    iati_identifier TEXT NOT NULL,
    strategy        TEXT NOT NULL,
    lines           TEXT NOT NULL,
    note            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (iati_identifier, strategy)
) WITHOUT ROWID;

CREATE TABLE strategy_state (
    strategy    TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);

-- source_file: what was imported from each file, to skip unchanged files.
CREATE TABLE source_file (
    path           TEXT PRIMARY KEY,
    content_hash   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    reader_version INTEGER NOT NULL,
    activities     INTEGER NOT NULL,
    transactions   INTEGER NOT NULL,
    imported_at    TEXT NOT NULL
);

CREATE TABLE import_run (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    report      TEXT NOT NULL           -- JSON ImportReport
);

CREATE TABLE diagnostic (
    run_id     INTEGER NOT NULL REFERENCES import_run(id) ON DELETE CASCADE,
    file       TEXT NOT NULL,
    line       INTEGER NOT NULL,
    col        INTEGER NOT NULL,
    severity   TEXT NOT NULL,
    code       TEXT NOT NULL,
    identifier TEXT,
    element    TEXT,
    message    TEXT NOT NULL
);
CREATE INDEX diagnostic_run ON diagnostic(run_id);

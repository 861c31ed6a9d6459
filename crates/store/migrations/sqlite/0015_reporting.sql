-- Senda SQLite schema, version 15: the reporting cycle (issue 18, item 5). `indicator_report`
-- holds one actual of one indicator for one intervention, reporting period and department
-- (`senda_core::reporting::Actual`), with its review state (draft, submitted, approved,
-- returned) and the coordinator's comment of the last return; `organisation_id` is the
-- intervention's owner (the access policy's owner). Values are exact decimal text; periods
-- their text form (`2024-Q1`, `2024-03`). `form_token` is the one-time token of the web form
-- that wrote it last (a form posted twice writes once). `reporting_lock` holds the periods a
-- coordinator locked (no change until reopened). Instants are RFC 3339 text in UTC.
CREATE TABLE indicator_report (
    id              INTEGER PRIMARY KEY,
    intervention_id INTEGER NOT NULL REFERENCES intervention(id),
    organisation_id INTEGER NOT NULL REFERENCES organisation(id),
    strategy        TEXT NOT NULL,
    indicator       TEXT NOT NULL,
    period          TEXT NOT NULL,
    department      TEXT NOT NULL,
    country         TEXT NOT NULL,
    value           TEXT NOT NULL,
    denominator     TEXT,
    note            TEXT,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    comment         TEXT,
    version         INTEGER NOT NULL,       -- 1 at creation, +1 at every change
    form_token      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (intervention_id, indicator, period, department)
);
CREATE UNIQUE INDEX indicator_report_form_token ON indicator_report(form_token);
CREATE INDEX indicator_report_organisation ON indicator_report(organisation_id, period);
CREATE INDEX indicator_report_strategy ON indicator_report(strategy, state);
CREATE TABLE reporting_lock (
    id              INTEGER PRIMARY KEY,
    strategy        TEXT NOT NULL,
    period          TEXT NOT NULL,
    locked_at       TEXT NOT NULL,
    locked_by       TEXT NOT NULL,
    UNIQUE (strategy, period)
);

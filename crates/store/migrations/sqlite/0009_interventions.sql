-- Senda SQLite schema, version 9: interventions entered in Senda (issue 18, item 1), of every
-- instrument. `doc` is the whole checked record as JSON (`senda_core::intervention::Intervention`,
-- the input format itself); the other columns are what lists filter and sort on. A record is
-- public only when `workflow` is 'published'; `organisation_id` owns it (the access policy's
-- owner). Instants are RFC 3339 text in UTC.
CREATE TABLE intervention (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation(id),
    strategy        TEXT NOT NULL,
    instrument      TEXT NOT NULL CHECK (instrument IN ('diplomacy', 'foreign_assistance', 'public_messaging', 'immigration_initiatives')),
    workflow        TEXT NOT NULL CHECK (workflow IN ('draft', 'submitted', 'approved', 'published')),
    status          TEXT NOT NULL,
    title           TEXT NOT NULL,          -- English, else Spanish
    countries       TEXT NOT NULL,          -- JSON list of ISO 3166-1 alpha-2 codes
    lines           TEXT NOT NULL,          -- JSON list of line-of-effort ids
    start_date      TEXT NOT NULL,
    end_date        TEXT,
    iati_identifier TEXT,                   -- foreign assistance: the linked IATI activity
    version         INTEGER NOT NULL,       -- 1 at creation, +1 at every change
    doc             TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX intervention_organisation ON intervention(organisation_id, id);
CREATE INDEX intervention_workflow ON intervention(workflow, id);
CREATE INDEX intervention_iati ON intervention(iati_identifier);

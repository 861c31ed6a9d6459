-- Senda SQLite schema, version 12: partner contributions (issue 18, item 2). A partner
-- organisation's contribution to a line of effort or to an intervention: informing, political
-- will or resources mobilised. `doc` is the whole checked record as JSON
-- (`senda_core::contribution::Contribution`, the input format itself); the other columns are
-- what lists filter on. Public only when `published` is 1 (set by a coordinator);
-- `organisation_id` owns it (the access policy's owner). Instants are RFC 3339 text in UTC.
CREATE TABLE contribution (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation(id),
    strategy        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('informing', 'political_will', 'resources_mobilised')),
    line_of_effort  TEXT,                   -- the line of effort's id, when given
    intervention_id INTEGER REFERENCES intervention(id),
    countries       TEXT NOT NULL,          -- JSON list of ISO 3166-1 alpha-2 codes
    contribution_date TEXT NOT NULL,
    published       INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    version         INTEGER NOT NULL,       -- 1 at creation, +1 at every change
    doc             TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX contribution_organisation ON contribution(organisation_id, id);
CREATE INDEX contribution_line ON contribution(line_of_effort, id);
CREATE INDEX contribution_intervention ON contribution(intervention_id);

-- Senda SQLite schema, version 3: migration statistics, indicator definitions, indicator values.

-- stat_series: what a statistic series code means (senda_core::StatSeries).
CREATE TABLE stat_series (
    code    TEXT PRIMARY KEY,   -- e.g. cbp-swb-encounters
    name    TEXT NOT NULL,
    name_es TEXT NOT NULL,
    unit    TEXT NOT NULL,      -- encounters, people, visas...
    source  TEXT NOT NULL       -- publisher and dataset
);

-- value_file: one imported statistics or results file. Re-importing the same path replaces the
-- values of its previous import in one transaction (atomic per file).
CREATE TABLE value_file (
    id          INTEGER PRIMARY KEY,
    dataset     TEXT NOT NULL CHECK (dataset IN ('stats', 'results')),
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,  -- cbp-swb-csv, cbp-nationwide-csv, ohss-xlsx, hxl, results-csv, results-hxl
    content_hash TEXT NOT NULL, -- xxh3-128 of the bytes, hex
    imported_at TEXT NOT NULL,  -- RFC 3339
    report      TEXT NOT NULL,  -- JSON: rows read, stored, rejected, blank rows, diagnostics
    UNIQUE (dataset, path)
);

-- indicator_definition: every measurement-relevant version of an indicator definition
-- (senda_core::indicator::IndicatorDef::measurement_fingerprint). Values point at the version
-- they were reported under; a changed definition makes a new version, old values keep theirs.
CREATE TABLE indicator_definition (
    id          INTEGER PRIMARY KEY,
    strategy    TEXT NOT NULL,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    definition  TEXT NOT NULL,  -- JSON of the IndicatorDef when first used
    first_used  TEXT NOT NULL,  -- RFC 3339
    UNIQUE (strategy, code, version),
    UNIQUE (strategy, code, fingerprint)
);

-- observation: one value (senda_core::Observation). Key: series, place, period, disaggregation,
-- kind. A later import of the same key replaces the value (the import report says so).
CREATE TABLE observation (
    series         TEXT NOT NULL,   -- stat_series.code or indicator code
    place          TEXT NOT NULL,   -- GT, GT-GU, other:<label>, all
    country        TEXT NOT NULL,   -- ISO 3166-1 alpha-2, '' for other/all
    period         TEXT NOT NULL,   -- 2023-10, 2023-Q4, FY2024, 2023
    period_start   TEXT NOT NULL,   -- ISO date
    disaggregation TEXT NOT NULL,   -- canonical dim=value;dim=value, '' = total
    kind           TEXT NOT NULL CHECK (kind IN ('observed', 'baseline', 'target', 'actual')),
    value          TEXT NOT NULL,   -- exact decimal
    denominator    TEXT,            -- ratio indicators
    definition_id  INTEGER REFERENCES indicator_definition(id),
    file_id        INTEGER REFERENCES value_file(id) ON DELETE CASCADE,  -- NULL: API
    origin         TEXT NOT NULL,   -- file:row, api, ...
    PRIMARY KEY (series, place, period, disaggregation, kind)
) WITHOUT ROWID;
CREATE INDEX observation_country ON observation(country, series);
CREATE INDEX observation_file ON observation(file_id);

-- activity_result: activities whose IATI record has `result` elements (read from the stored
-- activity when shown). Filled at import; older databases are filled by the migration step.
CREATE TABLE activity_result (
    activity_id INTEGER PRIMARY KEY REFERENCES activity(id) ON DELETE CASCADE,
    indicators  INTEGER NOT NULL
);

-- Senda SQLite schema, version 13: the plan (issue 18, item 4): money needed per line of effort
-- × country × U.S. fiscal year (`senda_core::plan::Requirement`), one row per cell (setting it
-- again replaces it; the audit trail keeps the value before). Amounts are exact decimal text.
CREATE TABLE requirement (
    id             INTEGER PRIMARY KEY,
    strategy       TEXT NOT NULL,
    line_of_effort TEXT NOT NULL,
    country        TEXT NOT NULL,
    fiscal_year    INTEGER NOT NULL,
    amount         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    source         TEXT NOT NULL,
    note           TEXT,
    updated_at     TEXT NOT NULL,
    UNIQUE (strategy, line_of_effort, country, fiscal_year)
);

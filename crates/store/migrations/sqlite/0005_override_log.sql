-- Senda SQLite schema, version 5.
-- mapping_override_log: every analyst's decision on an activity's lines of effort, in order,
-- never deleted: `map set` (the lines decided and why) and `map unset` (the override removed,
-- the rules decide again). mapping_override holds only the decision in force; this is its
-- history, for review ("who decided this, when, why, and what was there before").
CREATE TABLE mapping_override_log (
    id              INTEGER PRIMARY KEY,
    iati_identifier TEXT NOT NULL,
    strategy        TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('set', 'unset')),
    lines           TEXT NOT NULL,   -- 'set': the lines decided ('' = not mapped); 'unset': the lines removed
    note            TEXT NOT NULL,   -- why ('' when `map unset` was given no --note)
    at              TEXT NOT NULL    -- RFC 3339, UTC
);
CREATE INDEX mapping_override_log_activity ON mapping_override_log(iati_identifier, strategy, id);
-- Overrides made before this version: their one known decision.
INSERT INTO mapping_override_log (iati_identifier, strategy, action, lines, note, at)
    SELECT iati_identifier, strategy, 'set', lines, note, created_at FROM mapping_override ORDER BY created_at;

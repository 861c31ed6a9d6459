-- Senda SQLite schema, version 2.
-- store_generation: bumped by every write transaction (import, override, remap), so that readers
-- (the web server's report cache) know when what they computed is stale.
CREATE TABLE store_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO store_generation (id, generation) VALUES (1, 1);

-- activity_location: admin-1 (department) codes of each activity's `location` elements, for the
-- country pages. Filled at import; rows of databases made before version 2 are filled by the
-- migration step in code (sqlite.rs, `backfill_locations`).
CREATE TABLE activity_location (
    activity_id INTEGER NOT NULL REFERENCES activity(id) ON DELETE CASCADE,
    country     TEXT NOT NULL,   -- location/administrative[@level=0][@vocabulary=A4]/@code, else the activity's only recipient country, else ''
    vocabulary  TEXT NOT NULL,   -- location/administrative[@level=1]/@vocabulary (G1 GeoNames, A1 GAUL, ...)
    code        TEXT NOT NULL,   -- location/administrative[@level=1]/@code
    name        TEXT NOT NULL    -- location/name/narrative (English, else default language)
);
CREATE INDEX activity_location_country ON activity_location(country, code);
CREATE INDEX activity_location_activity ON activity_location(activity_id);

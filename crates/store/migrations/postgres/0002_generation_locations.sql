-- Senda PostgreSQL schema, version 2 (mirrors migrations/sqlite/0002; rules in 0001_init.sql).
-- store_generation: bumped by every write transaction (import, override, remap), so that readers
-- (the web server's report cache) know when what they computed is stale.
-- Its one row has id 1 (given, never generated): a plain BIGINT key, not an identity.
CREATE TABLE store_generation (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO store_generation (id, generation) VALUES (1, 1);

-- activity_location: admin-1 (department) codes of each activity's `location` elements, for the
-- country pages. Filled at import; rows of databases made before version 2 are filled by the
-- migration step in code (on SQLite: sqlite.rs, `backfill_locations`; a PostgreSQL database is
-- always created at the current version by `senda migrate`, so it has no such rows).
CREATE TABLE activity_location (
    activity_id BIGINT NOT NULL,   -- activity(id); no FOREIGN KEY on PostgreSQL (see 0001)
    country     TEXT COLLATE "C" NOT NULL,   -- location/administrative[@level=0][@vocabulary=A4]/@code, else the activity's only recipient country, else ''
    vocabulary  TEXT COLLATE "C" NOT NULL,   -- location/administrative[@level=1]/@vocabulary (G1 GeoNames, A1 GAUL, ...)
    code        TEXT COLLATE "C" NOT NULL,   -- location/administrative[@level=1]/@code
    name        TEXT COLLATE "C" NOT NULL    -- location/name/narrative (English, else default language)
);
CREATE INDEX activity_location_country ON activity_location(country, code);
CREATE INDEX activity_location_activity ON activity_location(activity_id);

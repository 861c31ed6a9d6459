-- Schema 7: fact segments (see migrations/sqlite/0007_fact_segment.sql): the facts of each
-- range of 16,384 activity ids, encoded, kept up to date at write time; `stale` segments are
-- rebuilt by `Store::refresh_fact_segments` and, until then, by readers from `fact`.
CREATE TABLE fact_segment (
    segment  BIGINT PRIMARY KEY,
    version  BIGINT NOT NULL,
    stale    BIGINT NOT NULL,
    facts    BIGINT NOT NULL,
    data     BYTEA NOT NULL
);
INSERT INTO fact_segment (segment, version, stale, facts, data)
    SELECT DISTINCT activity_id / 16384, 1, 1, 0, ''::bytea FROM fact;

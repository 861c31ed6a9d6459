-- Schema 7: fact segments. The facts of each range of 16,384 activity ids
-- (`senda_core::facts::SEGMENT_SPAN`), encoded (`codec::encode_segment`), kept up to date at
-- write time so that a server starts by reading about a hundred values instead of every fact.
-- A write that changes facts marks their segments `stale` (and moves `version` on) in its own
-- transaction; `Store::refresh_fact_segments` (run by `senda import`, `remove`, `copy` and
-- `migrate`) rewrites them. Readers build a stale segment from `fact` themselves.
CREATE TABLE fact_segment (
    segment  INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL,
    stale    INTEGER NOT NULL,
    facts    INTEGER NOT NULL,
    data     BLOB NOT NULL
);
INSERT INTO fact_segment (segment, version, stale, facts, data)
    SELECT DISTINCT activity_id / 16384, 1, 1, 0, x'' FROM fact;

-- Senda PostgreSQL schema, version 10 (mirrors migrations/sqlite/0010): how sure the rules are
-- (issue 19, item 4). activity_mapping.confidence: the confidence of each line of effort,
-- aligned with `lines` ('strong;weak'). mapping_evidence.near_misses: rules that matched but did
-- not apply, JSON; a not-mapped activity with near misses has a mapping_evidence row (evidence
-- '[]') and no activity_mapping row.
ALTER TABLE activity_mapping ADD COLUMN confidence TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE mapping_evidence ADD COLUMN near_misses TEXT COLLATE "C" NOT NULL DEFAULT '[]';
-- Mappings stored before have neither: the next open re-maps every activity.
DELETE FROM strategy_state;

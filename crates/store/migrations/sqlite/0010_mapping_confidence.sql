-- Senda SQLite schema, version 10: how sure the rules are (issue 19, item 4).
-- activity_mapping.confidence: the confidence of each line of effort, aligned with `lines`
-- ('strong;weak'), derived from the strength of its evidence (senda_core::mapping::confidence_of).
-- mapping_evidence.near_misses: rules that matched but did not apply (a veto, a phrase in a
-- field the rule does not search), JSON; a not-mapped activity with near misses has a
-- mapping_evidence row (evidence '[]') and no activity_mapping row.
ALTER TABLE activity_mapping ADD COLUMN confidence TEXT NOT NULL DEFAULT '';
ALTER TABLE mapping_evidence ADD COLUMN near_misses TEXT NOT NULL DEFAULT '[]';
-- Mappings stored before have neither: forgetting the definitions they were made with makes
-- the next open re-map every activity (senda_cli::commands::ensure_mappings).
DELETE FROM strategy_state;

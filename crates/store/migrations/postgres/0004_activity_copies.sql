-- Senda PostgreSQL schema, version 4 (mirrors migrations/sqlite/0004; rules in 0001_init.sql).
-- activity_copy: the files that hold a copy of an identifier also found in another file (both
-- sides of every duplicate the import resolved). When the stored copy leaves its file, the
-- import reads these files again, so that another copy becomes the activity instead of the
-- identifier disappearing.
CREATE TABLE activity_copy (
    iati_identifier TEXT COLLATE "C" NOT NULL,
    source_path     TEXT COLLATE "C" NOT NULL,   -- canonical path of a file holding a copy
    PRIMARY KEY (iati_identifier, source_path)
);
CREATE INDEX activity_copy_path ON activity_copy(source_path);

-- Schema 6: the title sort key (`rules::sort_key::title_key`: accents dropped, Unicode lower
-- case), computed by Senda and compared as bytes, so that SQLite and PostgreSQL order titles,
-- and page through them, the same way. Filled for existing rows by the migration code.
ALTER TABLE activity ADD COLUMN title_key TEXT NOT NULL DEFAULT '';

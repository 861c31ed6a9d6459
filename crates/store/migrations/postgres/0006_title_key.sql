-- Schema 6: the title sort key (`rules::sort_key::title_key`), compared as bytes, so that
-- SQLite and PostgreSQL order titles, and page through them, the same way.
ALTER TABLE activity ADD COLUMN title_key TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Schema 14: each imported file's `iati-activities/@generated-datetime` (UTC RFC 3339, NULL
-- when the file gives none), shown by the coverage view. Files imported before are marked
-- unread (empty hash), so the next `senda import` reads them again and records it (their
-- unchanged activities are only touched).
ALTER TABLE source_file ADD COLUMN generated_datetime TEXT;
UPDATE source_file SET content_hash = '';

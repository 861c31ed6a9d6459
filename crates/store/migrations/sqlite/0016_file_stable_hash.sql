-- Schema 16: each imported file's stable hash: its bytes without the values of
-- `iati-activities/@generated-datetime` and `iati-activity/@last-updated-datetime`
-- (senda_iati::stamps). A file regenerated with nothing but new timestamps has the same stable
-- hash: its stored timestamps move and nothing else is read again. NULL: not known (files
-- imported before, or one the scan cannot follow): such a file is read in full when it changes.
ALTER TABLE source_file ADD COLUMN stable_hash TEXT;

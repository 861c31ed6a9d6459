-- Senda SQLite schema, version 11: the one-time token of the web form that created an
-- intervention (issue 18, item 3), so that a form posted twice creates one record. NULL for
-- records made otherwise (API, command line); unique where set.
ALTER TABLE intervention ADD COLUMN form_token TEXT;
CREATE UNIQUE INDEX intervention_form_token ON intervention(form_token);

-- PostgreSQL's form of ../0009_consultation_topics.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- What a consultation was about and where the resident lives, as the desk records them
-- after the call (issue 16): topic codes (comma-separated, sorted, from the protocol's
-- taxonomy; empty when none were given) and the municipality of residence (a tenant id;
-- NULL when not given: the desk's own). Categories only, never anything said.
ALTER TABLE call_records ADD COLUMN topics TEXT NOT NULL DEFAULT '';
ALTER TABLE call_records ADD COLUMN residence_id BIGINT;

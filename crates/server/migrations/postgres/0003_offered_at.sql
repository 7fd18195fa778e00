-- PostgreSQL's form of ../0003_offered_at.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- When the first offer for a request was made (ms); NULL when none was.
ALTER TABLE call_records ADD COLUMN offered_at BIGINT;

-- PostgreSQL's form of ../0004_interpreter_day.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- An interpreter's calls of the day, for their console.
CREATE INDEX call_records_by_interpreter_time ON call_records (interpreter_id, answered_at);

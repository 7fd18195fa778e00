-- PostgreSQL's form of ../0011_report_indexes.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Reports read a municipality's records by time: those at its desks (the tenant index)
-- and those of its residents at a shared centre's desk.
CREATE INDEX call_records_by_residence_time ON call_records (residence_id, requested_at);
CREATE INDEX call_records_by_time ON call_records (requested_at);

-- PostgreSQL's form of ../0007_remote_parties.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Who joined a call from elsewhere, counted (never who): residents by link, guests, and
-- phone legs (the phone bridge). A call whose phone legs are counted is a phone-bridge
-- session for the centre's statistics.
ALTER TABLE call_records ADD COLUMN remote_residents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_records ADD COLUMN guests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_records ADD COLUMN phones BIGINT NOT NULL DEFAULT 0;

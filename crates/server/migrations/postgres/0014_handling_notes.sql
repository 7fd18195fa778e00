-- PostgreSQL's form of ../0014_handling_notes.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Handling notes (issue 16, ADR 0017): off unless a municipality turns them on; each
-- note sealed by the server (never its text here), kept `retain_notes_days`, and gone with
-- its call record.
ALTER TABLE tenants ADD COLUMN handling_notes BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tenants ADD COLUMN retain_notes_days BIGINT NOT NULL DEFAULT 365
    CHECK (retain_notes_days BETWEEN 30 AND 7300);
CREATE TABLE handling_notes (
    record_id  BIGINT PRIMARY KEY REFERENCES call_records (id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id),
    written_at BIGINT NOT NULL,
    sealed     TEXT    NOT NULL
);
CREATE INDEX handling_notes_by_tenant_time ON handling_notes (tenant_id, written_at);

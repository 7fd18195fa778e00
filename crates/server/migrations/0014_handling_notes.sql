-- Handling notes (issue 16, ADR 0017): off unless a municipality turns them on; each
-- note sealed by the server (never its text here), kept `retain_notes_days`, and gone with
-- its call record.
ALTER TABLE tenants ADD COLUMN handling_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN retain_notes_days INTEGER NOT NULL DEFAULT 365
    CHECK (retain_notes_days BETWEEN 30 AND 7300);
CREATE TABLE handling_notes (
    record_id  INTEGER PRIMARY KEY REFERENCES call_records (id) ON DELETE CASCADE,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    written_at INTEGER NOT NULL,
    sealed     TEXT    NOT NULL
);
CREATE INDEX handling_notes_by_tenant_time ON handling_notes (tenant_id, written_at);

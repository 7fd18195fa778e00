-- Bookings (issue 17): a slot for a consultation with an interpreter held for it, and
-- often a specialist (a lawyer, a scrivener, an immigration officer...). Categories and
-- times only: no resident's name or number; an intake note is sealed like a handling
-- note (ADR 0017) and purged with the notes. A cancelled booking stays, marked.
CREATE TABLE bookings (
    id                    INTEGER PRIMARY KEY,
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
    desk_id               INTEGER NOT NULL REFERENCES desks (id),
    language              TEXT    NOT NULL,
    modality              TEXT    NOT NULL,
    specialist            TEXT    NOT NULL,
    require_speciality    INTEGER NOT NULL DEFAULT 0,
    topic                 TEXT,
    requested_interpreter INTEGER REFERENCES interpreters (id),
    interpreter_id        INTEGER REFERENCES interpreters (id), -- NULL only while being booked
    start_ms              INTEGER NOT NULL,
    end_ms                INTEGER NOT NULL CHECK (end_ms > start_ms),
    resident_joins        TEXT    NOT NULL,
    specialist_joins      TEXT    NOT NULL,
    intake_sealed         TEXT,
    resident_link_hash    TEXT,   -- hashes only: the links are given once
    specialist_link_hash  TEXT,
    status                TEXT    NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
    created_ms            INTEGER NOT NULL,
    created_by            TEXT    NOT NULL,
    cancelled_ms          INTEGER
);
CREATE INDEX bookings_by_tenant_time ON bookings (tenant_id, start_ms);
CREATE INDEX bookings_by_interpreter_time ON bookings (interpreter_id, start_ms);
CREATE INDEX bookings_live ON bookings (status, end_ms);

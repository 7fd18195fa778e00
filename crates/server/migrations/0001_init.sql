-- Directory, credentials, call records and audit log.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE tenants (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    foreign_residents INTEGER NOT NULL CHECK (foreign_residents >= 0),
    time_zone         TEXT    NOT NULL
);

CREATE TABLE desks (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id),
    name                TEXT    NOT NULL,
    -- BLAKE2b-256 of the device token issued at enrolment; NULL until enrolled.
    token_hash          TEXT    UNIQUE,
    -- BLAKE2b-256 of the one-time enrolment code an admin hands out; NULL once used.
    enrolment_code_hash TEXT    UNIQUE,
    revoked             INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE interpreters (
    id            INTEGER PRIMARY KEY,
    login         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    tier          TEXT    NOT NULL CHECK (tier IN ('staff', 'contractor', 'volunteer')),
    -- JSON: ["vi", "en"] (paired with Japanese), ["video","audio"], ["medical"], [1, 2]
    languages     TEXT    NOT NULL,
    modalities    TEXT    NOT NULL,
    specialities  TEXT    NOT NULL,
    tenants       TEXT    NOT NULL,
    shared_pool   INTEGER NOT NULL,
    -- JSON roster (see crates/server/src/directory.rs)
    roster        TEXT    NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    login         TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('supervisor', 'admin')),
    -- NULL for an admin of the whole centre.
    tenant_id     INTEGER REFERENCES tenants (id),
    password_hash TEXT    NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    -- 'interpreter' or 'staff'
    kind       TEXT    NOT NULL,
    subject    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- One row per request that ended, answered or not. Never names, phone numbers or
-- anything said in the consultation.
CREATE TABLE call_records (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL,
    desk_id        INTEGER NOT NULL,
    language       TEXT    NOT NULL,
    speciality     TEXT,
    modality       TEXT    NOT NULL,
    tier           TEXT,
    interpreter_id INTEGER,
    requested_at   INTEGER NOT NULL,
    answered_at    INTEGER,
    ended_at       INTEGER NOT NULL,
    offers         INTEGER NOT NULL,
    -- answered, abandoned, expired, unserved
    outcome        TEXT    NOT NULL,
    -- the desk's category after the call: resolved, referred, follow_up, interrupted
    desk_outcome   TEXT,
    loss           REAL,
    rtt_ms         REAL,
    reconnects     INTEGER
);
CREATE INDEX call_records_by_tenant_time ON call_records (tenant_id, requested_at);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT,
    ok     INTEGER NOT NULL
);

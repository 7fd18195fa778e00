-- PostgreSQL's form of ../0005_second_factor.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Two-factor sign-in (TOTP, RFC 6238) and its recovery codes, per account.

CREATE TABLE second_factors (
    -- 'interpreters' or 'staff', as sessions.kind
    kind      TEXT    NOT NULL,
    account   BIGINT NOT NULL,
    -- The shared secret, base32. It cannot be hashed: the server computes codes from it.
    secret    TEXT    NOT NULL,
    -- 0 until the owner proves their app has it with a first code.
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last time step accepted: a code is never accepted twice.
    last_step BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, account)
);

-- One-time recovery codes, stored as BLAKE2b-256 hashes.
CREATE TABLE recovery_codes (
    code_hash TEXT    PRIMARY KEY,
    kind      TEXT    NOT NULL,
    account   BIGINT NOT NULL,
    used_at   BIGINT
);

-- Who must sign in with a second factor in this tenant: 'optional' (nobody, anyone may
-- opt in), 'staff' (its supervisors), 'everyone' (its supervisors and interpreters).
ALTER TABLE tenants ADD COLUMN two_factor TEXT NOT NULL DEFAULT 'staff'
    CHECK (two_factor IN ('optional', 'staff', 'everyone'));

-- A session of an account that must have a second factor and has none yet: it may only
-- set one up.
ALTER TABLE sessions ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;

-- Coordinators' notices to interpreters (issue 17): short texts a municipality's
-- supervisor (or an admin, for the whole centre) sends; consoles show the recent ones.
-- Kept 90 days.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER REFERENCES tenants (id), -- NULL: the whole centre
    text       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT    NOT NULL
);
CREATE INDEX notices_by_time ON notices (created_ms);

-- Each municipality's partner directory: where its desks refer residents (the immigration
-- bureau, 法テラス, Hello Work, NPOs, its own departments…), and the referral a desk records
-- with a consultation's outcome. Organisations only, never a person. A partner is retired,
-- never deleted: records keep pointing at it.
CREATE TABLE partners (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    retired   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, name)
);
ALTER TABLE call_records ADD COLUMN referral_id INTEGER REFERENCES partners (id);

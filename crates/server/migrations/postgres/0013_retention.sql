-- PostgreSQL's form of ../0013_retention.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- How long each municipality keeps its call records and its audit entries (issue 16),
-- in days, and which municipality an audit entry concerns (NULL: the centre's own).
-- A purge that runs by itself deletes what is older (crate::retention).
ALTER TABLE tenants ADD COLUMN retain_records_days BIGINT NOT NULL DEFAULT 1825
    CHECK (retain_records_days BETWEEN 30 AND 7300);
ALTER TABLE tenants ADD COLUMN retain_audit_days BIGINT NOT NULL DEFAULT 1825
    CHECK (retain_audit_days BETWEEN 30 AND 7300);
ALTER TABLE audit_log ADD COLUMN tenant_id BIGINT;
CREATE INDEX audit_log_by_time ON audit_log (at);

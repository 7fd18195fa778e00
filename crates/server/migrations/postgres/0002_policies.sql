-- PostgreSQL's form of ../0002_policies.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- A tenant's routing policy as JSON (see crates/server/src/policy.rs); NULL: the defaults.
ALTER TABLE tenants ADD COLUMN policy TEXT;

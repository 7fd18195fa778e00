-- A tenant's routing policy as JSON (see crates/server/src/policy.rs); NULL: the defaults.
ALTER TABLE tenants ADD COLUMN policy TEXT;

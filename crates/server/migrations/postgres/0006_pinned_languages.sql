-- PostgreSQL's form of ../0006_pinned_languages.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Languages a tenant's coordinator pins to the front of its desks' grid, in order (JSON
-- array of BCP 47 tags). The rest follow by answered consultations, then the catalogue.
ALTER TABLE tenants ADD COLUMN pinned_languages TEXT NOT NULL DEFAULT '[]';

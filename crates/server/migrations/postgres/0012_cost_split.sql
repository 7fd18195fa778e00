-- PostgreSQL's form of ../0012_cost_split.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- How a shared centre splits its joint cost among its members each month (issue 16): a
-- monthly cost in yen and three weighted parts that add up to 100: an equal part, a
-- part by each member's share of foreign residents (tenants.foreign_residents, Hiroshima's
-- formula) and a part by use (minutes interpreted, or consultations, of its residents).
-- One row: the centre's rule.
CREATE TABLE cost_split (
    id                BIGINT PRIMARY KEY CHECK (id = 1),
    monthly_cost      BIGINT NOT NULL CHECK (monthly_cost >= 0),
    equal_percent     BIGINT NOT NULL CHECK (equal_percent BETWEEN 0 AND 100),
    residents_percent BIGINT NOT NULL CHECK (residents_percent BETWEEN 0 AND 100),
    usage_percent     BIGINT NOT NULL CHECK (usage_percent BETWEEN 0 AND 100),
    usage_basis       TEXT    NOT NULL CHECK (usage_basis IN ('minutes', 'consultations')),
    CHECK (equal_percent + residents_percent + usage_percent = 100)
);

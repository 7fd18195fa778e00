-- PostgreSQL's form of ../0015_calendar.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- Each municipality's centre calendar (issue 17): opening hours, holidays, closures and
-- extra openings, as a JSON document (crate::calendar::CalendarDoc); NULL until set (a
-- municipal office's default applies).
ALTER TABLE tenants ADD COLUMN calendar TEXT;

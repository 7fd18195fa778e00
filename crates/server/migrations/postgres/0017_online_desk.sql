-- PostgreSQL's form of ../0017_online_desk.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- A municipality's online desk (issue 17): the desk that takes the consultations residents
-- book from the centre's standing link (poster, web page, Messenger). None: the standing
-- link shows the centre's hours and says it takes no online bookings.
ALTER TABLE tenants ADD COLUMN online_desk BIGINT REFERENCES desks (id);

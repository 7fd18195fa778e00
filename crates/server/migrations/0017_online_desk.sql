-- A municipality's online desk (issue 17): the desk that takes the consultations residents
-- book from the centre's standing link (poster, web page, Messenger). None: the standing
-- link shows the centre's hours and says it takes no online bookings.
ALTER TABLE tenants ADD COLUMN online_desk INTEGER REFERENCES desks (id);

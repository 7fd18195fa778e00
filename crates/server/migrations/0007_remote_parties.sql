-- Who joined a call from elsewhere, counted (never who): residents by link, guests, and
-- phone legs (the phone bridge). A call whose phone legs are counted is a phone-bridge
-- session for the centre's statistics.
ALTER TABLE call_records ADD COLUMN remote_residents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_records ADD COLUMN guests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_records ADD COLUMN phones INTEGER NOT NULL DEFAULT 0;

-- When the first offer for a request was made (ms); NULL when none was.
ALTER TABLE call_records ADD COLUMN offered_at INTEGER;

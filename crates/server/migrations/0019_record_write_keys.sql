-- Each call record's write carries a key of its own (random, made once per record), so a
-- write retried after a lost answer (the database restarted between its commit and its
-- reply) finds the row it already wrote instead of writing a second one (issue 15).
-- Rows written before this have none.
ALTER TABLE call_records ADD COLUMN write_key TEXT;
CREATE UNIQUE INDEX call_records_write_key ON call_records (write_key);

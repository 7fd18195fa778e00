-- Reports read a municipality's records by time: those at its desks (the tenant index)
-- and those of its residents at a shared centre's desk.
CREATE INDEX call_records_by_residence_time ON call_records (residence_id, requested_at);
CREATE INDEX call_records_by_time ON call_records (requested_at);

-- An interpreter's calls of the day, for their console.
CREATE INDEX call_records_by_interpreter_time ON call_records (interpreter_id, answered_at);

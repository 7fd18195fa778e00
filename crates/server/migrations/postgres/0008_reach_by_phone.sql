-- PostgreSQL's form of ../0008_reach_by_phone.sql (cluster mode, ADR 0020): the same tables, columns and
-- rules; ids by identity, flags as BOOLEAN, integers as BIGINT.
-- An interpreter reached by phone (issue 14, ADR 0016): offers ring this number through
-- the phone gateway instead of a console. Staff data in the directory; never copied into
-- call records or logs. NULL: the interpreter uses the console.
ALTER TABLE interpreters ADD COLUMN reach_by_phone TEXT;

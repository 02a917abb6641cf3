-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- Attaching the finished index is a catalogue change: brief ACCESS EXCLUSIVE, no build.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;

-- corpus: verdict=dangerous
-- context: none
-- hazards: unique-constraint-blocking-build
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
SET lock_timeout = '2s';
-- The unique index is built while ACCESS EXCLUSIVE is held: reads and writes wait for the whole build.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- corpus: verdict=dangerous
-- context: none
-- hazards: set-not-null-scan
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
SET lock_timeout = '2s';
-- No valid CHECK (name IS NOT NULL) exists: the whole table is scanned under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN name SET NOT NULL;

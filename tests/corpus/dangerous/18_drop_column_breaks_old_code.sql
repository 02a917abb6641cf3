-- corpus: verdict=dangerous
-- context: none
-- hazards: breaking-drop-column
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-COLUMN
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN status;

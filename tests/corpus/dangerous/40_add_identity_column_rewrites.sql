-- corpus: verdict=dangerous
-- context: none
-- hazards: identity-or-generated-column-rewrite
-- runner: psql
-- pg: 16
-- size: public.events=200000
-- setup: CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
SET lock_timeout = '2s';
-- Every existing row needs its own identity value: the table is rewritten under ACCESS EXCLUSIVE.
ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;

-- corpus: verdict=dangerous
-- context: size : 250,000 rows rewritten under ACCESS EXCLUSIVE
-- hazards: column-type-rewrite
-- runner: psql
-- pg: 16
-- size: public.counters=250000
-- setup: CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
SET lock_timeout = '2s';
ALTER TABLE counters ALTER COLUMN hits TYPE bigint;

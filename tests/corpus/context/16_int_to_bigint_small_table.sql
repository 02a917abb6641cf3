-- corpus: verdict=safe
-- context: size : 500 rows rewritten in milliseconds
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.counters=500
-- setup: CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
SET lock_timeout = '2s';
ALTER TABLE counters ALTER COLUMN hits TYPE bigint;

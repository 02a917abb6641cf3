-- corpus: verdict=safe
-- context: size : 500 rows: the scan under ACCESS EXCLUSIVE takes milliseconds
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.lookup_values=500
-- setup: CREATE TABLE lookup_values (id bigint PRIMARY KEY, code text NOT NULL, name text NOT NULL, region text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
SET lock_timeout = '2s';
ALTER TABLE lookup_values ALTER COLUMN region SET NOT NULL;

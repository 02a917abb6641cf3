-- corpus: verdict=dangerous
-- context: size : 250,000 rows indexed while reads and writes wait
-- hazards: unique-constraint-blocking-build
-- runner: psql
-- pg: 16
-- size: public.lookup_values=250000
-- setup: CREATE TABLE lookup_values (id bigint PRIMARY KEY, code text NOT NULL, name text NOT NULL, region text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
SET lock_timeout = '2s';
ALTER TABLE lookup_values ADD CONSTRAINT lookup_values_code_key UNIQUE (code);

-- corpus: verdict=safe
-- context: size : 300 rows: the index build under ACCESS EXCLUSIVE takes milliseconds
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.lookup_values=300
-- setup: CREATE TABLE lookup_values (id bigint PRIMARY KEY, code text NOT NULL, name text NOT NULL, region text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
SET lock_timeout = '2s';
ALTER TABLE lookup_values ADD CONSTRAINT lookup_values_code_key UNIQUE (code);

-- corpus: verdict=dangerous
-- context: size : 250,000 rows: writes wait for the whole build
-- hazards: create-index-blocking-writes
-- runner: psql
-- pg: 16
-- size: public.lookup_values=250000
-- setup: CREATE TABLE lookup_values (id bigint PRIMARY KEY, code text NOT NULL, name text NOT NULL, region text);
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
SET lock_timeout = '2s';
CREATE INDEX lookup_values_name_idx ON lookup_values (name);

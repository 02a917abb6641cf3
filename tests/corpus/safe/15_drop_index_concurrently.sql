-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.versions=200000
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: CREATE INDEX versions_num_idx ON versions (num);
-- source: https://www.postgresql.org/docs/current/sql-dropindex.html
DROP INDEX CONCURRENTLY IF EXISTS versions_num_idx;

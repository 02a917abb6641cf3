-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: dbmate
-- pg: 16
-- size: public.versions=200000
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- source: https://github.com/amacneil/dbmate#options
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY versions_num_idx ON versions (num);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS versions_num_idx;

-- corpus: verdict=dangerous
-- context: none
-- hazards: concurrently-in-transaction
-- runner: dbmate
-- pg: 16
-- size: public.versions=200000
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://github.com/amacneil/dbmate#options
-- source: https://github.com/amacneil/dbmate/issues/285
-- migrate:up
CREATE INDEX CONCURRENTLY versions_num_idx ON versions (num);

-- migrate:down
DROP INDEX CONCURRENTLY versions_num_idx;

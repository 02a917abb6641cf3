-- corpus: verdict=dangerous
-- context: none
-- hazards: breaking-rename
-- runner: psql
-- pg: 16
-- size: public.versions=200000
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
SET lock_timeout = '2s';
ALTER TABLE versions RENAME TO crate_versions;

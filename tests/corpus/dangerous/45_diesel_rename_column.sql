-- corpus: verdict=dangerous
-- context: none
-- hazards: breaking-rename
-- runner: diesel
-- pg: 16
-- size: public.versions=200000
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
-- source: https://diesel.rs/guides/getting-started
SET LOCAL lock_timeout = '2s';
ALTER TABLE versions RENAME COLUMN num TO version_num;

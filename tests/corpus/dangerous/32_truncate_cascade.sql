-- corpus: verdict=dangerous
-- context: none
-- hazards: truncate-cascade
-- runner: psql
-- pg: 16
-- size: public.crates=200000, public.versions=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: ALTER TABLE versions ADD CONSTRAINT versions_crate_id_fkey FOREIGN KEY (crate_id) REFERENCES crates (id);
-- source: https://www.postgresql.org/docs/current/sql-truncate.html
SET lock_timeout = '2s';
-- CASCADE also empties versions (and anything referencing it) under ACCESS EXCLUSIVE.
TRUNCATE crates CASCADE;

-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: dbmate
-- pg: 16
-- size: public.crates=200000, public.versions=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: CREATE INDEX versions_crate_id_idx ON versions (crate_id);
-- source: https://github.com/amacneil/dbmate#options
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
-- migrate:up
SET LOCAL lock_timeout = '2s';
-- Validated by a later migration of its own.
ALTER TABLE versions ADD CONSTRAINT versions_crate_id_fkey FOREIGN KEY (crate_id) REFERENCES crates (id) NOT VALID;

-- migrate:down
SET LOCAL lock_timeout = '2s';
ALTER TABLE versions DROP CONSTRAINT versions_crate_id_fkey;

-- corpus: verdict=dangerous
-- context: none
-- hazards: disable-trigger-all
-- runner: psql
-- pg: 16
-- size: public.crates=200000, public.versions=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: ALTER TABLE versions ADD CONSTRAINT versions_crate_id_fkey FOREIGN KEY (crate_id) REFERENCES crates (id);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DISABLE-ENABLE-TRIGGER
SET lock_timeout = '2s';
-- ALL includes the internal triggers that enforce versions_crate_id_fkey: while disabled, rows written by
-- the application are not checked either, and nothing re-checks them when the triggers come back.
ALTER TABLE versions DISABLE TRIGGER ALL;
UPDATE versions SET crate_id = crate_id + 1 WHERE id BETWEEN 1 AND 1000;
ALTER TABLE versions ENABLE TRIGGER ALL;

-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000, public.versions=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: CREATE INDEX versions_crate_id_idx ON versions (crate_id);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
-- Brief SHARE ROW EXCLUSIVE on both tables, no scan; committed at once (psql autocommit).
ALTER TABLE versions ADD CONSTRAINT versions_crate_id_fkey FOREIGN KEY (crate_id) REFERENCES crates (id) NOT VALID;
-- Separate transaction: the scan runs under SHARE UPDATE EXCLUSIVE on versions (ROW SHARE on crates), writes go on.
ALTER TABLE versions VALIDATE CONSTRAINT versions_crate_id_fkey;

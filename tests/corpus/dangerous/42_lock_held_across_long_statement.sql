-- corpus: verdict=dangerous
-- context: none
-- hazards: lock-held-across-statements
-- runner: psql-single-transaction
-- pg: 16
-- size: public.crates=200000, public.versions=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- source: https://www.postgresql.org/docs/current/app-psql.html
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
ALTER TABLE crates ADD COLUMN version_count bigint;
-- psql -1: one transaction, so ACCESS EXCLUSIVE on crates from the ALTER is held while this aggregates all of versions.
CREATE TABLE crate_version_counts AS SELECT crate_id, count(*) AS n FROM versions GROUP BY crate_id;

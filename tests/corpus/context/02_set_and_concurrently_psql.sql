-- corpus: verdict=safe
-- context: runner : psql commits each statement, so the build runs outside a transaction block
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/app-psql.html
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY crates_name_idx ON crates (name);

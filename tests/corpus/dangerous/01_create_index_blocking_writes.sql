-- corpus: verdict=dangerous
-- context: none
-- hazards: create-index-blocking-writes
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
CREATE INDEX crates_name_idx ON crates (name);

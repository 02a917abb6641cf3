-- corpus: verdict=dangerous
-- context: none
-- hazards: needs-newer-postgres
-- runner: psql
-- pg: 11
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE INDEX crates_name_idx ON crates (name);
-- source: https://www.postgresql.org/docs/current/sql-reindex.html
-- source: https://www.postgresql.org/docs/release/12.0/
SET lock_timeout = '2s';
-- REINDEX CONCURRENTLY exists from PostgreSQL 12: a syntax error on 11.
REINDEX INDEX CONCURRENTLY crates_name_idx;

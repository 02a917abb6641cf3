-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.postgresql.org/docs/release/11.0/
SET lock_timeout = '2s';
-- A non-volatile default is stored in the catalogue (PostgreSQL 11+): no rewrite.
ALTER TABLE crates ADD COLUMN is_featured boolean NOT NULL DEFAULT false;

-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-comment.html
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-STATISTICS
SET lock_timeout = '2s';
COMMENT ON COLUMN crates.name IS 'Unique crate name as published';
-- SET STATISTICS takes SHARE UPDATE EXCLUSIVE: no conflict with reads or writes.
ALTER TABLE crates ALTER COLUMN name SET STATISTICS 500;
ANALYZE crates;

-- corpus: verdict=dangerous
-- context: none
-- hazards: volatile-default-rewrite
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.postgresql.org/docs/release/11.0/
SET lock_timeout = '2s';
-- gen_random_uuid() is volatile: every existing row gets its own value, so the table is rewritten
-- under ACCESS EXCLUSIVE (only non-volatile defaults are stored in the catalogue since PG 11).
ALTER TABLE crates ADD COLUMN public_id uuid DEFAULT gen_random_uuid();

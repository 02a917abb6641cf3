-- corpus: verdict=dangerous
-- context: none
-- hazards: not-null-column-without-default
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-COLUMN
SET lock_timeout = '2s';
-- ERROR on any populated table: column "tenant_id" of relation "users" contains null values.
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;

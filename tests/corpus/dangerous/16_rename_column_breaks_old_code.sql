-- corpus: verdict=dangerous
-- context: none
-- hazards: breaking-rename
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
-- source: https://gocardless.com/blog/zero-downtime-postgres-migrations-the-hard-parts/
SET lock_timeout = '2s';
-- Application instances still running the previous release query users.name and fail until they are replaced.
ALTER TABLE users RENAME COLUMN name TO full_name;

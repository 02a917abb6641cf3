-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-createtable.html
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
-- A new table whose key references users: SHARE ROW EXCLUSIVE on users only briefly, nothing to validate.
CREATE TABLE user_settings (user_id bigint PRIMARY KEY REFERENCES users (id), theme text);

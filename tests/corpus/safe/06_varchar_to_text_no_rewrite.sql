-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.orders=200000
-- setup: CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, quantity integer NOT NULL, amount integer NOT NULL, note varchar(50), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN note TYPE text;

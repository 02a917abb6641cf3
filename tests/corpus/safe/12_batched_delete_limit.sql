-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.orders=200000
-- setup: CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, quantity integer NOT NULL, amount integer NOT NULL, note varchar(50), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-delete.html
-- One bounded batch; the job repeats it until it deletes nothing.
DELETE FROM orders WHERE id IN (
    SELECT id FROM orders WHERE created_at < '2024-02-01' ORDER BY id LIMIT 5000
);

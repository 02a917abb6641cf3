-- corpus: verdict=dangerous
-- context: none
-- hazards: vacuum-full-or-cluster
-- runner: psql
-- pg: 16
-- size: public.orders=200000
-- setup: CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, quantity integer NOT NULL, amount integer NOT NULL, note varchar(50), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-cluster.html
SET lock_timeout = '2s';
CLUSTER orders USING orders_pkey;

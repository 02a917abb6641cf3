-- corpus: verdict=dangerous
-- context: none
-- hazards: replica-identity-loss
-- runner: psql
-- pg: 16
-- size: public.orders=200000
-- setup: CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, quantity integer NOT NULL, amount integer NOT NULL, note varchar(50), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE PUBLICATION orders_pub FOR TABLE orders;
-- source: https://www.postgresql.org/docs/current/logical-replication-publication.html
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-REPLICA-IDENTITY
SET lock_timeout = '2s';
ALTER TABLE orders REPLICA IDENTITY NOTHING;

-- file: 001_drop_leftover.up.sql
-- Alone in its migration: removes what a failed earlier attempt may have left (LS135).
DROP INDEX CONCURRENTLY IF EXISTS orders_user_id_created_at_idx;
-- file: 002_orders_user_id_created_at_idx.up.sql
-- A new shape: (user_id, created_at) serves "a user's recent orders".
CREATE INDEX CONCURRENTLY orders_user_id_created_at_idx ON orders (user_id, created_at);

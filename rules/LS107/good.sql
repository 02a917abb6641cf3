-- Alone in its migration: CONCURRENTLY cannot run inside a transaction.
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);

-- file: 001_drop_leftover.up.sql
-- Alone in its migration: removes what a failed earlier attempt may have left (LS135).
DROP INDEX CONCURRENTLY IF EXISTS orders_user_id_idx;
-- file: 002_orders_user_id_idx.up.sql
-- Alone in its migration: the index first, concurrently.
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);
-- file: 003_orders_user_id_fkey.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

-- Rebuilds every index of orders, orders_created_at_idx too, which no query uses.
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;

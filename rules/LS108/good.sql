-- Alone in its migration: CONCURRENTLY cannot run inside a transaction.
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;

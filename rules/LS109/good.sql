-- Alone in its migration: CONCURRENTLY cannot run inside a transaction.
REINDEX INDEX CONCURRENTLY orders_created_at_idx;

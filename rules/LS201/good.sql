-- The queries moved to another index first (pg_stat_statements); since then idx_scan of
-- orders_created_at_idx has stayed at 0, for weeks. Alone in its migration.
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;

SET lock_timeout = '2s';
REINDEX INDEX orders_created_at_idx;

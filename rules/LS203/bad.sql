-- orders_created_at_idx already indexes (created_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_idx ON orders (created_at);

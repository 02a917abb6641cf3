SET lock_timeout = '2s';
CREATE INDEX IF NOT EXISTS orders_user_id_idx ON orders (user_id);

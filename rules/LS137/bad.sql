-- file: 001_order_totals.up.sql
CREATE TABLE IF NOT EXISTS order_totals (user_id bigint NOT NULL, total bigint NOT NULL);
INSERT INTO order_totals SELECT user_id, count(*) FROM orders GROUP BY user_id;
-- file: 002_order_totals_user_idx.up.sql
-- A release later: order_totals is committed, full, and the application writes to it.
SET lock_timeout = '2s';
CREATE INDEX IF NOT EXISTS order_totals_user_idx ON order_totals (user_id);

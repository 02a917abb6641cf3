-- file: 001_order_totals.up.sql
-- The index in the same transaction as the table: no one else can see either yet.
CREATE TABLE IF NOT EXISTS order_totals (user_id bigint NOT NULL, total bigint NOT NULL);
CREATE INDEX IF NOT EXISTS order_totals_user_idx ON order_totals (user_id);
INSERT INTO order_totals SELECT user_id, count(*) FROM orders GROUP BY user_id;

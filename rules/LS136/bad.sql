-- file: 001_publish_orders.up.sql
-- Change data capture reads orders (CREATE PUBLICATION works at any wal_level).
CREATE PUBLICATION orders_cdc FOR TABLE orders;
-- file: 002_orders_composite_key.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
-- file: 003_orders_new_key.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD PRIMARY KEY (id, user_id);

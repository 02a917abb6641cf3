-- file: 001_publish_orders.up.sql
-- Change data capture reads orders (CREATE PUBLICATION works at any wal_level).
CREATE PUBLICATION orders_cdc FOR TABLE orders;
-- file: 002_orders_composite_key.up.sql
-- One transaction: the table is never without a primary key, so never without a replica identity.
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, user_id);

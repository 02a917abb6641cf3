-- file: 001_users_nickname.up.sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;
-- file: 001_users_nickname.down.sql
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN IF EXISTS nickname;
-- file: 002_orders_discount.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS discount integer;
-- file: 002_orders_discount.down.sql
SET lock_timeout = '2s';
ALTER TABLE orders DROP COLUMN IF EXISTS discount;

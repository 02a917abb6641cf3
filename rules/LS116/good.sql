-- file: 001_orders_quantity_check.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
-- file: 001_orders_quantity_check.down.sql
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_quantity_positive;
-- file: 002_orders_quantity_validate.up.sql
SET lock_timeout = '2s';
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;
-- file: 002_orders_quantity_validate.down.sql
SELECT 1;

-- file: 001_orders_user_fk.up.sql
SET lock_timeout = '2s';
-- NOT VALID: new rows are checked from now on; existing rows are not read.
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
-- file: 001_orders_user_fk.down.sql
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_id_fkey;
-- file: 002_orders_user_fk_validate.up.sql
SET lock_timeout = '2s';
-- Reads every row under SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;
-- file: 002_orders_user_fk_validate.down.sql
SELECT 1;

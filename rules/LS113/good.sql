-- file: 001_add_quantity_big.up.sql
SET lock_timeout = '2s';
-- Expand: a new column of the new type (catalog only)…
ALTER TABLE orders ADD COLUMN IF NOT EXISTS quantity_big bigint;
-- file: 001_add_quantity_big.down.sql
SET lock_timeout = '2s';
ALTER TABLE orders DROP COLUMN IF EXISTS quantity_big;
-- file: 002_backfill_quantity_big.up.sql
-- …filled in batches (one batch shown; repeat until no row is left)…
UPDATE orders SET quantity_big = quantity
WHERE id IN (SELECT id FROM orders WHERE quantity_big IS NULL ORDER BY id LIMIT 5000);
-- file: 002_backfill_quantity_big.down.sql
SELECT 1;

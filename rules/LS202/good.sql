-- The rewrite takes ACCESS EXCLUSIVE on orders anyway: dropping the unused index first, in the
-- same transaction, adds no lock and spares rebuilding it.
SET lock_timeout = '2s';
DROP INDEX IF EXISTS orders_created_at_idx;
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;

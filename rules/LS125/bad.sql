BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS discount integer;
COMMIT;

BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS tier text;
UPDATE users SET tier = 'basic' WHERE id BETWEEN 1 AND 5000;
COMMIT;

-- file: 001_users_tier.up.sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS tier text;
-- file: 001_users_tier.down.sql
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN IF EXISTS tier;
-- file: 002_users_tier_backfill.up.sql
-- Its own migration, its own transaction: only row locks, one batch at a time.
UPDATE users SET tier = 'basic' WHERE id BETWEEN 1 AND 5000;
-- file: 002_users_tier_backfill.down.sql
SELECT 1;

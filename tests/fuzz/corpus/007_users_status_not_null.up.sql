SET lock_timeout = '2s';

-- One unbatched backfill: every row updated in one transaction.
UPDATE users SET status = 'active' WHERE status IS NULL;

-- SET NOT NULL scans the whole table under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN status SET NOT NULL;

SET lock_timeout = '2s';
-- One batch of a backfill; the deploy script repeats it until it updates no row.
UPDATE users SET status = 'active'
WHERE id IN (SELECT id FROM users WHERE status IS NULL ORDER BY id LIMIT 1000);

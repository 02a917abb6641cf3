SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS preferences jsonb;

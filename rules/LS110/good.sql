SET lock_timeout = '2s';
-- A constant default fills existing rows without a rewrite (PostgreSQL 11+).
ALTER TABLE users ADD COLUMN IF NOT EXISTS country text NOT NULL DEFAULT 'unknown';

SET lock_timeout = '2s';

-- Nullable, no default: a catalog-only change (brief ACCESS EXCLUSIVE, no rewrite).
ALTER TABLE users ADD COLUMN IF NOT EXISTS status text;

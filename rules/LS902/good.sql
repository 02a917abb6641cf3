SET lock_timeout = '2s';
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS source text;

SET lock_timeout = '2s';
-- lockscope:ignore LS107 small table
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS source text;

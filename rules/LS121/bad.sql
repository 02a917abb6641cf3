SET lock_timeout = '2s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_pkey;

-- file: 001_users_email_index.up.sql
-- Alone in its migration: CONCURRENTLY cannot run inside a transaction.
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- file: 001_users_email_index.down.sql
DROP INDEX CONCURRENTLY IF EXISTS users_email_key;
-- file: 002_users_email_unique.up.sql
SET lock_timeout = '2s';
-- Adopts the finished index: a catalog change under a brief lock.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
-- file: 002_users_email_unique.down.sql
SET lock_timeout = '2s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;

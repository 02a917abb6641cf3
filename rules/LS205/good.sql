-- file: 001_drop_invalid_users_email_key.up.sql
DROP INDEX CONCURRENTLY IF EXISTS users_email_key;
-- file: 002_users_email_key.up.sql
-- After the duplicates were fixed; check pg_index.indisvalid before the next step.
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- file: 003_users_email_unique.up.sql
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;

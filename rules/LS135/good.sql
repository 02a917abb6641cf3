-- file: 001_drop_leftover_users_email_idx.up.sql
-- Alone in its migration: removes what a failed earlier attempt may have left.
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
-- file: 002_users_email_idx.up.sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);

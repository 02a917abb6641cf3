-- Alone in its migration: CONCURRENTLY cannot run inside a transaction. If the last deploy
-- was cancelled halfway, users_email_idx exists but is INVALID, and this skips it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);

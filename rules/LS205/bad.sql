-- users_email_key was built with CREATE UNIQUE INDEX CONCURRENTLY, which failed on a
-- duplicate: it is INVALID, and PostgreSQL refuses a constraint on it.
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;

-- lockscope-example: pg_version=13
-- On PostgreSQL 13 the only way: a short lock_timeout, retried until it gets its turn.
SET lock_timeout = '2s';
ALTER TABLE events DETACH PARTITION events_2024;

-- lockscope-example: pg_version=13
-- Judged for PostgreSQL 13, which has no DETACH PARTITION … CONCURRENTLY.
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

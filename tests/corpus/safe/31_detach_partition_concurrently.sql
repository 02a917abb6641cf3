-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.events_2024=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
-- setup: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- setup: CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
-- source: https://www.postgresql.org/docs/release/14.0/
SET lock_timeout = '2s';
-- PostgreSQL 14+: SHARE UPDATE EXCLUSIVE on the parent; cannot run in a transaction block (psql autocommit).
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

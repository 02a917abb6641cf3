-- corpus: verdict=dangerous
-- context: none
-- hazards: create-index-blocking-writes
-- runner: psql
-- pg: 16
-- size: public.events_2024=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
-- setup: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- setup: CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
SET lock_timeout = '2s';
-- CONCURRENTLY is not supported on a partitioned table, and the plain build takes SHARE on every
-- partition while it indexes each one: writes to all of events wait for the whole build.
CREATE INDEX events_kind_idx ON events (kind);

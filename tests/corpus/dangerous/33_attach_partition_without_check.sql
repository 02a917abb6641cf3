-- corpus: verdict=dangerous
-- context: none
-- hazards: attach-partition-scan
-- runner: psql
-- pg: 16
-- size: public.events_2024=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
-- setup: CREATE TABLE events_2024 (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL);
-- source: https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-ATTACH-PARTITION
SET lock_timeout = '2s';
-- No CHECK constraint implies the bound: events_2024 is scanned under ACCESS EXCLUSIVE to validate it.
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

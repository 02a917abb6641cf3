-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.events_2024=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
-- setup: CREATE TABLE events_2024 (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL);
-- source: https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
SET lock_timeout = '2s';
ALTER TABLE events_2024 ADD CONSTRAINT events_2024_bound
    CHECK (created_at >= '2024-01-01' AND created_at < '2025-01-01') NOT VALID;
ALTER TABLE events_2024 VALIDATE CONSTRAINT events_2024_bound;
-- The validated CHECK implies the partition bound: ATTACH skips its scan (SHARE UPDATE EXCLUSIVE on events).
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE events_2024 DROP CONSTRAINT events_2024_bound;

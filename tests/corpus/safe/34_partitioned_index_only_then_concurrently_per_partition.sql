-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.events_2024=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
-- setup: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- setup: CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- source: https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
SET lock_timeout = '2s';
-- The pattern of the partitioning chapter: an invalid index on the parent only (no data read),
-- each partition's index built CONCURRENTLY, then attached; the parent's index becomes valid
-- once every partition has one.
CREATE INDEX events_kind_idx ON ONLY events (kind);
CREATE INDEX CONCURRENTLY events_2024_kind_idx ON events_2024 (kind);
CREATE INDEX CONCURRENTLY events_2025_kind_idx ON events_2025 (kind);
ALTER INDEX events_kind_idx ATTACH PARTITION events_2024_kind_idx;
ALTER INDEX events_kind_idx ATTACH PARTITION events_2025_kind_idx;

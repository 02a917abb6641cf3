-- file: 001_detach_events_2024.up.sql
-- An earlier release took the 2024 partition out to clean it up.
SET lock_timeout = '2s';
ALTER TABLE events DETACH PARTITION events_2024;
-- file: 002_events_2024_bound.up.sql
-- The bound as a CHECK, NOT VALID: no scan, a brief lock.
SET lock_timeout = '2s';
ALTER TABLE events_2024 ADD CONSTRAINT events_2024_bound
    CHECK (created_at >= '2024-01-01' AND created_at < '2025-01-01') NOT VALID;
-- file: 003_validate_events_2024_bound.up.sql
-- Reads every row, under SHARE UPDATE EXCLUSIVE: reads and writes go on.
SET lock_timeout = '2s';
ALTER TABLE events_2024 VALIDATE CONSTRAINT events_2024_bound;
-- file: 004_reattach_events_2024.up.sql
-- The CHECK proves the bound: no scan. Then it is redundant.
SET lock_timeout = '2s';
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE events_2024 DROP CONSTRAINT events_2024_bound;

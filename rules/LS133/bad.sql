-- file: 001_detach_events_2024.up.sql
-- An earlier release took the 2024 partition out to clean it up.
SET lock_timeout = '2s';
ALTER TABLE events DETACH PARTITION events_2024;
-- file: 002_reattach_events_2024.up.sql
SET lock_timeout = '2s';
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

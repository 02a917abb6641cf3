-- Alone in its migration: CONCURRENTLY cannot run inside a transaction (PostgreSQL 14+).
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

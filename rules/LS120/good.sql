BEGIN;
SET LOCAL lock_timeout = '2s';
-- Keep the data and find out who still uses it: move it aside now, drop it in a later release.
CREATE SCHEMA IF NOT EXISTS pending_drop;
ALTER TABLE IF EXISTS audit_log SET SCHEMA pending_drop;
COMMIT;

-- file: 001_users_name_not_null_check.up.sql
SET lock_timeout = '2s';
-- NOT VALID: no scan, only a brief lock.
ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;
-- file: 001_users_name_not_null_check.down.sql
SET lock_timeout = '2s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_name_not_null;
-- file: 002_users_name_validate.up.sql
SET lock_timeout = '2s';
-- Scans under SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;
-- file: 002_users_name_validate.down.sql
SELECT 1;
-- file: 003_users_name_set_not_null.up.sql
SET lock_timeout = '2s';
-- PostgreSQL 12+ proves NOT NULL from the validated CHECK: no scan. (The CHECK can be dropped
-- by a later migration.)
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
-- file: 003_users_name_set_not_null.down.sql
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;

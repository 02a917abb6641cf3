-- file: 001_add_status.down.sql
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN IF EXISTS nickname;

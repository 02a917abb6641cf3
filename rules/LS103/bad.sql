-- file: 001_users_nickname.sql
SET lock_timeout = '2s';
INSERT INTO audit_log (id, user_id, payload) VALUES (100001, 1, 'nickname column added');
ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;

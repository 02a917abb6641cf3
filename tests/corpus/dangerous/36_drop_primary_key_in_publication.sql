-- corpus: verdict=dangerous
-- context: none
-- hazards: replica-identity-loss
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- setup: CREATE PUBLICATION app_pub FOR TABLE users;
-- source: https://www.postgresql.org/docs/current/logical-replication-publication.html
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-REPLICA-IDENTITY
SET lock_timeout = '2s';
-- users is published for UPDATE and DELETE with REPLICA IDENTITY DEFAULT (the primary key):
-- without it every later UPDATE or DELETE on users fails on the publisher.
ALTER TABLE users DROP CONSTRAINT users_pkey;

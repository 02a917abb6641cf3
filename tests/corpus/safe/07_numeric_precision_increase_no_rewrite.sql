-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.prices=200000
-- setup: CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(10,2) NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.postgresql.org/message-id/20200717034013.GA452830%40rfd.leadboat.com
SET lock_timeout = '2s';
-- More precision with the same scale is binary coercible: no rewrite.
ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,2);

-- corpus: verdict=safe
-- context: size : 800 rows in one short transaction
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.counters=800
-- setup: CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-update.html
UPDATE counters SET hits = 0;

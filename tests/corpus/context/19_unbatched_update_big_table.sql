-- corpus: verdict=dangerous
-- context: size : 250,000 rows locked and rewritten in one transaction
-- hazards: unbatched-backfill
-- runner: psql
-- pg: 16
-- size: public.counters=250000
-- setup: CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-update.html
-- source: https://www.postgresql.org/docs/current/routine-vacuuming.html
UPDATE counters SET hits = 0;

-- corpus: verdict=dangerous
-- context: none
-- hazards: unique-constraint-blocking-build
-- runner: psql
-- pg: 16
-- size: public.events=200000
-- setup: CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, payload text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
SET lock_timeout = '2s';
ALTER TABLE events ADD PRIMARY KEY (id);

-- corpus: verdict=dangerous
-- context: size : 250,000 child rows validated while writes to both tables wait
-- hazards: constraint-validation-scan
-- runner: psql
-- pg: 16
-- size: public.regions=250000, public.shops=250000
-- setup: CREATE TABLE regions (id bigint PRIMARY KEY, name text NOT NULL);
-- setup: CREATE TABLE shops (id bigint PRIMARY KEY, region_id bigint NOT NULL, name text NOT NULL);
-- setup: CREATE INDEX shops_region_id_idx ON shops (region_id);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
ALTER TABLE shops ADD CONSTRAINT shops_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions (id);

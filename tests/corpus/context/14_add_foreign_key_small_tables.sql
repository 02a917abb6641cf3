-- corpus: verdict=safe
-- context: size : 800 child rows checked against 800 parents: milliseconds under SHARE ROW EXCLUSIVE
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.regions=800, public.shops=800
-- setup: CREATE TABLE regions (id bigint PRIMARY KEY, name text NOT NULL);
-- setup: CREATE TABLE shops (id bigint PRIMARY KEY, region_id bigint NOT NULL, name text NOT NULL);
-- setup: CREATE INDEX shops_region_id_idx ON shops (region_id);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
SET lock_timeout = '2s';
ALTER TABLE shops ADD CONSTRAINT shops_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions (id);

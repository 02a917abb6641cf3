-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-update.html
-- source: https://www.postgresql.org/docs/current/routine-vacuuming.html
-- psql commits each statement: ten short transactions of 20,000 rows each, by primary-key range.
UPDATE crates SET downloads = downloads + 1 WHERE id > 0 AND id <= 20000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 20000 AND id <= 40000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 40000 AND id <= 60000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 60000 AND id <= 80000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 80000 AND id <= 100000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 100000 AND id <= 120000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 120000 AND id <= 140000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 140000 AND id <= 160000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 160000 AND id <= 180000;
UPDATE crates SET downloads = downloads + 1 WHERE id > 180000 AND id <= 200000;

-- corpus: verdict=dangerous
-- context: none
-- hazards: vacuum-full-or-cluster
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-vacuum.html
SET lock_timeout = '2s';
VACUUM FULL crates;

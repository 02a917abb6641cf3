-- corpus: verdict=safe
-- context: scope : crate_names is created by this migration and nothing else reads or writes it yet; its SHARE lock blocks no one
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=250000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://www.postgresql.org/docs/current/app-psql.html
SET lock_timeout = '2s';
CREATE TABLE crate_names (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO crate_names SELECT id, name FROM crates;
CREATE INDEX crate_names_name_idx ON crate_names (name);

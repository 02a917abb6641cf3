-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createview.html
-- A new view: plain CREATE VIEW. (OR REPLACE on an existing view takes ACCESS EXCLUSIVE on it and
-- queues its readers like any DDL, so it is not the same verdict.)
CREATE VIEW popular_crates AS
    SELECT id, name, downloads FROM crates WHERE downloads > 1000;

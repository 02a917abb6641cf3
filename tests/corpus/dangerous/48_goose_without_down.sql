-- corpus: verdict=dangerous
-- context: none
-- hazards: irreversible-migration
-- runner: goose
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://pressly.github.io/goose/blog/2022/overview-sql-file/
-- No Down section: `goose down` records the rollback and changes nothing, the column stays.
-- +goose Up
SET LOCAL lock_timeout = '2s';
ALTER TABLE crates ADD COLUMN license text;

-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: goose
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY crates_created_at_idx ON crates (created_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS crates_created_at_idx;

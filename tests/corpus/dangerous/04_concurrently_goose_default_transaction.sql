-- corpus: verdict=dangerous
-- context: none
-- hazards: concurrently-in-transaction
-- runner: goose
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://pressly.github.io/goose/documentation/annotations/
-- goose runs every migration in a transaction unless it is annotated NO TRANSACTION:
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block, the migration fails.
-- +goose Up
CREATE INDEX CONCURRENTLY crates_created_at_idx ON crates (created_at);

-- +goose Down
DROP INDEX CONCURRENTLY crates_created_at_idx;

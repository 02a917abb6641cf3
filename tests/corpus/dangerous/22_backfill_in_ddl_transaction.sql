-- corpus: verdict=dangerous
-- context: none
-- hazards: backfill-in-ddl-transaction, unbatched-backfill
-- runner: goose
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
-- +goose Up
SET LOCAL lock_timeout = '2s';
ALTER TABLE crates ADD COLUMN lowercase_name text;
-- Same transaction: ACCESS EXCLUSIVE on crates from the ALTER is held while every row is updated.
UPDATE crates SET lowercase_name = lower(name);

-- +goose Down
ALTER TABLE crates DROP COLUMN lowercase_name;

-- corpus: verdict=safe
-- context: runner : goose runs the migration in a transaction; since PostgreSQL 12 ADD VALUE may, and the new value is not used in it
-- hazards: none
-- runner: goose
-- pg: 16
-- size: none
-- setup: CREATE TYPE crate_status AS ENUM ('active', 'yanked');
-- source: https://www.postgresql.org/docs/current/sql-altertype.html
-- source: https://www.postgresql.org/docs/release/12.0/
-- source: https://pressly.github.io/goose/documentation/annotations/
-- +goose Up
ALTER TYPE crate_status ADD VALUE IF NOT EXISTS 'archived';

-- +goose Down
SELECT 1; -- enum values cannot be removed; the value stays unused

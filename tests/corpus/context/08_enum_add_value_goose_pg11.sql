-- corpus: verdict=dangerous
-- context: runner : goose runs the migration in a transaction; before PostgreSQL 12 ALTER TYPE ... ADD VALUE cannot run inside one
-- hazards: enum-add-value-in-transaction
-- runner: goose
-- pg: 11
-- size: none
-- setup: CREATE TYPE crate_status AS ENUM ('active', 'yanked');
-- source: https://www.postgresql.org/docs/current/sql-altertype.html
-- source: https://www.postgresql.org/docs/release/12.0/
-- source: https://pressly.github.io/goose/documentation/annotations/
-- +goose Up
ALTER TYPE crate_status ADD VALUE IF NOT EXISTS 'archived';

-- +goose Down
SELECT 1; -- enum values cannot be removed; the value stays unused

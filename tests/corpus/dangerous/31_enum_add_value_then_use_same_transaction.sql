-- corpus: verdict=dangerous
-- context: none
-- hazards: enum-add-value-in-transaction
-- runner: goose
-- pg: 16
-- size: public.packages=200000
-- setup: CREATE TYPE package_status AS ENUM ('active', 'yanked');
-- setup: CREATE TABLE packages (id bigint PRIMARY KEY, status package_status NOT NULL DEFAULT 'active');
-- source: https://www.postgresql.org/docs/current/sql-altertype.html#id-1.9.3.42.9
-- source: https://pressly.github.io/goose/documentation/annotations/
-- +goose Up
SET LOCAL lock_timeout = '2s';
ALTER TYPE package_status ADD VALUE 'archived';
-- ERROR: unsafe use of new value "archived": the value cannot be used before the transaction commits.
UPDATE packages SET status = 'archived' WHERE id = 1;

-- +goose Down
UPDATE packages SET status = 'active' WHERE id = 1;

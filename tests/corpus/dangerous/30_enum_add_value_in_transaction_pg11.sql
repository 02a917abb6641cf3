-- corpus: verdict=dangerous
-- context: none
-- hazards: enum-add-value-in-transaction
-- runner: psql
-- pg: 11
-- size: none
-- setup: CREATE TYPE crate_status AS ENUM ('active', 'yanked');
-- source: https://www.postgresql.org/docs/current/sql-altertype.html#id-1.9.3.42.9
-- source: https://www.postgresql.org/docs/release/12.0/
-- Before PostgreSQL 12: ERROR: ALTER TYPE ... ADD cannot run inside a transaction block.
BEGIN;
ALTER TYPE crate_status ADD VALUE 'archived';
COMMIT;

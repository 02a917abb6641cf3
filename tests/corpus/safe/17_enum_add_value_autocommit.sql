-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: none
-- setup: CREATE TYPE crate_status AS ENUM ('active', 'yanked');
-- source: https://www.postgresql.org/docs/current/sql-altertype.html
ALTER TYPE crate_status ADD VALUE IF NOT EXISTS 'archived';

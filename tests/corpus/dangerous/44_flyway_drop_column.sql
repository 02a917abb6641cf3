-- corpus: verdict=dangerous
-- context: none
-- hazards: breaking-drop-column
-- runner: flyway
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-COLUMN
-- source: https://documentation.red-gate.com/fd/migrations-184127470.html
SET lock_timeout = '2s';
ALTER TABLE crates DROP COLUMN description;

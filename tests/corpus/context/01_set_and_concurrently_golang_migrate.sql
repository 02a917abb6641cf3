-- corpus: verdict=dangerous
-- context: runner : golang-migrate sends the file as one multi-statement query, an implicit transaction; CREATE INDEX CONCURRENTLY fails in it
-- hazards: concurrently-in-transaction
-- runner: golang-migrate
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://github.com/golang-migrate/migrate/blob/master/database/postgres/postgres.go
-- source: https://github.com/golang-migrate/migrate/blob/master/database/postgres/README.md
-- source: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://github.com/openctemio/api/pull/64
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY crates_name_idx ON crates (name);

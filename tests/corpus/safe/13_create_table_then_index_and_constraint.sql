-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: none
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL, owner_email text);
-- teams is new and empty: nothing waits for these.
CREATE INDEX teams_name_idx ON teams (name);
ALTER TABLE teams ADD CONSTRAINT teams_owner_email_key UNIQUE (owner_email);
ALTER TABLE teams ALTER COLUMN owner_email SET NOT NULL;

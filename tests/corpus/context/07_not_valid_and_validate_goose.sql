-- corpus: verdict=dangerous
-- context: runner : goose wraps the Up section in one transaction, so the ADD's SHARE ROW EXCLUSIVE lasts through the VALIDATE scan
-- hazards: validate-in-same-transaction
-- runner: goose
-- pg: 16
-- size: public.crates=250000, public.versions=250000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- setup: CREATE TABLE versions (id bigint PRIMARY KEY, crate_id bigint NOT NULL, num text NOT NULL, yanked boolean NOT NULL DEFAULT false);
-- setup: CREATE INDEX versions_crate_id_idx ON versions (crate_id);
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
-- +goose Up
SET LOCAL lock_timeout = '2s';
ALTER TABLE versions ADD CONSTRAINT versions_crate_id_fkey FOREIGN KEY (crate_id) REFERENCES crates (id) NOT VALID;
ALTER TABLE versions VALIDATE CONSTRAINT versions_crate_id_fkey;

-- +goose Down
SET LOCAL lock_timeout = '2s';
ALTER TABLE versions DROP CONSTRAINT versions_crate_id_fkey;

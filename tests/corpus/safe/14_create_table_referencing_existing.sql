-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createtable.html
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
-- The foreign key takes SHARE ROW EXCLUSIVE on crates only briefly: the new table is empty, nothing to validate.
CREATE TABLE crate_owners (
    crate_id bigint NOT NULL REFERENCES crates (id),
    user_id bigint NOT NULL,
    PRIMARY KEY (crate_id, user_id)
);
CREATE INDEX crate_owners_user_id_idx ON crate_owners (user_id);

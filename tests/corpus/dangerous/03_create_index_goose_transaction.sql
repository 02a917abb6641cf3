-- corpus: verdict=dangerous
-- context: none
-- hazards: create-index-blocking-writes
-- runner: goose
-- pg: 16
-- size: public.orders=200000
-- setup: CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, quantity integer NOT NULL, amount integer NOT NULL, note varchar(50), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://pressly.github.io/goose/documentation/annotations/
-- +goose Up
SET LOCAL lock_timeout = '2s';
CREATE INDEX orders_user_id_idx ON orders (user_id);

-- +goose Down
DROP INDEX orders_user_id_idx;

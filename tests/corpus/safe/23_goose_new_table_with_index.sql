-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: goose
-- pg: 16
-- size: none
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- +goose Up
CREATE TABLE audit_events (id bigint PRIMARY KEY, actor text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE INDEX audit_events_actor_idx ON audit_events (actor);

-- +goose Down
DROP TABLE audit_events;

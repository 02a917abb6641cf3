-- corpus: verdict=safe
-- context: scope : download_stats is created in the same transaction; no other session can see it, so its locks block no one
-- hazards: none
-- runner: goose
-- pg: 16
-- size: none
-- source: https://pressly.github.io/goose/documentation/annotations/
-- source: https://www.postgresql.org/docs/current/sql-altertable.html
-- +goose Up
CREATE TABLE download_stats (crate_id bigint NOT NULL, day date NOT NULL, n integer NOT NULL);
ALTER TABLE download_stats ADD PRIMARY KEY (crate_id, day);
ALTER TABLE download_stats ALTER COLUMN n TYPE bigint;
ALTER TABLE download_stats ADD COLUMN source text NOT NULL DEFAULT 'web';

-- +goose Down
DROP TABLE download_stats;

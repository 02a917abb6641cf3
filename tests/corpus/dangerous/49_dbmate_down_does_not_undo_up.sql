-- corpus: verdict=dangerous
-- context: none
-- hazards: irreversible-migration
-- runner: dbmate
-- pg: 16
-- size: none
-- source: https://github.com/amacneil/dbmate#options
-- migrate:up
CREATE TABLE crate_badges (crate_id bigint NOT NULL, badge text NOT NULL, PRIMARY KEY (crate_id, badge));

-- migrate:down
-- Left empty by mistake: rolling back keeps crate_badges, and re-running up then fails on CREATE TABLE.
SELECT 1;

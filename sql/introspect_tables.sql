-- Introspection: every user table (plain, partitioned, materialized view) with the planner's
-- estimates and its activity since the statistics were last reset.
--
-- Cheap on purpose: no size functions (they open and lock every relation and take ~0.5 s on
-- 40,000 relations); storage is estimated from relpages here, and measured for chosen tables by
-- introspect_sizes.sql. Statistics come straight from the pg_stat_get_* functions that
-- pg_stat_user_tables is built on. The table's idx_scan / idx_tup_fetch are summed from
-- introspect_indexes.sql by lockscope.
-- On PostgreSQL < 16, lockscope replaces pg_stat_get_lastscan(c.oid) by NULL (it does not exist).
SELECT c.oid::int8                                                        AS oid,
       n.nspname::text                                                    AS schema_name,
       c.relname::text                                                    AS name,
       c.relkind::text                                                    AS relkind,
       c.reltuples::float8                                                AS reltuples,
       c.relpages::int8                                                   AS relpages,
       NULLIF(c.reltoastrelid, 0)::int8                                   AS toast_oid,
       COALESCE(t.relpages, 0)::int8                                      AS toast_relpages,
       pg_catalog.pg_stat_get_numscans(c.oid)::int8                       AS seq_scan,
       pg_catalog.pg_stat_get_tuples_returned(c.oid)::int8                AS seq_tup_read,
       EXTRACT(EPOCH FROM pg_catalog.pg_stat_get_lastscan(c.oid))::float8 AS last_seq_scan_epoch,
       pg_catalog.pg_stat_get_tuples_fetched(c.oid)::int8                 AS heap_tup_fetch,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)::int8                AS n_tup_ins,
       pg_catalog.pg_stat_get_tuples_updated(c.oid)::int8                 AS n_tup_upd,
       pg_catalog.pg_stat_get_tuples_deleted(c.oid)::int8                 AS n_tup_del,
       pg_catalog.pg_stat_get_tuples_hot_updated(c.oid)::int8             AS n_tup_hot_upd,
       pg_catalog.pg_stat_get_live_tuples(c.oid)::int8                    AS n_live_tup,
       pg_catalog.pg_stat_get_dead_tuples(c.oid)::int8                    AS n_dead_tup,
       EXTRACT(EPOCH FROM GREATEST(pg_catalog.pg_stat_get_last_vacuum_time(c.oid),
                                   pg_catalog.pg_stat_get_last_autovacuum_time(c.oid)))::float8  AS last_vacuum_epoch,
       EXTRACT(EPOCH FROM GREATEST(pg_catalog.pg_stat_get_last_analyze_time(c.oid),
                                   pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)))::float8 AS last_analyze_epoch
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'

-- Introspection: every index on a user table: method, key and INCLUDE columns (attnums; 0 is an
-- expression; names come from introspect_columns.sql), flags, the constraint it backs, its usage
-- since the statistics were last reset, and its relpages.
--
-- Definitions (pg_get_indexdef, ~15 µs each) are fetched separately by
-- introspect_index_definitions.sql, only for the indexes that need one.
-- On PostgreSQL < 16, lockscope replaces pg_stat_get_lastscan(i.indexrelid) by NULL.
SELECT i.indexrelid::int8                                                         AS oid,
       i.indrelid::int8                                                           AS table_oid,
       n.nspname::text                                                            AS schema_name,
       t.relname::text                                                            AS table_name,
       c.relname::text                                                            AS name,
       am.amname::text                                                            AS method,
       c.relpages::int8                                                           AS relpages,
       i.indnkeyatts::int4                                                        AS key_count,
       pg_catalog.string_to_array(i.indkey::text, ' ')::int2[]                    AS attnums,
       i.indisunique                                                              AS is_unique,
       i.indisprimary                                                             AS is_primary,
       i.indisexclusion                                                           AS is_exclusion,
       i.indisvalid                                                               AS is_valid,
       i.indisready                                                               AS is_ready,
       i.indpred IS NOT NULL                                                      AS is_partial,
       i.indexprs IS NOT NULL                                                     AS has_expressions,
       con.conname::text                                                          AS constraint_name,
       pg_catalog.pg_stat_get_numscans(i.indexrelid)::int8                        AS idx_scan,
       pg_catalog.pg_stat_get_tuples_returned(i.indexrelid)::int8                 AS idx_tup_read,
       pg_catalog.pg_stat_get_tuples_fetched(i.indexrelid)::int8                  AS idx_tup_fetch,
       EXTRACT(EPOCH FROM pg_catalog.pg_stat_get_lastscan(i.indexrelid))::float8  AS last_idx_scan_epoch
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = c.relam
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x') AND con.conrelid = i.indrelid
WHERE t.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'

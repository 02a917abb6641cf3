-- Storage identity of every user relation, for statements whose targets can't be known from
-- their text (DO blocks, function calls). Same columns as relations.sql.
SELECT c.oid::int8                    AS oid,
       n.nspname::text                AS schema_name,
       c.relname::text                AS relation_name,
       c.relkind::text                AS relkind,
       c.relfilenode::int8            AS relfilenode,
       c.reltoastrelid::int8          AS toast_oid,
       i.indrelid::int8               AS index_table_oid,
       c.reltuples::float8            AS reltuples,
       c.relpages::int8               AS relpages
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
WHERE c.oid >= 16384
  AND c.relkind IN ('r', 'p', 'm', 'f', 't', 'i', 'I', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')

-- Where a migration tool's ledger table ($1, e.g. 'flyway_schema_history') is: the one the
-- session's search_path finds first, then any other schema. Read-only and cheap: catalog rows only.
SELECT n.nspname::text                                   AS schema_name,
       c.relname::text                                   AS table_name,
       pg_catalog.pg_table_is_visible(c.oid)             AS visible,
       pg_catalog.has_table_privilege(c.oid, 'SELECT')   AS readable,
       array(SELECT a.attname::text
             FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum)                          AS columns
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = $1
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY pg_catalog.pg_table_is_visible(c.oid) DESC, n.nspname;

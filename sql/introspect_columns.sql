-- Introspection: column names of every user table, so index and constraint column numbers
-- (indkey, conkey, confkey) can be named without a subquery per index.
SELECT a.attrelid::int8  AS table_oid,
       a.attnum::int4    AS attnum,
       a.attname::text   AS name
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND a.attnum > 0
  AND NOT a.attisdropped

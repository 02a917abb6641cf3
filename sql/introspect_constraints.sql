-- Introspection: every constraint on a user table, with convalidated (false = NOT VALID: added
-- without checking existing rows), its columns, the referenced table of a foreign key and the
-- index that backs it. Column numbers are named from introspect_columns.sql; definitions
-- (pg_get_constraintdef) come from introspect_constraint_definitions.sql for the ones shown.
SELECT con.oid::int8                                     AS oid,
       con.conrelid::int8                                AS table_oid,
       n.nspname::text                                   AS schema_name,
       t.relname::text                                   AS table_name,
       con.conname::text                                 AS name,
       con.contype::text                                 AS kind,
       con.convalidated                                  AS validated,
       con.condeferrable                                 AS deferrable,
       COALESCE(con.conkey, '{}')                        AS attnums,
       NULLIF(con.confrelid, 0)::int8                    AS referenced_table_oid,
       CASE WHEN con.confrelid <> 0 THEN rn.nspname || '.' || rt.relname END::text AS referenced_table,
       COALESCE(con.confkey, '{}')                       AS referenced_attnums,
       NULLIF(con.conindid, 0)::int8                     AS index_oid
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_class rt ON rt.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.relnamespace
WHERE con.conrelid <> 0
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'

-- Indexes of the given tables ($1 oids), with validity, for the catalog diff.
SELECT i.indrelid::int8                              AS table_oid,
       n.nspname::text                               AS schema_name,
       c.relname::text                               AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid)      AS definition,
       i.indisvalid                                  AS valid,
       i.indisunique                                 AS is_unique
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = ANY ($1::int8[]::oid[])

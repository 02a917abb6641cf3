-- Indexes among the relations a migration names ($1, as written) that exist but are INVALID
-- (pg_index.indisvalid = false): what a failed or cancelled CREATE INDEX CONCURRENTLY leaves behind.
-- Catalogue reads only: nothing is locked beyond ACCESS SHARE on the catalogues, no table is read.
SELECT name,
       n.nspname::text  AS schema_name,
       c.relname::text  AS index_name,
       tn.nspname::text AS table_schema,
       t.relname::text  AS table_name
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(name)
JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
WHERE NOT i.indisvalid

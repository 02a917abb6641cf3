-- The replica identity of the tables a migration names ($1, as written; an index stands for its
-- table): pg_class.relreplident ('d' default = the primary key, 'n' nothing, 'f' full, 'i' an index),
-- the primary key constraint and its index, and the index marked indisreplident. Catalogue reads only.
-- https://www.postgresql.org/docs/current/catalog-pg-class.html
SELECT DISTINCT
       n.nspname::text       AS schema_name,
       c.relname::text       AS table_name,
       c.relreplident::text  AS replident,
       (SELECT con.conname::text FROM pg_catalog.pg_constraint con
         WHERE con.conrelid = c.oid AND con.contype = 'p')              AS primary_key,
       (SELECT ic.relname::text FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisprimary)                   AS primary_key_index,
       (SELECT ic.relname::text FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisreplident)                 AS identity_index
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.to_regclass(name)
LEFT JOIN pg_catalog.pg_index ri ON ri.indexrelid = r.oid
JOIN pg_catalog.pg_class c ON c.oid = coalesce(ri.indrelid, r.oid) AND c.relkind IN ('r', 'p')
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace

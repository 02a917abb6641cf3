-- Publications that contain the tables a migration names ($1, as written; an index stands for its
-- table), with what each publishes. pg_publication_tables also lists the tables of FOR ALL TABLES
-- publications. Catalogue reads only.
-- https://www.postgresql.org/docs/current/view-pg-publication-tables.html
SELECT DISTINCT
       pt.schemaname::text AS schema_name,
       pt.tablename::text  AS table_name,
       p.pubname::text     AS publication,
       p.pubupdate         AS pubupdate,
       p.pubdelete         AS pubdelete,
       p.puballtables      AS puballtables
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.to_regclass(name)
LEFT JOIN pg_catalog.pg_index ri ON ri.indexrelid = r.oid
JOIN pg_catalog.pg_class c ON c.oid = coalesce(ri.indrelid, r.oid)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_publication_tables pt ON pt.schemaname = n.nspname AND pt.tablename = c.relname
JOIN pg_catalog.pg_publication p ON p.pubname = pt.pubname

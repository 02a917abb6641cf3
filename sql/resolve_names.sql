-- Resolves relation names as the migration wrote them ($1), in the tracing session's own
-- search_path and snapshot.
SELECT name,
       c.oid::int8          AS oid,
       n.nspname::text      AS schema_name,
       c.relname::text      AS relation_name,
       c.relkind::text      AS relkind
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(name)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace

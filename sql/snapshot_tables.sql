-- Tables named by a migration ($1, as written), resolved in the tracing session's search_path,
-- with their columns and size estimate: what `--reversible` fingerprints the data of.
SELECT DISTINCT ON (c.oid)
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qualified,
       c.reltuples::float8 AS reltuples,
       array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS columns
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(name)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p');

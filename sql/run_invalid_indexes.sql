-- run: indexes of this database marked INVALID (pg_index.indisvalid = false), as a cancelled
-- CREATE INDEX CONCURRENTLY leaves them. An index being built concurrently right now is also
-- invalid; the caller compares with the list taken before the attempt.
SELECT n.nspname::text AS schema_name,
       c.relname::text AS index_name,
       tn.nspname::text || '.' || t.relname::text AS table_name
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
WHERE NOT i.indisvalid
ORDER BY 1, 2

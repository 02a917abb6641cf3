-- Introspection: CREATE INDEX definitions of the given indexes ($1, oids).
SELECT o::int8 AS oid, pg_catalog.pg_get_indexdef(o::oid) AS definition
FROM unnest($1::int8[]) AS o

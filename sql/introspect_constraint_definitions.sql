-- Introspection: definitions of the given constraints ($1, oids), as ALTER TABLE would add them.
SELECT o::int8 AS oid, pg_catalog.pg_get_constraintdef(o::oid) AS definition
FROM unnest($1::int8[]) AS o

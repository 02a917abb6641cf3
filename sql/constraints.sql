-- Constraints of the given tables ($1 oids), with validity, for the catalog diff.
SELECT c.conrelid::int8                          AS table_oid,
       c.conname::text                           AS name,
       c.contype::text                           AS kind,
       c.convalidated                            AS validated,
       pg_catalog.pg_get_constraintdef(c.oid)    AS definition
FROM pg_catalog.pg_constraint c
WHERE c.conrelid = ANY ($1::int8[]::oid[])

-- Run from the sampler session: which of these relations ($1 oids) other sessions can see, with
-- their committed names. A relation the migration's own uncommitted transaction created (or a
-- transient one, like the new heap of a table rewrite) is invisible here, and its locks block
-- nobody.
SELECT c.oid::int8                                   AS oid,
       n.nspname::text || '.' || c.relname::text     AS name,
       c.relkind::text                               AS relkind
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY ($1::int8[]::oid[])

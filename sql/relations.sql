-- Storage identity of the relations a statement names: the named relations (by name, $1, and by
-- oid, $2), the tables of named indexes, their partitions and inheritance children, TOAST tables
-- and every index of all of those. Compared before/after a statement, a changed relfilenode is a
-- rewrite. Targeted on purpose: a whole-catalog read per statement is too slow on big schemas.
WITH RECURSIVE named AS (
    SELECT pg_catalog.to_regclass(name)::oid AS oid FROM unnest($1::text[]) AS name
    UNION
    SELECT unnest($2::int8[])::oid
),
tree AS (
    SELECT c.oid FROM pg_catalog.pg_class c JOIN named ON named.oid = c.oid
    WHERE c.relkind IN ('r', 'p', 'm', 'f', 't')
    UNION
    SELECT i.indrelid FROM pg_catalog.pg_index i JOIN named ON named.oid = i.indexrelid
    UNION
    SELECT inh.inhrelid FROM pg_catalog.pg_inherits inh JOIN tree ON tree.oid = inh.inhparent
),
tables AS (
    SELECT oid FROM tree
    UNION
    SELECT c.reltoastrelid FROM pg_catalog.pg_class c JOIN tree ON tree.oid = c.oid WHERE c.reltoastrelid <> 0
),
rels AS (
    SELECT oid FROM tables
    UNION
    SELECT i.indexrelid FROM pg_catalog.pg_index i JOIN tables ON tables.oid = i.indrelid
    UNION
    SELECT oid FROM named WHERE oid IS NOT NULL
)
SELECT c.oid::int8                    AS oid,
       n.nspname::text                AS schema_name,
       c.relname::text                AS relation_name,
       c.relkind::text                AS relkind,
       c.relfilenode::int8            AS relfilenode,
       c.reltoastrelid::int8          AS toast_oid,
       i.indrelid::int8               AS index_table_oid,
       c.reltuples::float8            AS reltuples,
       c.relpages::int8               AS relpages
FROM pg_catalog.pg_class c
JOIN rels ON rels.oid = c.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid

-- Sequences owned by the given tables ($1 oids) or named directly ($2 oids), or every user
-- sequence when $3 is true, with their current state. nextval() is not undone by ROLLBACK, so
-- lockscope restores the state of sequences a dry-run advanced. Only sequences lockscope may
-- both read and set are listed. The pg_depend lookup names refclassid so it uses the catalog's
-- index; the CTE is materialised so the sequence functions only ever see sequences.
WITH candidates AS MATERIALIZED (
    SELECT d.objid AS oid
    FROM pg_catalog.pg_depend d
    WHERE d.refclassid = 'pg_catalog.pg_class'::regclass
      AND d.refobjid = ANY ($1::int8[]::oid[])
      AND d.classid = 'pg_catalog.pg_class'::regclass
      AND d.deptype IN ('a', 'i')
    UNION
    SELECT unnest($2::int8[])::oid
    UNION
    SELECT c.oid FROM pg_catalog.pg_class c WHERE $3 AND c.relkind = 'S'
),
sequences AS MATERIALIZED (
    SELECT s.oid, n.nspname::text || '.' || s.relname::text AS name
    FROM candidates
    JOIN pg_catalog.pg_class s ON s.oid = candidates.oid
    JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
    WHERE s.relkind = 'S' AND s.oid >= 16384
)
SELECT s.oid::int8                                    AS oid,
       s.name                                         AS name,
       pg_catalog.pg_sequence_last_value(s.oid)::int8 AS last_value,
       q.seqstart::int8                               AS start_value
FROM sequences s
JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid
WHERE pg_catalog.has_sequence_privilege(s.oid, 'SELECT, UPDATE')

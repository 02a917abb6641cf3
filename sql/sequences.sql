-- Sequences owned by the given tables ($1 oids) or named directly ($2 oids), or every user
-- sequence when $3 is true, with their current state. nextval() is not undone by ROLLBACK, so
-- lockscope restores the state of sequences a dry-run advanced. Only sequences lockscope may
-- both read and set are listed. (The CTE is materialised so the sequence functions only ever
-- see sequences.)
WITH candidates AS MATERIALIZED (
    SELECT s.oid, n.nspname::text || '.' || s.relname::text AS name
    FROM pg_catalog.pg_class s
    JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
    WHERE s.relkind = 'S'
      AND s.oid >= 16384
      AND ($3
           OR s.oid = ANY ($2::int8[]::oid[])
           OR s.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass
                          AND d.refobjid = ANY ($1::int8[]::oid[])
                          AND d.deptype IN ('a', 'i')))
)
SELECT c.oid::int8                                    AS oid,
       c.name                                         AS name,
       pg_catalog.pg_sequence_last_value(c.oid)::int8 AS last_value,
       q.seqstart::int8                               AS start_value
FROM candidates c
JOIN pg_catalog.pg_sequence q ON q.seqrelid = c.oid
WHERE pg_catalog.has_sequence_privilege(c.oid, 'SELECT, UPDATE')

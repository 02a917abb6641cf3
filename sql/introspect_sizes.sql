-- Introspection: exact sizes of the given tables ($1, oids), their TOAST and their indexes.
--
-- pg_table_size() and friends open each relation with ACCESS SHARE, which would queue behind an
-- ACCESS EXCLUSIVE request (and make everything after us queue too). So a table is skipped
-- (sizes NULL, locked = true) when anyone holds or waits for ACCESS EXCLUSIVE on it, its TOAST
-- table or one of its indexes. The session's lock_timeout covers the race with a request that
-- arrives after this check.
WITH access_exclusive AS (
    SELECT DISTINCT l.relation
    FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'relation'
      AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                        WHERE d.datname = pg_catalog.current_database())
),
wanted AS (
    SELECT c.oid, c.reltoastrelid,
           (c.oid IN (SELECT relation FROM access_exclusive)
            OR c.reltoastrelid IN (SELECT relation FROM access_exclusive)
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                       WHERE i.indrelid = c.oid
                         AND i.indexrelid IN (SELECT relation FROM access_exclusive))) AS locked
    FROM pg_catalog.pg_class c
    WHERE c.oid = ANY ($1::int8[]::oid[])
),
parts AS (
    SELECT w.oid AS table_oid, w.oid AS relation_oid, 'table' AS part, w.locked FROM wanted w
    UNION ALL
    SELECT w.oid, w.reltoastrelid, 'toast', w.locked FROM wanted w WHERE w.reltoastrelid <> 0
    UNION ALL
    SELECT w.oid, i.indexrelid, 'index', w.locked
    FROM wanted w JOIN pg_catalog.pg_index i ON i.indrelid = w.oid
)
SELECT p.table_oid::int8    AS table_oid,
       p.relation_oid::int8 AS relation_oid,
       p.part               AS part,
       p.locked             AS locked,
       CASE WHEN p.locked THEN NULL
            WHEN p.part = 'table' THEN pg_catalog.pg_table_size(p.relation_oid)
            ELSE pg_catalog.pg_total_relation_size(p.relation_oid)
       END::int8            AS bytes
FROM parts p

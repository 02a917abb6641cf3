-- Watch: the heavyweight locks that make queues, from one read of pg_locks (which every role may
-- read in full, unlike pg_stat_activity). Returns
--   * every lock request not granted yet (who waits, for what, since when), and
--   * every lock on a relation that has a waiter or an ACCESS EXCLUSIVE request or holder,
--     so a relation's queue can be shown holders first, then waiters by waitstart.
-- Only sessions connected to this database (pg_stat_activity.datid, visible to every role);
-- lockscope's own session is left out. On PostgreSQL < 14 (no waitstart) lockscope replaces
-- l.waitstart by NULL and orders waiters by pid.
WITH this_database AS (
    SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
),
locks AS MATERIALIZED (
    SELECT l.locktype, l.database, l.relation, l.transactionid::text AS transactionid,
           l.pid, l.mode, l.granted, l.waitstart
    FROM pg_catalog.pg_locks l
    WHERE l.pid <> pg_catalog.pg_backend_pid()
      AND l.pid IN (SELECT a.pid FROM pg_catalog.pg_stat_activity a
                    WHERE a.datid = (SELECT oid FROM this_database))
),
busy_relations AS (
    SELECT DISTINCT k.database, k.relation
    FROM locks k
    WHERE k.locktype = 'relation'
      AND (NOT k.granted OR k.mode = 'AccessExclusiveLock')
)
SELECT k.pid,
       k.locktype,
       k.mode,
       k.granted,
       EXTRACT(EPOCH FROM (pg_catalog.now() - k.waitstart))::float8           AS waited_s,
       k.relation::int8                                                      AS relation_oid,
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname END    AS relation,
       c.relkind::text                                                       AS relkind,
       k.transactionid                                                       AS transactionid,
       (k.database IS NULL OR k.database = (SELECT oid FROM this_database))  AS in_this_database
FROM locks k
LEFT JOIN pg_catalog.pg_class c
       ON c.oid = k.relation AND k.database = (SELECT oid FROM this_database)
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT k.granted
   OR (k.locktype = 'relation'
       AND (k.database, k.relation) IN (SELECT database, relation FROM busy_relations))

-- Watch: one snapshot of the heavyweight lock table, for both the queues and the wait graph.
-- pg_locks is read exactly once (the MATERIALIZED CTE): reading it takes every lock-manager
-- partition lock once, which is the whole cost lockscope puts on the lock manager per sample
-- (pg_blocking_pids() would take them all again for every waiter). pg_stat_activity does not
-- touch the lock manager. lockscope derives who blocks whom from these rows (src/watch/graph.rs).
--
-- Each row carries two flags:
--   shown     — the rows sql/watch_locks.sql returns: every lock request of this database's
--               sessions not granted yet, and their locks on relations that have a waiter or an
--               ACCESS EXCLUSIVE request or holder (the queues, waiting_for, holds);
--   on_waited — the lock object (every locktag column: locktype, database, relation, page,
--               tuple, virtualxid, transactionid, classid, objid, objsubid) is one that a session
--               of this database waits for: every holder and waiter of it, of any database,
--               prepared transactions as pid 0 (as pg_blocking_pids() reports them).
-- lockscope's own session is left out; SIReadLock (predicate locks) never blocks anything.
-- waitstart (PostgreSQL 14+) orders the waiters; waitstart_us is exact, to the microsecond.
-- Run by hand as it is: it has no parameters.
WITH this_database AS (
    SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
),
activity AS MATERIALIZED (
    SELECT a.pid, a.datid, a.backend_type::text AS backend_type, a.leader_pid
    FROM pg_catalog.pg_stat_activity a
),
locks AS MATERIALIZED (
    SELECT l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid, l.transactionid,
           l.classid, l.objid, l.objsubid,
           COALESCE(l.pid, 0) AS pid, l.mode, l.granted, l.fastpath, l.waitstart,
           COALESCE(a.datid = (SELECT oid FROM this_database), false) AS pid_here,
           a.backend_type, a.leader_pid,
           concat_ws('/', l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid,
                     l.transactionid, l.classid, l.objid, l.objsubid)              AS tag
    FROM pg_catalog.pg_locks l
    LEFT JOIN activity a ON a.pid = l.pid
    WHERE l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
      AND l.mode <> 'SIReadLock'
),
waited AS (
    SELECT DISTINCT k.tag FROM locks k WHERE NOT k.granted AND k.pid_here
),
busy_relations AS (
    SELECT DISTINCT k.database, k.relation
    FROM locks k
    WHERE k.pid_here
      AND k.locktype = 'relation'
      AND (NOT k.granted OR k.mode = 'AccessExclusiveLock')
),
picked AS (
    SELECT k.*,
           (k.pid_here
            AND (NOT k.granted
                 OR (k.locktype = 'relation'
                     AND (k.database, k.relation) IN (SELECT database, relation FROM busy_relations))))
                                                                                   AS shown,
           k.tag IN (SELECT w.tag FROM waited w)                                   AS on_waited
    FROM locks k
)
SELECT k.pid,
       k.locktype,
       k.mode,
       k.granted,
       k.fastpath,
       k.tag,
       k.shown,
       k.on_waited,
       k.backend_type,
       k.leader_pid,
       EXTRACT(EPOCH FROM (pg_catalog.now() - k.waitstart))::float8           AS waited_s,
       (EXTRACT(EPOCH FROM k.waitstart) * 1000000)::int8                     AS waitstart_us,
       k.relation::int8                                                      AS relation_oid,
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname END    AS relation,
       k.transactionid::text                                                 AS transactionid,
       (k.database IS NULL OR k.database = (SELECT oid FROM this_database))  AS in_this_database
FROM picked k
LEFT JOIN pg_catalog.pg_class c
       ON c.oid = k.relation AND k.database = (SELECT oid FROM this_database)
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE k.shown OR k.on_waited

-- Watch: one whole sample in one statement (one round trip, one transaction): one snapshot of
-- the heavyweight lock table for both the queues and the wait graph, the sessions of
-- sql/watch_sessions.sql, the counts of sql/watch_summary.sql and the progress rows of
-- sql/watch_progress.sql, told apart by `kind`. lockscope derives who blocks whom from the lock
-- rows itself (src/watch/graph.rs); pg_blocking_pids() would take every lock-manager partition lock
-- again for every waiter.
--
-- Why one statement: pg_locks is read once (one sweep of the lock-manager partitions), and so is
-- pg_stat_activity: a backend copies every backend's status slot "to local memory, if not already
-- done in this transaction" (postgres/postgres, src/backend/utils/activity/backend_status.c,
-- pgstat_read_current_status), so the four separate statements lockscope used to send copied all
-- max_connections slots three times per sample, and each saw a slightly different moment. Here the
-- MATERIALIZED `activity` CTE is that one copy, shared by the locks, the sessions, the counts and
-- the progress views (which read the same local copy).
--
-- Rows, by kind:
--   'lock'     — pg_locks rows (the MATERIALIZED `locks` CTE reads pg_locks exactly once) with
--                two flags:
--                shown     — every lock request of this database's sessions not granted yet, and
--                            their locks on this database's relations that have a waiter or an
--                            ACCESS EXCLUSIVE request or holder (the queues, waiting_for, holds);
--                            and every relation lock of the sessions in $2 (an int4[]: `lockscope
--                            run` lists all its command's locks, contended or not);
--                on_waited — the lock object (every locktag column: locktype, database,
--                            relation, page, tuple, virtualxid, transactionid, classid, objid,
--                            objsubid, joined into `tag`) is one that a session of this database
--                            waits for: every holder and waiter of it, of any database, prepared
--                            transactions as pid 0 (as pg_blocking_pids() reports them); `tag` is
--                            sent only for these rows.
--                SIReadLock (predicate locks) never blocks anything and is left out. waitstart
--                (PostgreSQL 14+) orders the waiters; waitstart_us is exact, to the microsecond;
--   'session'  — every client backend or autovacuum worker of this database that is not idle,
--                and every session with a 'lock' row (a superset of "in a blocking
--                relationship": lockscope keeps those with `listed`, and of the others only the
--                blockers it finds). Query text cut at $1 characters;
--   'counts'   — one row: the header counts;
--   'progress' — one row per pg_stat_progress_* row of this database.
-- lockscope's own session is left out everywhere. Run by hand with $1 replaced by 1000 and $2 by
-- '{}'::int4[].
WITH this_database AS (
    SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
),
activity AS MATERIALIZED (
    SELECT a.pid, a.datid, a.backend_type::text AS backend_type, a.leader_pid,
           a.usename::text AS usename, a.application_name::text AS application_name,
           a.state::text AS state, a.wait_event_type::text AS wait_event_type,
           a.wait_event::text AS wait_event, a.query, a.xact_start, a.query_start, a.state_change,
           COALESCE(a.datid = (SELECT oid FROM this_database), false) AS here
    FROM pg_catalog.pg_stat_activity a
    WHERE a.pid <> pg_catalog.pg_backend_pid()
),
locks AS MATERIALIZED (
    SELECT l.locktype, l.database, l.relation, l.transactionid,
           COALESCE(l.pid, 0) AS pid, l.mode, l.granted, l.fastpath, l.waitstart,
           COALESCE(a.here, false) AS pid_here,
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
picked AS MATERIALIZED (
    SELECT k.*,
           (k.pid_here
            AND (NOT k.granted
                 OR (k.locktype = 'relation'
                     AND k.database = (SELECT oid FROM this_database)
                     AND ((k.database, k.relation) IN (SELECT database, relation FROM busy_relations)
                          OR k.pid = ANY ($2::int4[])))))
                                                                                   AS shown,
           k.tag IN (SELECT w.tag FROM waited w)                                   AS on_waited
    FROM locks k
),
returned AS (
    SELECT * FROM picked k WHERE k.shown OR k.on_waited
),
progress AS (
    SELECT 'create_index' AS view, p.pid, p.datid, p.relid, to_jsonb(p) AS fields
    FROM pg_catalog.pg_stat_progress_create_index p
    UNION ALL
    SELECT 'cluster', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_cluster p
    UNION ALL
    SELECT 'vacuum', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_vacuum p
    UNION ALL
    SELECT 'analyze', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_analyze p
    UNION ALL
    SELECT 'copy', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_copy p
)
-- Every branch lists the same 35 columns in the same order (UNION ALL: the first names them);
-- lockscope finds them by name, once per statement (SampleColumns in src/watch/sampler.rs).
SELECT 'lock'                                                                AS kind,
       k.pid,
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname END    AS relation,
       k.backend_type,
       k.locktype,
       k.mode,
       k.granted,
       k.fastpath,
       CASE WHEN k.on_waited THEN k.tag END                                  AS tag,
       k.shown,
       k.on_waited,
       k.leader_pid,
       EXTRACT(EPOCH FROM (pg_catalog.now() - k.waitstart))::float8           AS waited_s,
       (EXTRACT(EPOCH FROM k.waitstart) * 1000000)::int8                     AS waitstart_us,
       k.relation::int8                                                      AS relation_oid,
       k.transactionid::text                                                 AS transactionid,
       NULL::text AS usename, NULL::text AS application_name, NULL::text AS state,
       NULL::text AS wait_event_type, NULL::text AS wait_event, NULL::text AS query,
       NULL::float8 AS xact_age_s, NULL::float8 AS query_age_s, NULL::float8 AS state_age_s,
       NULL::int8 AS query_start_us, NULL::bool AS listed,
       NULL::int8 AS sessions, NULL::int8 AS active, NULL::int8 AS idle_in_transaction,
       NULL::int8 AS waiting_on_locks, NULL::int8 AS max_connections,
       NULL::text AS view, NULL::text AS index_name, NULL::text AS fields
FROM returned k
LEFT JOIN pg_catalog.pg_class c
       ON c.oid = k.relation AND k.database = (SELECT oid FROM this_database)
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'session', a.pid, NULL, a.backend_type,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event,
       left(a.query, $1),
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.xact_start))::float8,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.query_start))::float8,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.state_change))::float8,
       (EXTRACT(EPOCH FROM a.query_start) * 1000000)::int8,
       (a.here AND a.backend_type IN ('client backend', 'autovacuum worker')
        AND a.state IS DISTINCT FROM 'idle')
       OR a.pid IN (SELECT r.pid FROM returned r WHERE r.shown),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM activity a
WHERE (a.here AND a.backend_type IN ('client backend', 'autovacuum worker')
       AND a.state IS DISTINCT FROM 'idle')
   OR a.pid IN (SELECT r.pid FROM returned r)
UNION ALL
SELECT 'counts', NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       count(*) FILTER (WHERE a.backend_type = 'client backend'),
       count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.state = 'active'),
       count(*) FILTER (WHERE a.backend_type = 'client backend'
                          AND a.state LIKE 'idle in transaction%'),
       count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.wait_event_type = 'Lock'),
       pg_catalog.current_setting('max_connections')::int8,
       NULL, NULL, NULL
FROM activity a
WHERE a.here
UNION ALL
SELECT 'progress', p.pid,
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname END,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL,
       p.view,
       (SELECT ni.nspname || '.' || ci.relname
        FROM pg_catalog.pg_class ci
        JOIN pg_catalog.pg_namespace ni ON ni.oid = ci.relnamespace
        WHERE ci.oid = NULLIF(p.fields ->> 'index_relid', '')::oid
          AND ci.oid <> 0),
       p.fields::text
FROM progress p
LEFT JOIN pg_catalog.pg_class c ON c.oid = p.relid
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE p.pid <> pg_catalog.pg_backend_pid()
  AND (p.datid IS NULL OR p.datid = (SELECT oid FROM this_database))

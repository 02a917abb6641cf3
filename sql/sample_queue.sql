-- Sampler: sessions waiting on a lock that the tracing backend ($1) holds or is queued ahead of.
-- pg_blocking_pids() runs only for sessions that are waiting on a lock.
SELECT a.pid,
       a.application_name::text                                       AS application_name,
       left(a.query, 300)                                             AS query,
       (EXTRACT(EPOCH FROM (now() - COALESCE(
           (SELECT min(w.waitstart) FROM pg_catalog.pg_locks w WHERE w.pid = a.pid AND NOT w.granted),
           a.state_change))) * 1000)::float8                          AS waited_ms
FROM pg_catalog.pg_stat_activity a
WHERE a.wait_event_type = 'Lock'
  AND a.pid <> $1
  AND $1 = ANY (pg_catalog.pg_blocking_pids(a.pid))

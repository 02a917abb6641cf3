-- run: cancels (pg_cancel_backend, never terminate) the statement of the migration command's
-- session $1, only while it is still the same backend ($2: backend_start in µs, so a reused pid is
-- never hit), the same statement ($3: query_start in µs) and still waiting for a lock.
SELECT pg_catalog.pg_cancel_backend(a.pid) AS cancelled
FROM pg_catalog.pg_stat_activity a
WHERE a.pid = $1
  AND (EXTRACT(EPOCH FROM a.backend_start) * 1000000)::int8 = $2
  AND (EXTRACT(EPOCH FROM a.query_start) * 1000000)::int8 = $3
  AND a.wait_event_type = 'Lock'

-- run, after Ctrl-C stopped the migration command: cancels whatever statement its session $1 (the
-- same backend: $2, backend_start in µs) is still running, so a backend whose client is gone does
-- not keep its place in a lock queue. Only ever called for the command's own sessions.
SELECT pg_catalog.pg_cancel_backend(a.pid) AS cancelled
FROM pg_catalog.pg_stat_activity a
WHERE a.pid = $1
  AND (EXTRACT(EPOCH FROM a.backend_start) * 1000000)::int8 = $2
  AND a.state = 'active'

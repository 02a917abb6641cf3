-- Watch, only with --cancel-blocking-ddl-after: cancels the DDL statement of session $1, and only
-- if it is still the same statement ($2, query_start in microseconds) still waiting for a $3 lock
-- on relation $4 (oid). The one thing lockscope ever changes on a watched server.
SELECT pg_catalog.pg_cancel_backend(a.pid) AS cancelled
FROM pg_catalog.pg_stat_activity a
WHERE a.pid = $1
  AND (EXTRACT(EPOCH FROM a.query_start) * 1000000)::int8 = $2
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
              WHERE l.pid = a.pid AND NOT l.granted AND l.mode = $3
                AND l.relation IS NOT DISTINCT FROM $4::int8::oid)

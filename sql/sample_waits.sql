-- Sampler: locks the tracing backend ($1) is waiting for, and who holds them. pg_blocking_pids()
-- is called only for that one backend, and only while it waits.
SELECT l.locktype,
       l.mode,
       COALESCE(n.nspname || '.' || c.relname, l.relation::text, l.locktype) AS relation,
       c.relkind::text                                                       AS relkind,
       (EXTRACT(EPOCH FROM (now() - l.waitstart)) * 1000)::float8            AS waited_ms,
       COALESCE((
           SELECT json_agg(json_build_object(
                      'pid', b.pid,
                      'application_name', b.application_name,
                      'state', b.state,
                      'query', left(b.query, 300),
                      'xact_age_ms', (EXTRACT(EPOCH FROM (now() - b.xact_start)) * 1000)::float8))
           FROM pg_catalog.pg_stat_activity b
           WHERE b.pid = ANY (pg_catalog.pg_blocking_pids($1))
       ), '[]'::json)::text                                                  AS blockers
FROM pg_catalog.pg_locks l
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = $1 AND NOT l.granted

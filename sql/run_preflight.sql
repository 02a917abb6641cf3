-- run, pre-flight: sessions with an open transaction that hold a granted lock on a relation of this
-- database — on one of the relations $1 (names, `schema.name` or bare `name`) when that list is not
-- empty. Ages in seconds. lockscope's own session is left out.
SELECT a.pid,
       a.application_name::text                                         AS application_name,
       a.state::text                                                    AS state,
       left(a.query, 200)                                               AS query,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.xact_start))::float8    AS xact_age_s,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.state_change))::float8  AS state_age_s,
       array_agg(DISTINCT n.nspname::text || '.' || c.relname::text ORDER BY n.nspname::text || '.' || c.relname::text) AS relations
FROM pg_catalog.pg_stat_activity a
JOIN pg_catalog.pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.granted
JOIN pg_catalog.pg_database d ON d.oid = l.database AND d.datname = pg_catalog.current_database()
JOIN pg_catalog.pg_class c ON c.oid = l.relation
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.pid <> pg_catalog.pg_backend_pid()
  AND a.xact_start IS NOT NULL
  AND c.relkind IN ('r', 'p', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (cardinality($1::text[]) = 0
       OR c.relname::text = ANY ($1::text[])
       OR n.nspname::text || '.' || c.relname::text = ANY ($1::text[]))
GROUP BY a.pid, a.application_name, a.state, a.query, a.xact_start, a.state_change
ORDER BY xact_age_s DESC NULLS LAST

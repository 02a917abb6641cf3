-- Watch: the sessions worth showing: every client backend or autovacuum worker of this database
-- that is not idle, plus every session in a blocking relationship ($1, pids), whatever its
-- database. Query text is cut at $2 characters. Times are ages in seconds. lockscope's own
-- session is left out. Without pg_read_all_stats, other roles' rows carry only pid, user,
-- application and backend type (query '<insufficient privilege>', the rest NULL).
SELECT a.pid,
       a.usename::text                                               AS usename,
       a.application_name::text                                      AS application_name,
       a.backend_type::text                                          AS backend_type,
       a.state::text                                                 AS state,
       a.wait_event_type::text                                       AS wait_event_type,
       a.wait_event::text                                            AS wait_event,
       left(a.query, $2)                                             AS query,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.xact_start))::float8   AS xact_age_s,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.query_start))::float8  AS query_age_s,
       EXTRACT(EPOCH FROM (pg_catalog.now() - a.state_change))::float8 AS state_age_s,
       (EXTRACT(EPOCH FROM a.query_start) * 1000000)::int8           AS query_start_us
FROM pg_catalog.pg_stat_activity a
WHERE a.pid <> pg_catalog.pg_backend_pid()
  AND (a.pid = ANY ($1::int4[])
       OR (a.datname = pg_catalog.current_database()
           AND a.backend_type IN ('client backend', 'autovacuum worker')
           AND a.state IS DISTINCT FROM 'idle'))

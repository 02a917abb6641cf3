-- Watch: how many sessions this database has, by state, for the header line.
SELECT count(*)::int8                                                   AS sessions,
       count(*) FILTER (WHERE a.state = 'active')::int8                  AS active,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%')::int8 AS idle_in_transaction,
       count(*) FILTER (WHERE a.wait_event_type = 'Lock')::int8          AS waiting_on_locks,
       pg_catalog.current_setting('max_connections')::int8              AS max_connections
FROM pg_catalog.pg_stat_activity a
WHERE a.datname = pg_catalog.current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_catalog.pg_backend_pid()

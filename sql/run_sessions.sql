-- run: every client session on the server, for finding the migration command's own sessions by
-- application_name (PGAPPNAME), by TCP endpoint (client_addr, client_port; -1 / NULL over a unix
-- socket) or by --session-filter. lockscope's own session is left out.
SELECT a.pid,
       a.application_name::text                                   AS application_name,
       a.usename::text                                            AS usename,
       a.datname::text                                            AS datname,
       host(a.client_addr)                                        AS client_addr,
       a.client_port,
       (EXTRACT(EPOCH FROM a.backend_start) * 1000000)::int8      AS backend_start_us
FROM pg_catalog.pg_stat_activity a
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_catalog.pg_backend_pid()

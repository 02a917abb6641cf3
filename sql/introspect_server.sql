-- Introspection: which server and database this is, since when its statistics count, and what
-- the current role may see. Catalog reads only. src/introspect/mod.rs appends the select list of
-- sql/parallel_build_settings.sql.
SELECT pg_catalog.current_setting('server_version')                              AS version,
       pg_catalog.current_setting('server_version_num')::int4                    AS version_num,
       pg_catalog.current_database()::text                                       AS database,
       current_user::text                                                        AS role,
       EXTRACT(EPOCH FROM pg_catalog.now())::float8                              AS now_epoch,
       EXTRACT(EPOCH FROM pg_catalog.pg_postmaster_start_time())::float8         AS started_epoch,
       (SELECT EXTRACT(EPOCH FROM d.stats_reset)::float8
        FROM pg_catalog.pg_stat_database d
        WHERE d.datname = pg_catalog.current_database())                         AS stats_reset_epoch,
       pg_catalog.current_setting('block_size')::int8                            AS block_size,
       (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) AS is_superuser,
       pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')         AS can_read_all_stats,
       pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'USAGE')         AS can_signal_backends

-- Watch: who blocks whom, as flat (pid, pg_blocking_pids(pid)) pairs; lockscope builds the tree.
-- pg_blocking_pids() is called only for the sessions in $1: those pg_locks shows waiting for a
-- heavyweight lock (the same as pg_stat_activity.wait_event_type = 'Lock', but visible without
-- pg_read_all_stats). Each call briefly takes every lock-manager partition lock, so never for
-- sessions that are not waiting. Run by hand, replace $1 with:
--   (SELECT array_agg(DISTINCT pid) FROM pg_locks WHERE NOT granted)
SELECT w.pid, pg_catalog.pg_blocking_pids(w.pid) AS blocked_by
FROM unnest($1::int4[]) AS w(pid)

-- Sequential scans this session has counted but not yet flushed to the cumulative statistics,
-- for the given tables ($1 oids), or for every user table when $2 is true. Within one
-- transaction the counters only grow, so before/after differences are exact.
SELECT relid::int8          AS oid,
       seq_scan::int8       AS seq_scan,
       seq_tup_read::int8   AS seq_tup_read
FROM pg_catalog.pg_stat_xact_user_tables
WHERE $2 OR relid = ANY ($1::int8[]::oid[])

-- Watch: progress of CREATE INDEX, CLUSTER / VACUUM FULL, VACUUM, ANALYZE and COPY in this
-- database. Each view's row comes back as JSON because its columns differ between versions
-- (lockscope picks the counters that matter for the current phase). Names resolved here.
WITH progress AS (
    SELECT 'create_index' AS view, p.pid, p.datid, p.relid, to_jsonb(p) AS fields
    FROM pg_catalog.pg_stat_progress_create_index p
    UNION ALL
    SELECT 'cluster', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_cluster p
    UNION ALL
    SELECT 'vacuum', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_vacuum p
    UNION ALL
    SELECT 'analyze', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_analyze p
    UNION ALL
    SELECT 'copy', p.pid, p.datid, p.relid, to_jsonb(p) FROM pg_catalog.pg_stat_progress_copy p
)
SELECT p.view,
       p.pid,
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname END AS relation,
       (SELECT ni.nspname || '.' || ci.relname
        FROM pg_catalog.pg_class ci
        JOIN pg_catalog.pg_namespace ni ON ni.oid = ci.relnamespace
        WHERE ci.oid = NULLIF(p.fields ->> 'index_relid', '')::oid
          AND ci.oid <> 0)                                              AS index_name,
       p.fields::text                                                   AS fields
FROM progress p
LEFT JOIN pg_catalog.pg_class c ON c.oid = p.relid
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE p.pid <> pg_catalog.pg_backend_pid()
  AND (p.datid IS NULL
       OR p.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                     WHERE d.datname = pg_catalog.current_database()))

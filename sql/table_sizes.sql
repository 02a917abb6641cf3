-- Size estimates of the relations a migration names ($1, as written), for judging findings:
-- pg_class statistics only, so nothing is locked or read from the tables themselves.
-- reltuples is -1 for a table never vacuumed or analysed; a partitioned table counts its partitions.
SELECT name,
       n.nspname::text      AS schema_name,
       c.relname::text      AS relation_name,
       c.relkind::text      AS relkind,
       CASE WHEN c.relkind = 'p' THEN
                (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)::float8
                 FROM pg_catalog.pg_partition_tree(c.oid) t
                 JOIN pg_catalog.pg_class p ON p.oid = t.relid
                 WHERE t.isleaf)
            ELSE c.reltuples::float8 END AS rows_estimate,
       c.relpages::int8     AS pages
FROM unnest($1::text[]) AS name
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(name)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace

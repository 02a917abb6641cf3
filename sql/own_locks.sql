-- Locks held by this session (the tracing backend), resolved in its own snapshot so relations
-- the migration created are named too. Own virtualxid/transactionid locks are bookkeeping.
SELECT l.locktype,
       l.mode,
       l.granted,
       l.relation::int8              AS relation_oid,
       n.nspname::text               AS schema_name,
       c.relname::text               AS relation_name,
       c.relkind::text               AS relkind,
       l.database::int8              AS database_oid,
       l.page,
       l.tuple::int4                 AS tuple,
       l.classid::int8               AS classid,
       l.objid::int8                 AS objid,
       l.objsubid::int4              AS objsubid,
       CASE WHEN l.locktype = 'object'
            THEN pg_catalog.pg_describe_object(l.classid, l.objid, l.objsubid)
            WHEN l.locktype = 'advisory'
            THEN 'key ' || CASE WHEN l.objsubid = 1
                                          THEN ((l.classid::int8 << 32) | l.objid::int8)::text
                                          ELSE l.classid::text || ', ' || l.objid::text END
       END                           AS object_description
FROM pg_catalog.pg_locks l
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_catalog.pg_backend_pid()
  AND l.locktype NOT IN ('virtualxid', 'transactionid')

-- The whole user-visible schema as rows of (kind, object, attributes): what `--reversible`
-- compares before up and after down. Names, types and definitions only: no oids, no storage, no
-- data, no owners or grants. Objects that belong to an extension are left to the extension's row.
WITH user_namespaces AS (
    SELECT n.oid, n.nspname
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp\_%'
),
extension_members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
),
relations AS (
    SELECT c.oid, c.relname, c.relkind, ns.nspname,
           pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qualified
    FROM pg_catalog.pg_class c
    JOIN user_namespaces ns ON ns.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_members e
                      WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)
)
SELECT kind, object, attributes::text AS attributes FROM (
SELECT 'schema' AS kind, pg_catalog.quote_ident(ns.nspname) AS object, '{}'::jsonb AS attributes
FROM user_namespaces ns
WHERE ns.nspname <> 'public'
  AND NOT EXISTS (SELECT 1 FROM extension_members e
                  WHERE e.classid = 'pg_catalog.pg_namespace'::regclass AND e.objid = ns.oid)

UNION ALL
SELECT 'extension', pg_catalog.quote_ident(x.extname), jsonb_build_object('version', x.extversion)
FROM pg_catalog.pg_extension x
WHERE x.extname <> 'plpgsql'

UNION ALL
SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END,
       r.qualified,
       jsonb_build_object(
           'partitioned', r.relkind = 'p',
           'definition', CASE WHEN r.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(r.oid) END,
           'partition of', (SELECT pr.qualified FROM pg_catalog.pg_inherits i JOIN relations pr ON pr.oid = i.inhparent
                            WHERE i.inhrelid = r.oid AND (SELECT relispartition FROM pg_catalog.pg_class WHERE oid = r.oid)
                            LIMIT 1))
FROM relations r
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')

UNION ALL
SELECT 'column',
       r.qualified || '.' || pg_catalog.quote_ident(a.attname),
       jsonb_build_object(
           'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
           'not null', a.attnotnull,
           'default', CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
           'generated', CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
           'identity', CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END,
           'collation', CASE WHEN a.attcollation <> t.typcollation
                             THEN (SELECT collname FROM pg_catalog.pg_collation WHERE oid = a.attcollation) END,
           'position', pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))
FROM relations r
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')

UNION ALL
SELECT 'constraint',
       pg_catalog.quote_ident(con.conname) || ' on ' || r.qualified,
       jsonb_build_object('definition', pg_catalog.pg_get_constraintdef(con.oid), 'validated', con.convalidated)
FROM pg_catalog.pg_constraint con
JOIN relations r ON r.oid = con.conrelid

UNION ALL
SELECT 'index',
       r.qualified,
       jsonb_build_object(
           'table', t.qualified,
           'unique', i.indisunique,
           'definition', pg_catalog.regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \S+ ON ', 'ON '),
           'valid', i.indisvalid)
FROM pg_catalog.pg_index i
JOIN relations r ON r.oid = i.indexrelid
JOIN relations t ON t.oid = i.indrelid

UNION ALL
SELECT 'sequence',
       r.qualified,
       jsonb_build_object(
           'type', pg_catalog.format_type(s.seqtypid, NULL),
           'start', s.seqstart, 'increment', s.seqincrement, 'minimum', s.seqmin, 'maximum', s.seqmax,
           'cycle', s.seqcycle,
           'owned by', (SELECT t.qualified || '.' || pg_catalog.quote_ident(a.attname)
                        FROM pg_catalog.pg_depend d
                        JOIN relations t ON t.oid = d.refobjid
                        JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.oid
                          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
                        LIMIT 1))
FROM pg_catalog.pg_sequence s
JOIN relations r ON r.oid = s.seqrelid

UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       p.oid::regprocedure::text,
       jsonb_build_object(
           'returns', pg_catalog.pg_get_function_result(p.oid),
           'definition', pg_catalog.md5(CASE WHEN p.prokind IN ('f', 'p') THEN pg_catalog.pg_get_functiondef(p.oid)
                                             ELSE coalesce(p.prosrc, '') END))
FROM pg_catalog.pg_proc p
JOIN user_namespaces ns ON ns.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid)

UNION ALL
SELECT 'trigger',
       pg_catalog.quote_ident(tg.tgname) || ' on ' || r.qualified,
       jsonb_build_object('definition', pg_catalog.pg_get_triggerdef(tg.oid), 'enabled', tg.tgenabled::text)
FROM pg_catalog.pg_trigger tg
JOIN relations r ON r.oid = tg.tgrelid
WHERE NOT tg.tgisinternal

UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'type' END,
       pg_catalog.format_type(t.oid, NULL),
       CASE t.typtype
           WHEN 'e' THEN jsonb_build_object('labels', (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                                       FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid))
           WHEN 'd' THEN jsonb_build_object('type', pg_catalog.format_type(t.typbasetype, t.typtypmod), 'not null', t.typnotnull,
                                            'default', t.typdefault,
                                            'constraints', (SELECT pg_catalog.string_agg(pg_catalog.pg_get_constraintdef(c.oid), ' ' ORDER BY c.conname)
                                                            FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid))
           ELSE jsonb_build_object('attributes', (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                                  FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
       END
FROM pg_catalog.pg_type t
JOIN user_namespaces ns ON ns.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid)
) AS objects;

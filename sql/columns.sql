-- Columns of the given tables ($1 oids), for the catalog diff.
SELECT a.attrelid::int8                                   AS table_oid,
       a.attname::text                                    AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod)    AS data_type,
       a.attnotnull                                       AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid)         AS default_expr,
       a.attidentity::text                                AS identity,
       a.attgenerated::text                               AS generated
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY ($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped

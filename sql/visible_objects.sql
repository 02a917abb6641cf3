-- Run from the sampler session: descriptions of locked non-relation objects ($1 classid,
-- $2 objid, $3 objsubid) as other sessions see them; NULL for objects only the migration's
-- uncommitted transaction can see.
SELECT ord::int8 AS position,
       pg_catalog.pg_describe_object(classid::oid, objid::oid, objsubid) AS description
FROM unnest($1::int8[], $2::int8[], $3::int4[]) WITH ORDINALITY AS t(classid, objid, objsubid, ord)

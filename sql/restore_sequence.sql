-- Puts a sequence back where it was before the dry-run ($2 last value, or $3 start value when it
-- had never been used), but only if nobody else has used it since ($4 = what the dry-run left).
SELECT pg_catalog.setval($1::int8::oid::regclass, COALESCE($2, $3), $2 IS NOT NULL)
WHERE pg_catalog.pg_sequence_last_value($1::int8::oid) IS NOT DISTINCT FROM $4

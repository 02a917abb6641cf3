-- goose's ledger: one row per up (is_applied) or, in old goose versions, per down (not is_applied);
-- the latest row of a version decides. lockscope replaces public.goose_db_version with the table
-- ledger_find.sql found.
SELECT version_id::text AS version, is_applied
FROM public.goose_db_version
ORDER BY id;

-- dbmate's ledger: one row per applied version. lockscope replaces public.schema_migrations with
-- the table ledger_find.sql found.
SELECT version::text AS version
FROM public.schema_migrations;

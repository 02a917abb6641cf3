-- golang-migrate's ledger: one row, the last migration applied, and whether it failed part-way
-- (dirty). lockscope replaces public.schema_migrations with the table ledger_find.sql found.
SELECT version::text AS version, dirty
FROM public.schema_migrations;

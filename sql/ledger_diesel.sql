-- Diesel's ledger: one row per applied migration version. lockscope replaces
-- public.__diesel_schema_migrations with the table ledger_find.sql found.
SELECT version::text AS version
FROM public.__diesel_schema_migrations;

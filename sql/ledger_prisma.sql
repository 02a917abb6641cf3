-- Prisma Migrate's ledger: one row per attempt. Applied: finished and not rolled back; failed:
-- neither finished nor rolled back. checksum is SHA-256 (hex) of migration.sql. lockscope replaces
-- public._prisma_migrations with the table ledger_find.sql found.
SELECT migration_name::text            AS migration_name,
       checksum::text                  AS checksum,
       finished_at IS NOT NULL         AS finished,
       rolled_back_at IS NOT NULL      AS rolled_back,
       logs::text                      AS logs
FROM public._prisma_migrations
ORDER BY started_at, migration_name;

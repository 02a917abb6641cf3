-- sqlx's ledger: one row per applied migration, success = false while one is partially applied;
-- checksum is SHA-384 of the file. lockscope replaces public._sqlx_migrations with the table
-- ledger_find.sql found.
SELECT version::int8                       AS version,
       description::text                   AS description,
       success,
       pg_catalog.encode(checksum, 'hex')  AS checksum
FROM public._sqlx_migrations
ORDER BY version;

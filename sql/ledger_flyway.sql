-- Flyway's ledger, in the order Flyway wrote it. version is NULL for repeatable migrations;
-- checksum is the CRC-32 Flyway computed over the script's lines. lockscope replaces
-- public.flyway_schema_history with the table ledger_find.sql found.
SELECT installed_rank::int8 AS installed_rank,
       version::text        AS version,
       description::text    AS description,
       type::text           AS type,
       script::text         AS script,
       checksum::int8       AS checksum,
       success
FROM public.flyway_schema_history
ORDER BY installed_rank;

-- run --fix-dirty: golang-migrate marked version $1 dirty after lockscope cancelled it; reset the
-- ledger to the version before it ($2; NULL = no version), as `migrate force` would: golang-migrate's
-- postgres driver SetVersion truncates the table and inserts one row (version, dirty) when the
-- version is >= 0 (golang-migrate/migrate database/postgres/postgres.go). Changes nothing unless
-- the row is still ($1, dirty). `public.schema_migrations` is replaced by the ledger's real name.
WITH still_dirty AS (
    SELECT 1 FROM public.schema_migrations WHERE version = $1::int8 AND dirty
), cleared AS (
    DELETE FROM public.schema_migrations WHERE EXISTS (SELECT 1 FROM still_dirty) RETURNING 1
), inserted AS (
    INSERT INTO public.schema_migrations (version, dirty)
    SELECT $2::int8, false
    WHERE $2::int8 IS NOT NULL AND EXISTS (SELECT 1 FROM still_dirty)
    RETURNING 1
)
SELECT (SELECT count(*) FROM cleared)::int8 AS cleared, (SELECT count(*) FROM inserted)::int8 AS inserted

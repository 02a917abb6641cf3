SET lock_timeout = '2s';
-- Nullable without a default: catalog only. New rows get a key from the application (or a
-- default set afterwards with ALTER COLUMN … SET DEFAULT, which does not touch existing rows);
-- existing rows are backfilled in batches by a later migration.
ALTER TABLE users ADD COLUMN IF NOT EXISTS api_key uuid;

SET lock_timeout = '2s';
-- Expand: the new column next to the old one (catalog only). The application writes both and
-- reads the new one; a batched backfill copies old rows; a later release drops the old column.
ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text;

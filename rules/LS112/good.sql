SET lock_timeout = '2s';
-- A plain nullable column: catalog only. Fill it in batches, keep it current from the
-- application (or a trigger), then add the NOT NULL through a validated CHECK.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint;

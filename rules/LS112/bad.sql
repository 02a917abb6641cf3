SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint
    GENERATED ALWAYS AS (quantity * 100) STORED;

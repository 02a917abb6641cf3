-- Adding a value is safe (PostgreSQL 12+: even inside a transaction), as long as nothing in the
-- same transaction uses it. Old code never sees it until new code writes it.
ALTER TYPE order_state ADD VALUE IF NOT EXISTS 'refunded';

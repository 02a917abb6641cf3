SET lock_timeout = '2s';

-- integer → bigint copies every row of orders while holding ACCESS EXCLUSIVE.
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;

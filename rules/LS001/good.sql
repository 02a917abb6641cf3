SET lock_timeout = '2s';

-- Widening varchar is a catalog-only change: ACCESS EXCLUSIVE for an instant, no rewrite.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);

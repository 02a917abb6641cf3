BEGIN;

-- integer → bigint rewrites the table and its indexes under ACCESS EXCLUSIVE.
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;

-- varchar(100) → varchar(200) is catalog-only.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);

COMMIT;

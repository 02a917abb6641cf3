ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);
ALTER TABLE orders ALTER COLUMN quantity TYPE integer;

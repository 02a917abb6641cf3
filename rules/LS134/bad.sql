SET lock_timeout = '2s';
-- Load old orders fast: "the triggers slow it down".
ALTER TABLE orders DISABLE TRIGGER ALL;
INSERT INTO orders (id, user_id, quantity)
SELECT 100000 + g, 1 + g % 5000, 1 FROM generate_series(1, 100) AS g;
ALTER TABLE orders ENABLE TRIGGER ALL;

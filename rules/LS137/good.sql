-- file: 001_orders_shadow.sql
-- A plain file, run with psql -f: every statement commits on its own.
SET lock_timeout = '2s';
CREATE TABLE IF NOT EXISTS orders_shadow (LIKE orders INCLUDING ALL);
CREATE OR REPLACE FUNCTION orders_shadow_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orders_shadow VALUES (NEW.*) ON CONFLICT (id) DO NOTHING;
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_shadow_sync AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_shadow_sync();
INSERT INTO orders_shadow SELECT * FROM orders ON CONFLICT (id) DO NOTHING;
-- Writes through the trigger go on while the index is built.
CREATE INDEX CONCURRENTLY orders_shadow_user_idx ON orders_shadow (user_id);

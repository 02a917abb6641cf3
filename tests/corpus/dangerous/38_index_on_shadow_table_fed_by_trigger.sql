-- corpus: verdict=dangerous
-- context: none
-- hazards: index-on-filled-table
-- runner: psql
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-createindex.html
-- source: https://www.postgresql.org/docs/current/sql-createtrigger.html
-- source: https://www.postgresql.org/docs/current/explicit-locking.html
SET lock_timeout = '2s';
CREATE TABLE crates_new (LIKE crates INCLUDING ALL);
CREATE FUNCTION crates_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crates_new VALUES (NEW.*) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
    RETURN NEW;
END
$$;
CREATE TRIGGER crates_sync AFTER INSERT OR UPDATE ON crates FOR EACH ROW EXECUTE FUNCTION crates_sync();
INSERT INTO crates_new SELECT * FROM crates ON CONFLICT (id) DO NOTHING;
-- crates_new is new but already written by every write to crates (the trigger, committed above):
-- this plain build holds SHARE on crates_new, so every INSERT/UPDATE on crates waits for it.
CREATE INDEX crates_new_downloads_idx ON crates_new (downloads);

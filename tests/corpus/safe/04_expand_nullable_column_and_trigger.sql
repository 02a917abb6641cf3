-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.users=200000
-- setup: CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, status text);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.postgresql.org/docs/current/sql-createtrigger.html
SET lock_timeout = '2s';
-- Expand step: a nullable column without default is a catalogue change only; old code keeps working.
ALTER TABLE users ADD COLUMN email_normalized text;
CREATE FUNCTION users_email_normalized() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.email_normalized := lower(NEW.email);
    RETURN NEW;
END
$$;
-- CREATE TRIGGER takes SHARE ROW EXCLUSIVE briefly (bounded by lock_timeout) and reads no rows.
CREATE TRIGGER users_email_normalized BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_email_normalized();

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.updated_at := now(); -- a comment; with a semicolon
  RETURN NEW;
END
$body$;
DO $$ BEGIN PERFORM 1; END $$;
SELECT $tag$ a ; b $tag$, E'it''s\n;', "weird;name" FROM (SELECT 1) AS "t;";

-- The corpus benchmark's data filler (benches/precision.rs): `corpus_fill(table, rows)` inserts
-- `rows` rows into `table` from generate_series, one value per column derived from the column's
-- type: numbers = g (so keys 1..rows, and a child's key column matches a parent of the same size),
-- strings = 'v' || g, booleans = false, dates and timestamps inside 2024, enums = their first
-- label, uuid = md5(g), json = '{}'. Columns of other types are left to their default (NULL).
-- Created in pg_temp: it lives only as long as the bench's setup session.
CREATE FUNCTION pg_temp.corpus_fill(tbl regclass, n bigint) RETURNS void
LANGUAGE plpgsql AS $fill$
DECLARE
    cols text[] := '{}';
    vals text[] := '{}';
    r record;
    expr text;
BEGIN
    FOR r IN
        SELECT a.attname, a.atttypid, t.typtype, t.typcategory,
               format_type(a.atttypid, a.atttypmod) AS ft
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attgenerated = '' AND a.attidentity <> 'a'
        ORDER BY a.attnum
    LOOP
        expr := CASE
            WHEN r.typtype = 'e' THEN quote_literal((SELECT e.enumlabel FROM pg_enum e
                                                     WHERE e.enumtypid = r.atttypid
                                                     ORDER BY e.enumsortorder LIMIT 1))
            WHEN r.typcategory = 'N' THEN 'g'
            WHEN r.typcategory = 'S' THEN '''v'' || g'
            WHEN r.typcategory = 'B' THEN 'false'
            WHEN r.typcategory = 'D' THEN '(timestamptz ''2024-01-01'' + ((g - 1) % 365) * interval ''1 day'')'
            WHEN r.ft = 'uuid' THEN 'md5(g::text)::uuid'
            WHEN r.ft IN ('json', 'jsonb') THEN '''{}'''
        END;
        IF expr IS NOT NULL THEN
            cols := cols || quote_ident(r.attname);
            vals := vals || (expr || '::' || r.ft);
        END IF;
    END LOOP;
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM generate_series(1, %s) AS g',
                   tbl, array_to_string(cols, ', '), array_to_string(vals, ', '), n);
END
$fill$;

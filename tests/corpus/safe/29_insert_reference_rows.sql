-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: psql
-- pg: 16
-- size: public.lookup_values=249
-- setup: CREATE TABLE lookup_values (id bigint PRIMARY KEY, code text NOT NULL, name text NOT NULL);
-- source: https://www.postgresql.org/docs/current/sql-insert.html
INSERT INTO lookup_values (id, code, name) VALUES
    (1000, 'xk', 'Kosovo'),
    (1001, 'eu', 'European Union')
ON CONFLICT (id) DO NOTHING;

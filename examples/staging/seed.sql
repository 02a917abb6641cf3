-- A staging-like database for trying lockscope: the state after examples/migrations 001 and 002,
-- with enough rows that rewrites and scans take measurable time.
CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL,
    quantity   integer NOT NULL,
    note       varchar(100),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 200000) AS g;
INSERT INTO orders (user_id, quantity, note)
SELECT 1 + (g % 200000), 1 + (g % 7), 'order ' || g FROM generate_series(1, 1000000) AS g;
CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (2, false);
ANALYZE;

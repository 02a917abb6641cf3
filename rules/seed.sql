-- The schema every rule example runs against: the integration tests load it (into a fresh
-- database) before tracing an example, so examples can be read as migrations of this shop.
CREATE TYPE order_state AS ENUM ('new', 'paid', 'shipped');

CREATE TABLE users (
    id         bigint PRIMARY KEY,
    email      text NOT NULL,
    name       text,
    status     text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id         bigint PRIMARY KEY,
    user_id    bigint NOT NULL,
    quantity   integer NOT NULL,
    note       varchar(100),
    state      order_state NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_created_at_idx ON orders (created_at);

CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

CREATE TABLE audit_log (id bigint PRIMARY KEY, user_id bigint, payload text);

INSERT INTO users
SELECT g, 'user' || g || '@example.com', 'User ' || g, CASE WHEN g % 2 = 0 THEN 'active' END, now()
FROM generate_series(1, 5000) AS g;
INSERT INTO orders
SELECT g, 1 + g % 5000, 1 + g % 7, 'order ' || g, 'new', now() FROM generate_series(1, 10000) AS g;
INSERT INTO events SELECT g, timestamptz '2024-06-01' + g * interval '1 hour' FROM generate_series(1, 2000) AS g;
INSERT INTO audit_log SELECT g, 1 + g % 5000, 'x' FROM generate_series(1, 1000) AS g;

ANALYZE;

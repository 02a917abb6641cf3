-- Demo data, so that the embedded throwaway database shows real rewrites and scans.
INSERT INTO users (email)
SELECT 'user' || g || '@example.com' FROM generate_series(1, 20000) AS g;

INSERT INTO orders (user_id, quantity, note)
SELECT 1 + (g % 20000), 1 + (g % 7), 'order ' || g FROM generate_series(1, 50000) AS g;

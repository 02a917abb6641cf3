CREATE TABLE IF NOT EXISTS coupons (
    code       text PRIMARY KEY,
    percent_off integer NOT NULL
);

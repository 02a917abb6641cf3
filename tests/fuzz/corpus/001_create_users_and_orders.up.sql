-- Two tables every shop has.
CREATE TABLE IF NOT EXISTS users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orders (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL,
    quantity   integer NOT NULL,
    note       varchar(100),
    created_at timestamptz NOT NULL DEFAULT now()
);

SET lock_timeout = '2s';

-- NOT VALID: no scan while ShareRowExclusive is held on both tables...
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

-- ...then VALIDATE scans under ShareUpdateExclusive, which lets reads and writes through.
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;

-- orders_created_at_idx serves the "recent orders" page: queries scan it all day.
SET lock_timeout = '2s';
DROP INDEX IF EXISTS orders_created_at_idx;

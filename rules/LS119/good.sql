-- Release 1 stops reading and writing orders.note; this migration ships with release 2.
SET lock_timeout = '2s';
-- lockscope:ignore LS119 no code has read orders.note since release 41 (ticket OPS-12)
ALTER TABLE orders DROP COLUMN IF EXISTS note;

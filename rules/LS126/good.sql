-- Plain VACUUM (SHARE UPDATE EXCLUSIVE) marks dead rows reusable while reads and writes go on.
-- To give space back to the OS without blocking, run pg_repack (or pg_squeeze) outside the
-- migration: it rebuilds the table online and takes ACCESS EXCLUSIVE only for the final swap.
VACUUM (ANALYZE) orders;

-- Alone in its migration: VACUUM cannot run inside a transaction.
VACUUM FULL orders;

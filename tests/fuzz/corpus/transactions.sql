BEGIN;
SAVEPOINT a;
ALTER TABLE t ADD COLUMN c int /* nested /* comment */ ; still comment */;
ROLLBACK TO SAVEPOINT a;
RELEASE a;
COMMIT;
-- lockscope:ignore LS101 reviewed with the DBA
CREATE INDEX CONCURRENTLY IF NOT EXISTS t_c_idx ON t (c);

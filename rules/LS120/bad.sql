SET lock_timeout = '2s';
DROP TABLE IF EXISTS audit_log;

SET lock_timeout = '2s';
-- lockscope:ignore LS120 audit_log has been unused since release 42 (ticket OPS-7)
DROP TABLE IF EXISTS audit_log;

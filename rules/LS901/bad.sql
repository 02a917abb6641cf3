SET lock_timeout = '2s';
-- lockscope:ignore LS107
CREATE INDEX IF NOT EXISTS audit_log_user_id_idx ON audit_log (user_id);

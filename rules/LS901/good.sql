SET lock_timeout = '2s';
-- lockscope:ignore LS107 audit_log holds 1000 rows and nothing writes to it during deploys
CREATE INDEX IF NOT EXISTS audit_log_user_id_idx ON audit_log (user_id);

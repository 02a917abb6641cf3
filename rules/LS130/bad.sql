SET lock_timeout = '2s';
ALTER TABLE audit_log ADD CONSTRAINT audit_log_no_overlap
    EXCLUDE USING gist (int8range(id, id + 1) WITH &&);

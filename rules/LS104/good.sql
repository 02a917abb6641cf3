-- The only statement of its migration, which the tool must run outside a transaction.
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);

SET lock_timeout = '2s';

-- The same change when nobody holds a conflicting lock: granted at once.
ALTER TABLE users ADD COLUMN nickname text;

-- corpus: verdict=dangerous
-- context: none
-- hazards: exclusion-constraint-build
-- runner: psql
-- pg: 16
-- size: public.bookings=200000
-- setup: CREATE TABLE bookings (id bigint PRIMARY KEY, room text NOT NULL, during tsrange);
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
-- source: https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-EXCLUDE
SET lock_timeout = '2s';
-- An exclusion constraint cannot be added NOT VALID or USING INDEX: its GiST index is built under ACCESS EXCLUSIVE.
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&);

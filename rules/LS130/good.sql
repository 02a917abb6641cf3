-- Create the constraint with the table, while it is empty; for an existing table, enforce the rule
-- in the application (or a trigger) until a maintenance window.
CREATE TABLE IF NOT EXISTS room_bookings (
    room_id integer NOT NULL,
    during  int8range NOT NULL,
    EXCLUDE USING gist (during WITH &&)
);

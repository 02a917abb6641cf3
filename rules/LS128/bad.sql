ALTER TYPE order_state RENAME VALUE 'shipped' TO 'dispatched';

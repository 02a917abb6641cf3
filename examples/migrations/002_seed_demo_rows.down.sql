TRUNCATE orders, users;

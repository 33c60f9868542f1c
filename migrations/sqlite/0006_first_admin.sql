-- Who becomes the admin: the first registration claims this row's flag. Claiming it with an
-- UPDATE in the registration's transaction makes two simultaneous first registrations queue on
-- the row lock, so only one of them becomes admin (a NOT EXISTS check alone lets both through
-- on PostgreSQL).
CREATE TABLE first_admin (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    claimed INTEGER NOT NULL
);
INSERT INTO first_admin (id, claimed) SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 1 ELSE 0 END;

-- Roles instead of one admin flag: owner, admin, moderator or user (the
-- names perch_core's Role reads). The oldest admin becomes the owner.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
UPDATE users SET role = 'admin' WHERE admin;
UPDATE users SET role = 'owner'
    WHERE account_id = (SELECT MIN(account_id) FROM users WHERE admin);
ALTER TABLE users DROP COLUMN admin;

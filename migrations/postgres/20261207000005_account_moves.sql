-- Account migration: a remote actor's `alsoKnownAs` (its other ids, a JSON
-- array; NULL: none), and the account an account moved to (its `Move`,
-- checked against the new account's `alsoKnownAs`).
ALTER TABLE accounts ADD COLUMN also_known_as TEXT;
ALTER TABLE accounts ADD COLUMN moved_to_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;

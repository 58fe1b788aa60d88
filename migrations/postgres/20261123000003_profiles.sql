-- Profiles as their owners edit them (PATCH /api/v1/accounts/update_credentials).

-- The note as its owner typed it (plain text), shown back in
-- `source.note`; `accounts.note` keeps the HTML rendering that clients and
-- other servers display.
ALTER TABLE accounts ADD COLUMN note_source TEXT NOT NULL DEFAULT '';

-- Profile metadata ("fields"): name/value pairs in display order.
--
-- A table rather than a JSON column on `accounts`: perch_db has no JSON
-- library and should not grow an ad-hoc encoding, each backend types and
-- checks the rows alike, and lists of accounts can fetch every account's
-- fields in one query keyed by `account_id` (no query per account).
-- `value` is the HTML shown in `Account.fields`; `value_source` is the
-- plain text a local owner typed (`source.fields`), NULL for remote
-- accounts, whose servers send HTML only.
CREATE TABLE account_fields (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL CHECK (ordinal >= 0),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    value_source TEXT,
    verified_at BIGINT,
    PRIMARY KEY (account_id, ordinal)
);

-- Lists: an account's own groups of the accounts it follows, each with a
-- timeline of their statuses. `replies_policy` decides which of the
-- members' replies to others the list shows; an exclusive list's members
-- are left out of its owner's home timeline.
CREATE TABLE lists (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    replies_policy TEXT NOT NULL DEFAULT 'list'
        CHECK (replies_policy = 'followed' OR replies_policy = 'list' OR replies_policy = 'none'),
    exclusive BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX lists_account ON lists (account_id, id);

-- A list's members, always accounts its owner follows: ending the follow
-- takes them out. Ids are minted when a member is added, for paging.
CREATE TABLE list_accounts (
    id INTEGER PRIMARY KEY,
    list_id BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    UNIQUE (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);

-- List timelines, fanned out on write as home feeds are.
CREATE TABLE list_feed (
    list_id BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, status_id)
);
CREATE INDEX list_feed_status ON list_feed (status_id);

-- Blocks: `account_id` blocks `target_account_id`. Either side may be
-- remote (a remote account's Block of a local one is stored too, so that
-- the local account stops seeing what the blocker does not want it to).
CREATE TABLE blocks (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The Block activity's id, sent or received.
    uri TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id, account_id);

-- Mutes (local accounts only): the target's statuses leave the muter's
-- timelines, and its notifications too unless `hide_notifications` is
-- false. A mute with `expires_at` ends then (housekeeping removes it).
CREATE TABLE mutes (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX mutes_expiry ON mutes (expires_at) WHERE expires_at IS NOT NULL;

-- A local account's blocks of whole servers (by federation domain).
CREATE TABLE account_domain_blocks (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, domain)
);

-- Muted conversations: no notifications about the thread whose first
-- known status is `root_status_id`.
CREATE TABLE conversation_mutes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, root_status_id)
);

-- Grouped notifications and the notification policy (Mastodon 4.3).
--
-- Each notification carries the key of the group it belongs to, set when
-- it is stored: likes and reblogs of one status, and follows, share a key
-- within a span of hours; any other is `ungrouped-<id>`. A notification the
-- recipient's policy holds back is `filtered` (and never grouped): out of
-- the lists, streams and pushes until its sender's request is accepted.
ALTER TABLE notifications ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT FALSE;

-- Notifications stored before grouping are grouped by the hour they were
-- made in.
UPDATE notifications SET group_key = CASE
    WHEN kind IN ('favourite', 'reblog') AND status_id IS NOT NULL
        THEN kind || '-' || status_id || '-' || (created_at / 3600000)
    WHEN kind = 'follow' THEN 'follow-' || (created_at / 3600000)
    ELSE 'ungrouped-' || id
END;

CREATE INDEX notifications_group ON notifications (account_id, group_key, id);
CREATE INDEX notifications_filtered ON notifications (account_id, from_account_id)
    WHERE filtered;

-- What a local account does with notifications from those it does not
-- follow, that do not follow it, new accounts, unsolicited private
-- mentions and limited accounts: accept, filter or drop. No row: the
-- defaults.
CREATE TABLE notification_policies (
    account_id BIGINT NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following TEXT NOT NULL,
    for_not_followers TEXT NOT NULL,
    for_new_accounts TEXT NOT NULL,
    for_private_mentions TEXT NOT NULL,
    for_limited_accounts TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Senders whose notifications request a recipient accepted: never filtered
-- again.
CREATE TABLE notification_permissions (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, from_account_id)
);
CREATE INDEX notification_permissions_from ON notification_permissions (from_account_id);

-- One request per recipient and sender of filtered notifications. Its
-- last status is the sender's latest filtered mention; no foreign key, so
-- that deleting statuses does not have to look here (a missing status
-- shows as none).
CREATE TABLE notification_requests (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_status_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_id, from_account_id)
);
CREATE INDEX notification_requests_account ON notification_requests (account_id, id);
CREATE INDEX notification_requests_from ON notification_requests (from_account_id);

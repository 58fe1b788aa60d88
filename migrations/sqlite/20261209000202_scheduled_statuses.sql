-- Statuses to publish later (Mastodon's scheduled statuses): the request
-- as Mastodon shows it back (`params`, JSON), when it is due, and the
-- claim of the process publishing it, so that several processes sharing
-- one database publish each exactly once (the claim lapses if that
-- process dies; the status's own row goes in the transaction that posts).
CREATE TABLE scheduled_statuses (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at BIGINT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until BIGINT
);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);

-- Uploads waiting for a scheduled status: kept from the purge of
-- unattached uploads and from other statuses until it is published.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT
    REFERENCES scheduled_statuses (id) ON DELETE SET NULL;
CREATE INDEX media_attachments_scheduled ON media_attachments (scheduled_status_id);

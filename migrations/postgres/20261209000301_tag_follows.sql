-- Hashtags an account follows (`/api/v1/tags/:name/follow`): public
-- statuses carrying one reach the follower's home feed.
CREATE TABLE tag_follows (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, tag_id)
);
-- Fan-out finds a tag's followers.
CREATE INDEX tag_follows_tag ON tag_follows (tag_id, account_id);

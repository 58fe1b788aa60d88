-- Statuses an account shows at the top of its profile (Mastodon's pins,
-- ActivityPub's `featured` collection): a local account's own, or what a
-- remote account's collection lists. `featured_url` is a remote actor's
-- collection, read when it is fetched.
CREATE TABLE status_pins (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX status_pins_status ON status_pins (status_id);
ALTER TABLE accounts ADD COLUMN featured_url TEXT;

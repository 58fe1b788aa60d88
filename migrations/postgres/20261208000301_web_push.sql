-- Web Push (RFC 8030, with RFC 8291's encryption and RFC 8292's VAPID):
-- the server's VAPID key pair, made at the first start and kept, so that
-- every process signs with the same key and subscriptions outlive restarts.
CREATE TABLE vapid_keys (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- PKCS#8 DER of the P-256 private key, base64.
    private_key TEXT NOT NULL,
    -- The uncompressed public point, base64url without padding.
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One push subscription per access token (its session), as Mastodon keeps
-- them: where to push, the browser's keys, and which notifications.
CREATE TABLE push_subscriptions (
    id BIGINT PRIMARY KEY,
    session_id BIGINT NOT NULL UNIQUE REFERENCES oauth_sessions (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    -- The subscription's P-256 public key and auth secret, base64url.
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    -- The notification types pushed, as ',mention,follow,'.
    alerts TEXT NOT NULL,
    -- From whom: all, followed, follower or none.
    policy TEXT NOT NULL,
    -- RFC 8291's aes128gcm (true) or the older aesgcm (false).
    standard BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

-- The persistent push queue: one job per (subscription, notification),
-- made in the notification's own transaction, retried with backoff.
CREATE TABLE push_deliveries (
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    PRIMARY KEY (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at);

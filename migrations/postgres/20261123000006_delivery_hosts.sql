-- What the delivery queue knows of the servers it sends to.

-- Inboxes that answered 410 Gone or 404: nothing more is sent there until
-- their actor is heard from again.
CREATE TABLE gone_inboxes (
    inbox_url TEXT PRIMARY KEY,
    gone_at BIGINT NOT NULL
);

-- Per server: consecutive failures open a circuit (no attempts until it
-- closes); a server failing for days is marked unavailable and only probed.
CREATE TABLE delivery_hosts (
    host TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since BIGINT,
    circuit_open_until BIGINT,
    unavailable_since BIGINT,
    last_success_at BIGINT,
    last_failure_at BIGINT
);

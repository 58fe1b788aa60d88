-- One-to-one chats, their messages with delivery state, presence, and the
-- per-account event log that lets a reconnecting client catch up.

-- Presence is shown to chat partners unless the user hides it.
ALTER TABLE users ADD COLUMN hide_presence BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN last_seen_at BIGINT;
-- Remote actors that take Pleroma's ChatMessage (their actor says so).
ALTER TABLE accounts ADD COLUMN accepts_chat_messages BOOLEAN NOT NULL DEFAULT FALSE;
-- The last sequence number of the account's event log.
ALTER TABLE accounts ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;

-- One chat per pair of accounts, the lower id first.
CREATE TABLE chats (
    id BIGINT PRIMARY KEY,
    account_low BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_high BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_message_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_low, account_high),
    CHECK (account_low < account_high)
);
CREATE INDEX chats_high ON chats (account_high);

CREATE TABLE chat_messages (
    id BIGINT PRIMARY KEY,
    chat_id BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The sender's own id for the message: resending it creates nothing.
    client_id TEXT,
    -- The ActivityPub id (ours for local messages, the sender's for remote).
    uri TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    seen_at BIGINT
);
CREATE INDEX chat_messages_chat ON chat_messages (chat_id, id);
CREATE UNIQUE INDEX chat_messages_client_id ON chat_messages (sender_id, client_id)
    WHERE client_id IS NOT NULL;

-- What each local account's devices must see, in order: a client that
-- reconnects names the last number it saw and gets the rest.
CREATE TABLE user_events (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX user_events_created ON user_events (created_at);

-- Open WebSocket connections per account and process, for presence.
CREATE TABLE presence (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL,
    connections INTEGER NOT NULL CHECK (connections >= 0),
    PRIMARY KEY (account_id, node_id)
);

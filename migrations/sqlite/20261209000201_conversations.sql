-- Direct conversations, as Mastodon keeps them: one row per local account
-- and per thread of direct statuses with the same other participants. The
-- thread is its first known status (`context_id`); the participants are
-- the others' ids, sorted, as ',1,2,' (',' when alone), so that a direct
-- status to the same people outside the thread starts another one.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    context_id BIGINT NOT NULL,
    participant_ids TEXT NOT NULL,
    -- The newest status of it: the list is ordered and paged by it.
    last_status_id BIGINT NOT NULL,
    unread BOOLEAN NOT NULL,
    UNIQUE (account_id, context_id, participant_ids)
);
CREATE INDEX conversations_account ON conversations (account_id, last_status_id);

-- The statuses of each conversation, so that deleting the newest one
-- shows the one before it.
CREATE TABLE conversation_statuses (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, status_id)
);
CREATE INDEX conversation_statuses_status ON conversation_statuses (status_id);

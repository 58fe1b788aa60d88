-- Polls attached to statuses, local and remote. A local poll's totals are
-- counted from its votes here; a remote poll's are its server's, replaced
-- by each Update of its Question from the status's author (the status's
-- uri is the Question's id), with local votes added in between.
-- `closed_at` is when its end was handled (the author and the voters
-- notified, the final totals sent), so that happens once.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    status_id BIGINT NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at BIGINT,
    closed_at BIGINT,
    votes_count BIGINT NOT NULL DEFAULT 0 CHECK (votes_count >= 0),
    voters_count BIGINT NOT NULL DEFAULT 0 CHECK (voters_count >= 0),
    remote_updated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX polls_open_expiry ON polls (expires_at)
    WHERE closed_at IS NULL AND expires_at IS NOT NULL;

CREATE TABLE poll_options (
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    title TEXT NOT NULL,
    votes_count BIGINT NOT NULL DEFAULT 0 CHECK (votes_count >= 0),
    PRIMARY KEY (poll_id, position)
);

-- One row per chosen option; `uri` is the vote Note's id (a remote
-- voter's as received, a local voter's as sent).
CREATE TABLE poll_votes (
    id INTEGER PRIMARY KEY,
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice INTEGER NOT NULL CHECK (choice >= 0),
    uri TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id);

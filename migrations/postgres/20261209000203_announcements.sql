-- Announcements from the server's staff (Mastodon's): the text as written
-- and as HTML, the event's time span if any, and when it was published.
CREATE TABLE announcements (
    id BIGINT PRIMARY KEY,
    text TEXT NOT NULL,
    content TEXT NOT NULL,
    starts_at BIGINT,
    -- Past its end an announcement is no longer shown.
    ends_at BIGINT,
    all_day BOOLEAN NOT NULL,
    published_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Who has read (dismissed) which announcement.
CREATE TABLE announcement_dismissals (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (announcement_id, account_id)
);
CREATE INDEX announcement_dismissals_account ON announcement_dismissals (account_id);

-- Each emoji an announcement has been reacted with, kept once made so
-- that a live event can name it by id (even when its count falls to 0).
CREATE TABLE announcement_reaction_names (
    id BIGINT PRIMARY KEY,
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    -- A Unicode emoji, or a local custom emoji's shortcode.
    name TEXT NOT NULL,
    UNIQUE (announcement_id, name)
);

-- Who reacted with what.
CREATE TABLE announcement_reactions (
    name_id BIGINT NOT NULL REFERENCES announcement_reaction_names (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (name_id, account_id)
);
CREATE INDEX announcement_reactions_account ON announcement_reactions (account_id);

-- Media attachments: uploaded by local accounts (stored under the data
-- directory, with a preview), or referenced by URL for remote statuses.
CREATE TABLE media_attachments (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- NULL until a status uses it.
    status_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    -- Mastodon's type: image, gifv, video, audio, unknown.
    kind TEXT NOT NULL,
    content_type TEXT,
    -- Public URLs: ours for uploads, the origin's for remote attachments.
    url TEXT NOT NULL,
    preview_url TEXT,
    remote_url TEXT,
    file_size BIGINT,
    width INTEGER,
    height INTEGER,
    preview_width INTEGER,
    preview_height INTEGER,
    blurhash TEXT,
    description TEXT,
    focus_x DOUBLE PRECISION,
    focus_y DOUBLE PRECISION,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX media_attachments_status ON media_attachments (status_id);
CREATE INDEX media_attachments_account ON media_attachments (account_id, id);

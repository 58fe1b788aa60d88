-- Filters (`/api/v2/filters`, and `/api/v1/filters` for older apps):
-- an account's keywords and statuses to warn about or hide, in some
-- contexts, until they expire. `context` lists the contexts by name,
-- comma-separated; `action` is warn, hide or blur. A v1 filter is a
-- filter with one keyword, whose id is the v1 id.
CREATE TABLE filters (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    context TEXT NOT NULL,
    action TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX filters_by_account ON filters (account_id, id);
CREATE TABLE filter_keywords (
    id INTEGER PRIMARY KEY,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX filter_keywords_by_filter ON filter_keywords (filter_id, id);
CREATE TABLE filter_statuses (
    id INTEGER PRIMARY KEY,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (filter_id, status_id)
);
-- A deleted status leaves the filters naming it (the cascade looks it up).
CREATE INDEX filter_statuses_by_status ON filter_statuses (status_id);

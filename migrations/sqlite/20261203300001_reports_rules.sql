-- The instance's rules, as admins set them (Mastodon's Rule entity), in
-- the order of `position`. Rules are never deleted while reports cite
-- them: a deleted rule keeps its row with `deleted_at` set.
CREATE TABLE instance_rules (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    hint TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Reports: `account_id` (a local user, or the remote actor whose Flag
-- brought the report) reports `target_account_id`.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The Flag activity's id, sent (when forwarded) or received.
    uri TEXT UNIQUE,
    comment TEXT NOT NULL DEFAULT '',
    -- spam, legal, violation or other (Mastodon's categories).
    category TEXT NOT NULL DEFAULT 'other',
    forwarded BOOLEAN NOT NULL DEFAULT FALSE,
    assigned_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_at BIGINT,
    action_taken_by_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reports_unresolved ON reports (id) WHERE action_taken_at IS NULL;
CREATE INDEX reports_target ON reports (target_account_id, id);
CREATE INDEX reports_reporter ON reports (account_id, id);

-- The statuses a report points at.
CREATE TABLE report_statuses (
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, status_id)
);
CREATE INDEX report_statuses_status ON report_statuses (status_id);

-- The rules a report says were broken.
CREATE TABLE report_rules (
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    rule_id BIGINT NOT NULL REFERENCES instance_rules (id),
    PRIMARY KEY (report_id, rule_id)
);

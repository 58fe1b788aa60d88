-- Moderators are notified of reports (`admin.report`) and of sign-ups
-- (`admin.sign_up`); a report notification points at its report, and one
-- reporter's reports each notify.
ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports (id) ON DELETE CASCADE;
DROP INDEX notifications_once;
CREATE UNIQUE INDEX notifications_once ON notifications
    (account_id, kind, from_account_id, COALESCE(status_id, 0), COALESCE(report_id, 0));
CREATE INDEX notifications_report ON notifications (report_id) WHERE report_id IS NOT NULL;

-- A reported status is kept for the moderators as it was reported, even
-- after its author deletes it: the row no longer follows the status.
CREATE TABLE report_statuses_kept (
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL,
    uri TEXT NOT NULL,
    url TEXT,
    content TEXT NOT NULL,
    spoiler_text TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL,
    visibility SMALLINT NOT NULL,
    language TEXT,
    in_reply_to_uri TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, status_id)
);
INSERT INTO report_statuses_kept
    SELECT rs.report_id, s.id, s.uri, s.url, s.content, s.spoiler_text, s.sensitive,
           s.visibility, s.language, s.in_reply_to_uri, s.created_at
    FROM report_statuses rs JOIN statuses s ON s.id = rs.status_id;
DROP TABLE report_statuses;
ALTER TABLE report_statuses_kept RENAME TO report_statuses;
CREATE INDEX report_statuses_status ON report_statuses (status_id);

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
ALTER TABLE report_statuses DROP CONSTRAINT report_statuses_status_id_fkey;
ALTER TABLE report_statuses
    ADD COLUMN uri TEXT NOT NULL DEFAULT '',
    ADD COLUMN url TEXT,
    ADD COLUMN content TEXT NOT NULL DEFAULT '',
    ADD COLUMN spoiler_text TEXT NOT NULL DEFAULT '',
    ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN visibility SMALLINT NOT NULL DEFAULT 0,
    ADD COLUMN language TEXT,
    ADD COLUMN in_reply_to_uri TEXT,
    ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE report_statuses rs SET uri = s.uri, url = s.url, content = s.content,
    spoiler_text = s.spoiler_text, sensitive = s.sensitive, visibility = s.visibility,
    language = s.language, in_reply_to_uri = s.in_reply_to_uri, created_at = s.created_at
    FROM statuses s WHERE s.id = rs.status_id;
ALTER TABLE report_statuses
    ALTER COLUMN uri DROP DEFAULT,
    ALTER COLUMN content DROP DEFAULT,
    ALTER COLUMN spoiler_text DROP DEFAULT,
    ALTER COLUMN sensitive DROP DEFAULT,
    ALTER COLUMN visibility DROP DEFAULT,
    ALTER COLUMN created_at DROP DEFAULT;

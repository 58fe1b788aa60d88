-- Deliveries keep their order per (inbox, object) instead of per inbox:
-- jobs about one object (a note's Create, Update and Delete; a Follow and
-- its Undo; a Like and its Undo) go to an inbox one after the other, and
-- jobs about other objects go out independently, so that one activity a
-- server keeps refusing holds back nothing else.
--
-- order_key names the object (a note's URI, or the pair of actors or the
-- actor and status that make a relation). Jobs enqueued before this
-- migration get their activity's URI without a trailing "/undo", so an
-- Undo already waiting for its activity keeps waiting for it.
--
-- Parking changes too: a job is parked behind an older pending job with
-- its key, or behind a due job of its inbox (one being attempted), and the
-- end of any attempt, a retry scheduled included, unparks the inbox's next
-- job that may go. Jobs parked before behind a job waiting for its retry
-- are unparked by the worker's periodic sweep, which runs when it starts.
ALTER TABLE deliveries ADD COLUMN order_key TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET order_key = COALESCE((
    SELECT CASE WHEN a.uri LIKE '%/undo' THEN substr(a.uri, 1, length(a.uri) - 5)
                ELSE a.uri END
    FROM outbound_activities a WHERE a.id = deliveries.activity_id), '');
DROP INDEX deliveries_pending_inbox;
-- The claim checks, for each due job, that no older job of its inbox and
-- key is pending; enqueueing a job looks up the same.
CREATE INDEX deliveries_pending_order ON deliveries (inbox_url, order_key, id) WHERE state = 0;
-- Enqueueing a job looks for a due job of its inbox, and the end of an
-- attempt for the inbox's first parked job.
CREATE INDEX deliveries_pending_inbox_due ON deliveries (inbox_url, next_attempt_at, id)
    WHERE state = 0;

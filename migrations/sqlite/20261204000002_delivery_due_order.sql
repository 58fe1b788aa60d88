-- The claim reads due jobs oldest first, in (next_attempt_at, id) order, a
-- few at a time. An index in that order lets it stop after those few,
-- instead of sorting every due job that shares a timestamp (a post to
-- many inboxes queues them all at one instant).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 0;

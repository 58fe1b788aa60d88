-- The claim checks, for each due job, that no older job of its inbox is
-- pending, and finishing a job looks up its inbox's next one: both by
-- inbox, oldest first, among pending jobs.
CREATE INDEX deliveries_pending_inbox ON deliveries (inbox_url, id) WHERE state = 0;

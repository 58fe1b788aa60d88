-- Indexes for the background purges of what is kept only for a while:
-- each purge reads the oldest rows first.
CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE state <> 0;
CREATE INDEX outbound_activities_created ON outbound_activities (created_at);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
CREATE INDEX status_idempotency_created ON status_idempotency (created_at);

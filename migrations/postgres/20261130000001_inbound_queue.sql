-- The inbound queue: verified activities, stored before the inbox answers
-- 202 and applied by workers in every process. A row stays until its
-- activity is applied (or refused, or given up after its last attempt).
-- Rows of the same actor are applied in arrival order, so that
-- a Create comes before its Update and Delete, a Follow before its Undo,
-- and an actor's posts keep their order.
CREATE TABLE inbound_activities (
    id BIGINT PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    actor_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    last_error TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX inbound_activities_actor ON inbound_activities (actor_account_id, id);
CREATE INDEX inbound_activities_due ON inbound_activities (next_attempt_at, id);

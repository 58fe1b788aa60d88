-- Inbound activities already applied, by id: a redelivered or replayed
-- activity is acknowledged without being applied twice.
CREATE TABLE received_activities (
    uri TEXT PRIMARY KEY,
    actor_account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    received_at BIGINT NOT NULL
);
CREATE INDEX received_activities_received_at ON received_activities (received_at);

-- Accounts are counted and listed per server (instance statistics, per-host views).
CREATE INDEX accounts_domain ON accounts (domain);

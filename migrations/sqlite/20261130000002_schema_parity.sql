-- Schema parity with PostgreSQL: primary keys that refuse NULL.
--
-- On SQLite a PRIMARY KEY column accepts NULL unless it is the rowid
-- (INTEGER PRIMARY KEY) or declared NOT NULL, and several NULLs do not
-- conflict; PostgreSQL refuses NULL in every primary key column. The text
-- keys below were declared without NOT NULL. SQLite cannot add NOT NULL to
-- an existing column, so each of these tables is rebuilt with its key
-- declared NOT NULL, its rows copied and its indexes recreated. A row whose
-- key is NULL could never be found by its key; it is not carried over.
-- No table references these six, so every foreign key stays intact.

CREATE TABLE refresh_tokens_parity (
    token_hash TEXT NOT NULL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES oauth_sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
INSERT INTO refresh_tokens_parity (token_hash, session_id, created_at, expires_at, used_at)
    SELECT token_hash, session_id, created_at, expires_at, used_at
    FROM refresh_tokens WHERE token_hash IS NOT NULL;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_parity RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE authorization_codes_parity (
    code_hash TEXT NOT NULL PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
INSERT INTO authorization_codes_parity (
    code_hash, app_id, account_id, redirect_uri, scopes, code_challenge,
    code_challenge_method, created_at, expires_at, used_at
)
    SELECT code_hash, app_id, account_id, redirect_uri, scopes, code_challenge,
        code_challenge_method, created_at, expires_at, used_at
    FROM authorization_codes WHERE code_hash IS NOT NULL;
DROP TABLE authorization_codes;
ALTER TABLE authorization_codes_parity RENAME TO authorization_codes;

CREATE TABLE jwt_keys_parity (
    kid TEXT NOT NULL PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
INSERT INTO jwt_keys_parity (kid, algorithm, private_key, public_key, created_at, retired_at)
    SELECT kid, algorithm, private_key, public_key, created_at, retired_at
    FROM jwt_keys WHERE kid IS NOT NULL;
DROP TABLE jwt_keys;
ALTER TABLE jwt_keys_parity RENAME TO jwt_keys;

CREATE TABLE received_activities_parity (
    uri TEXT NOT NULL PRIMARY KEY,
    actor_account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    received_at BIGINT NOT NULL
);
INSERT INTO received_activities_parity (uri, actor_account_id, received_at)
    SELECT uri, actor_account_id, received_at
    FROM received_activities WHERE uri IS NOT NULL;
DROP TABLE received_activities;
ALTER TABLE received_activities_parity RENAME TO received_activities;
CREATE INDEX received_activities_received_at ON received_activities (received_at);

CREATE TABLE gone_inboxes_parity (
    inbox_url TEXT NOT NULL PRIMARY KEY,
    gone_at BIGINT NOT NULL
);
INSERT INTO gone_inboxes_parity (inbox_url, gone_at)
    SELECT inbox_url, gone_at FROM gone_inboxes WHERE inbox_url IS NOT NULL;
DROP TABLE gone_inboxes;
ALTER TABLE gone_inboxes_parity RENAME TO gone_inboxes;

CREATE TABLE delivery_hosts_parity (
    host TEXT NOT NULL PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since BIGINT,
    circuit_open_until BIGINT,
    unavailable_since BIGINT,
    last_success_at BIGINT,
    last_failure_at BIGINT
);
INSERT INTO delivery_hosts_parity (
    host, consecutive_failures, failing_since, circuit_open_until,
    unavailable_since, last_success_at, last_failure_at
)
    SELECT host, consecutive_failures, failing_since, circuit_open_until,
        unavailable_since, last_success_at, last_failure_at
    FROM delivery_hosts WHERE host IS NOT NULL;
DROP TABLE delivery_hosts;
ALTER TABLE delivery_hosts_parity RENAME TO delivery_hosts;

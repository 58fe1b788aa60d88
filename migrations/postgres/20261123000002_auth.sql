-- Signing keys of JWT access tokens. Kept in the database so that every
-- process sharing it signs and verifies with the same keys; `kid` in a
-- token's header names its key, so keys can be rotated: a retired key still
-- verifies tokens until they expire, but signs no new ones.
CREATE TABLE jwt_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- Two-factor authentication: `totp_secret` (in users) is set when set-up
-- starts and confirmed by a first valid code; the last accepted time step
-- makes every code single-use.
ALTER TABLE users ADD COLUMN totp_confirmed_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_used_step BIGINT;

-- One-time recovery codes for two-factor sign-in, stored hashed.
CREATE TABLE recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

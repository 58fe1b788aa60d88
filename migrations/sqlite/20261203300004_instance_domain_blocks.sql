-- Servers an admin blocked for the whole instance (and their subdomains):
-- severity noop, silence or suspend (perch_core's Severity), with media
-- and reports rejected or not, and comments for the moderators and for
-- the public.
CREATE TABLE instance_domain_blocks (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    severity TEXT NOT NULL,
    reject_media BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports BOOLEAN NOT NULL DEFAULT FALSE,
    private_comment TEXT NOT NULL DEFAULT '',
    public_comment TEXT NOT NULL DEFAULT '',
    obfuscate BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- In allow-list mode, the only servers the instance federates with.
CREATE TABLE instance_domain_allows (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

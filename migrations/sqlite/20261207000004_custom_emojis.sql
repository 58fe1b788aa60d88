-- Custom emoji: this server's own (`domain` NULL, added by an admin) and
-- other servers' as their notes' and actors' `Emoji` tags name them.
CREATE TABLE custom_emojis (
    id INTEGER PRIMARY KEY,
    shortcode TEXT NOT NULL,
    domain TEXT,
    image_url TEXT NOT NULL,
    uri TEXT,
    category TEXT,
    visible_in_picker BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_emojis_shortcode_domain
    ON custom_emojis (shortcode, COALESCE(domain, ''));

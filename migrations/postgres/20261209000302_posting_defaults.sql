-- What a user's new posts start with, as set through
-- `update_credentials` (`source[privacy]`, `source[sensitive]`,
-- `source[language]`): no visibility means the account's default
-- (followers only when locked, public otherwise), no language the user's
-- locale.
ALTER TABLE users ADD COLUMN default_visibility SMALLINT;
ALTER TABLE users ADD COLUMN default_sensitive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN default_language TEXT;

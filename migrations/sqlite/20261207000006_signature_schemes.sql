-- Which HTTP signature scheme each server accepted last (draft-cavage or
-- RFC 9421), so that deliveries and fetches to a server seen before use it
-- at once instead of trying RFC 9421 first. A server without a row has not
-- answered a signed request yet.
CREATE TABLE signature_schemes (
    host TEXT NOT NULL PRIMARY KEY,
    scheme TEXT NOT NULL CHECK (scheme = 'cavage' OR scheme = 'rfc9421'),
    updated_at BIGINT NOT NULL
);

-- Full-text search of statuses: `search_text` is a status's content
-- warning and text without markup (written by the application; NULL for
-- reblogs), indexed with PostgreSQL's text search ('simple': lower-cased
-- words, no stemming, any language). Statuses stored before this
-- migration get their text with the markup cut out here.
ALTER TABLE statuses ADD COLUMN search_text TEXT;
UPDATE statuses SET search_text = regexp_replace(spoiler_text || ' ' || content, '<[^>]*>', ' ', 'g')
WHERE reblog_of_id IS NULL;
CREATE INDEX statuses_search ON statuses
    USING GIN (to_tsvector('simple', COALESCE(search_text, '')));

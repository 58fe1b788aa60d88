-- Full-text search of statuses: `search_text` is a status's content
-- warning and text without markup (written by the application; NULL for
-- reblogs), indexed by an FTS5 table over it (unicode61: lower-cased words,
-- diacritics folded, no stemming) that triggers keep in step. Statuses
-- stored before this migration are indexed with their markup, which
-- SQLite cannot cut out; their tags' names become words too.
ALTER TABLE statuses ADD COLUMN search_text TEXT;
UPDATE statuses SET search_text = spoiler_text || ' ' || content WHERE reblog_of_id IS NULL;
CREATE VIRTUAL TABLE status_search USING fts5(
    search_text,
    content = 'statuses',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO status_search (status_search) VALUES ('rebuild');
CREATE TRIGGER status_search_insert AFTER INSERT ON statuses
WHEN new.search_text IS NOT NULL
BEGIN
    INSERT INTO status_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER status_search_delete AFTER DELETE ON statuses
WHEN old.search_text IS NOT NULL
BEGIN
    INSERT INTO status_search (status_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER status_search_update AFTER UPDATE OF search_text ON statuses
BEGIN
    INSERT INTO status_search (status_search, rowid, search_text)
    SELECT 'delete', old.id, old.search_text WHERE old.search_text IS NOT NULL;
    INSERT INTO status_search (rowid, search_text)
    SELECT new.id, new.search_text WHERE new.search_text IS NOT NULL;
END;

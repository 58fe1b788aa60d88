-- A local account its owner (or an administrator) deleted: its content is
-- gone, its sessions ended, its row and key kept so that the Delete of the
-- actor can still be signed and delivered, its username kept from reuse,
-- and its actor answered with a Tombstone (410). NULL: not deleted.
ALTER TABLE accounts ADD COLUMN deleted_at BIGINT;

-- Erasure of a contact (issue 17): the row stays, emptied, so the conversations that
-- name it keep their contact; every read of contacts leaves erased ones out.
ALTER TABLE contacts ADD COLUMN erased_at INTEGER;

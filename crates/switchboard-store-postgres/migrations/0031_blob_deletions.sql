-- Blobs whose attachment rows were deleted (retention, erasure), queued in the same
-- transaction as the delete: core removes the files and then these rows, so a crash in
-- between leaves a file to remove again, never a file nobody knows of.
CREATE TABLE blob_deletions (
    blob_key   TEXT PRIMARY KEY,
    queued_at  BIGINT NOT NULL
);

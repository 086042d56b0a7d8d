-- The full-text index is no longer written by the log's batches: FTS5 writes a new
-- segment, and merges, at every commit that touches it, which made every small commit
-- dearer. Messages are indexed a few times a second, and before every search, up to the
-- rowid recorded here (in the same transaction as the index rows, so a crash re-indexes
-- what it lost). SQLite only. Everything stored so far is already indexed.
CREATE TABLE search_progress (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_rowid  INTEGER NOT NULL
);
INSERT INTO search_progress (id, indexed_rowid) SELECT 1, coalesce(max(rowid), 0) FROM messages;

-- Nothing to change here: the SQLite migration of the same name moves its FTS5 index out
-- of the log's commits. PostgreSQL keeps each message's `search` tsvector in the message's
-- own row, written with it. The file keeps both backends' migration numbers in step.
SELECT 1;

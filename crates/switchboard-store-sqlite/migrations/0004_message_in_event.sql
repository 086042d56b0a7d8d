-- A message is stored once, in the columns of its event, instead of as an `events` row
-- and a `messages` row joined by id. Appending a message used to change eight b-trees
-- (two tables, two primary keys, the client-id key, `messages_workspace`,
-- `events_message`, `(conversation_id, seq)`) and check four foreign keys; it now changes
-- four (the table, its primary key, `(conversation_id, seq)`, the client-id key) and
-- checks two, and reading the log no longer joins. Same file name in the PostgreSQL
-- migrations.
--
-- SQLite cannot drop a column's foreign key, so the table is rebuilt. Nothing refers to
-- `events`, and the old table (the only one referring to `messages`) goes first.
CREATE TABLE events_new (
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    feed_seq         INTEGER NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT,
    data             TEXT NOT NULL,
    at               INTEGER NOT NULL,
    -- The message of a `message` or `note` event; NULL on every other event.
    message_id       TEXT,
    -- Chosen by the author's client; a retry with the same one gets this message back.
    client_id        TEXT,
    -- "kind:id" of the author: client ids are unique per author.
    author_key       TEXT,
    body             TEXT,
    format           TEXT,
    attachments      TEXT,
    PRIMARY KEY (workspace_id, feed_seq),
    UNIQUE (conversation_id, seq)
);

INSERT INTO events_new (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at,
                        message_id, client_id, author_key, body, format, attachments)
SELECT e.workspace_id, e.feed_seq, e.conversation_id, e.seq, e.kind, e.visibility, e.actor_kind, e.actor_id, e.data, e.at,
       m.id, m.client_id, m.author_key, m.body, m.format, m.attachments
FROM events e LEFT JOIN messages m ON m.id = e.message_id
ORDER BY e.workspace_id, e.feed_seq;

DROP TABLE events;
DROP TABLE messages;
ALTER TABLE events_new RENAME TO events;

CREATE UNIQUE INDEX events_client_id ON events(author_key, client_id) WHERE client_id IS NOT NULL;

-- SQLite-only: the full-text index was keyed by the messages' rowids; it is now keyed by
-- the events' and built again from the start by the background indexer.
INSERT INTO message_search (message_search) VALUES ('delete-all');
UPDATE search_progress SET indexed_rowid = 0;

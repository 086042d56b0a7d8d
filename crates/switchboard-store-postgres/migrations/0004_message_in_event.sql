-- A message is stored once, in the columns of its event, instead of as an `events` row
-- and a `messages` row joined by id: one insert per message instead of two, three
-- foreign-key checks fewer, and reading the log no longer joins. Same file name in the
-- SQLite migrations.
ALTER TABLE events
    ADD COLUMN client_id    TEXT,
    ADD COLUMN author_key   TEXT,
    ADD COLUMN body         TEXT,
    ADD COLUMN format       TEXT,
    ADD COLUMN attachments  TEXT,
    -- Postgres-only: the message's search words (see 0001_init.sql); SQLite has FTS5.
    ADD COLUMN search       TSVECTOR;

UPDATE events e
SET client_id = m.client_id, author_key = m.author_key, body = m.body, format = m.format,
    attachments = m.attachments, search = m.search
FROM messages m
WHERE m.id = e.message_id;

ALTER TABLE events DROP CONSTRAINT events_message_id_fkey;
DROP INDEX events_message;
DROP TABLE messages;

CREATE UNIQUE INDEX events_client_id ON events(author_key, client_id) WHERE client_id IS NOT NULL;
-- Postgres-only: GIN index for `search @@ tsquery` (SQLite uses its FTS5 table).
CREATE INDEX events_search ON events USING GIN (search) WHERE search IS NOT NULL;

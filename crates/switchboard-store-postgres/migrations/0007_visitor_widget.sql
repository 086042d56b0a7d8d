-- What the visitor widget needs from the server (issue 12).

-- A visitor rates a resolved conversation (1 to 5, an optional comment); a new rating
-- replaces the old one. The `conversation_rated` event keeps each rating in the log.
ALTER TABLE conversations ADD COLUMN rating_score BIGINT;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
ALTER TABLE conversations ADD COLUMN rated_at BIGINT;

-- When an agent was last seen online (a socket opened or closed): the launcher shows
-- online agents first, then the most recently active.
ALTER TABLE agents ADD COLUMN last_active_at BIGINT;

-- A visitor asked for a conversation's transcript by e-mail; the e-mail channel sends
-- it and sets `sent_at`.
CREATE TABLE transcript_requests (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id  UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    requested_at     BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX transcript_requests_conversation ON transcript_requests(conversation_id);
CREATE INDEX transcript_requests_unsent ON transcript_requests(workspace_id, requested_at) WHERE sent_at IS NULL;

-- What the business's page tracked about a visitor (`Switchboard.track(name, data)`).
CREATE TABLE contact_events (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id    UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    data          TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX contact_events_contact ON contact_events(contact_id, at, id);

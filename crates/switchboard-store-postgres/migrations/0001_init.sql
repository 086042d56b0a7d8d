-- Switchboard schema, PostgreSQL flavour. The SQLite migration of the same name
-- creates the same tables and columns (a test in this crate compares them).
-- Postgres-only: ids are native UUID and times/sequences BIGINT (Unix milliseconds),
-- where SQLite stores UUID text and its 64-bit INTEGER. JSON stays TEXT, in the
-- format of switchboard_store::codec, so rows move between backends unchanged.

CREATE TABLE workspaces (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    -- Last feed sequence handed out; bumped inside the batch that commits events.
    -- The row lock taken by that UPDATE is held until commit, which serialises the
    -- writers of one workspace across nodes.
    feed_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE agents (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    avatar_url     TEXT,
    locale         TEXT NOT NULL,
    max_chats      BIGINT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX agents_workspace ON agents(workspace_id);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    agent_id      UUID NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id);

CREATE TABLE teams (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id   UUID NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id  UUID NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
-- Postgres-only: deleting an agent cascades here; without it that is a table scan.
CREATE INDEX team_members_agent ON team_members(agent_id);

CREATE TABLE sites (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    public_key       TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL,
    appearance       TEXT NOT NULL,
    prechat_form     TEXT NOT NULL,
    identity_secret  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX sites_workspace ON sites(workspace_id);

CREATE TABLE canned_responses (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, shortcut)
);

CREATE TABLE contacts (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id       UUID REFERENCES sites(id) ON DELETE SET NULL,
    external_id   TEXT,
    name          TEXT,
    email         TEXT,
    phone         TEXT,
    attributes    TEXT NOT NULL,
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    language      TEXT,
    -- Name, e-mail, phone and external id folded by search::normalize.
    search_text   TEXT NOT NULL,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_external_id ON contacts(workspace_id, external_id);
CREATE INDEX contacts_last_seen ON contacts(workspace_id, last_seen);

CREATE TABLE page_views (
    -- Postgres-only: BIGSERIAL is SQLite's INTEGER PRIMARY KEY AUTOINCREMENT.
    id          BIGSERIAL PRIMARY KEY,
    contact_id  UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    title       TEXT,
    referrer    TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX page_views_contact ON page_views(contact_id, at);

CREATE TABLE attachments (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    uploader_kind  TEXT NOT NULL,
    uploader_id    UUID,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    width          BIGINT,
    height         BIGINT,
    blob_key       TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE conversations (
    id                     UUID PRIMARY KEY,
    workspace_id           UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id                UUID NOT NULL REFERENCES sites(id),
    contact_id             UUID NOT NULL REFERENCES contacts(id),
    status                 TEXT NOT NULL,
    snoozed_until          BIGINT,
    assignee_id            UUID REFERENCES agents(id) ON DELETE SET NULL,
    team_id                UUID REFERENCES teams(id) ON DELETE SET NULL,
    priority               TEXT NOT NULL,
    labels                 TEXT NOT NULL,
    last_seq               BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    first_reply_at         BIGINT,
    assigned_at            BIGINT,
    resolved_at            BIGINT,
    waiting_since          BIGINT,
    last_message_at        BIGINT,
    last_message_seq       BIGINT NOT NULL DEFAULT 0,
    updated_at             BIGINT NOT NULL,
    visitor_delivered_seq  BIGINT NOT NULL,
    visitor_read_seq       BIGINT NOT NULL,
    agent_delivered_seq    BIGINT NOT NULL,
    agent_read_seq         BIGINT NOT NULL
);
CREATE INDEX conversations_inbox ON conversations(workspace_id, updated_at, id);
CREATE INDEX conversations_contact ON conversations(contact_id);
CREATE INDEX conversations_site ON conversations(site_id);
-- Postgres-only: deleting an agent or a team sets these to NULL; index the lookups.
CREATE INDEX conversations_assignee ON conversations(assignee_id);
CREATE INDEX conversations_team ON conversations(team_id);

CREATE TABLE messages (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL,
    conversation_id  UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    author_kind      TEXT NOT NULL,
    author_id        UUID,
    -- "kind:id" of the author: client ids are unique per author.
    author_key       TEXT NOT NULL,
    client_id        TEXT,
    kind             TEXT NOT NULL,
    body             TEXT NOT NULL,
    format           TEXT NOT NULL,
    attachments      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- Postgres-only: the full-text index lives on the row instead of in an FTS5
    -- table. Lexemes are the words of search::normalize(body + attachment names),
    -- split in Rust (array_to_tsvector), so no text-search parser or database
    -- locale decides what a word is: both backends index the same words.
    search           TSVECTOR NOT NULL,
    UNIQUE (author_key, client_id)
);
CREATE INDEX messages_workspace ON messages(workspace_id, created_at);
-- Postgres-only: GIN index for `search @@ tsquery` (SQLite uses its FTS5 table).
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE TABLE events (
    workspace_id     UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    feed_seq         BIGINT NOT NULL,
    conversation_id  UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         UUID,
    message_id       UUID REFERENCES messages(id),
    data             TEXT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, feed_seq),
    UNIQUE (conversation_id, seq)
);
-- Postgres-only: a retried message is looked up through its event, and deleting a
-- message checks the events that reference it; both need this index.
CREATE INDEX events_message ON events(message_id);

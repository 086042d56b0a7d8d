-- Switchboard schema, SQLite flavour. The PostgreSQL migration of the same name
-- creates the same tables and columns. Ids are UUID text, times are Unix milliseconds.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- Last feed sequence handed out; bumped inside the batch that commits events.
    feed_seq    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    avatar_url     TEXT,
    locale         TEXT NOT NULL,
    max_chats      INTEGER NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX agents_workspace ON agents(workspace_id);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id);

CREATE TABLE teams (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id  TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE sites (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    public_key       TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL,
    appearance       TEXT NOT NULL,
    prechat_form     TEXT NOT NULL,
    identity_secret  TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX sites_workspace ON sites(workspace_id);

CREATE TABLE canned_responses (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, shortcut)
);

CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id       TEXT REFERENCES sites(id) ON DELETE SET NULL,
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
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_external_id ON contacts(workspace_id, external_id);
CREATE INDEX contacts_last_seen ON contacts(workspace_id, last_seen);

CREATE TABLE page_views (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    title       TEXT,
    referrer    TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX page_views_contact ON page_views(contact_id, at);

CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    uploader_kind  TEXT NOT NULL,
    uploader_id    TEXT,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    width          INTEGER,
    height         INTEGER,
    blob_key       TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE conversations (
    id                     TEXT PRIMARY KEY,
    workspace_id           TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id                TEXT NOT NULL REFERENCES sites(id),
    contact_id             TEXT NOT NULL REFERENCES contacts(id),
    status                 TEXT NOT NULL,
    snoozed_until          INTEGER,
    assignee_id            TEXT REFERENCES agents(id) ON DELETE SET NULL,
    team_id                TEXT REFERENCES teams(id) ON DELETE SET NULL,
    priority               TEXT NOT NULL,
    labels                 TEXT NOT NULL,
    last_seq               INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    first_reply_at         INTEGER,
    assigned_at            INTEGER,
    resolved_at            INTEGER,
    waiting_since          INTEGER,
    last_message_at        INTEGER,
    last_message_seq       INTEGER NOT NULL DEFAULT 0,
    updated_at             INTEGER NOT NULL,
    visitor_delivered_seq  INTEGER NOT NULL,
    visitor_read_seq       INTEGER NOT NULL,
    agent_delivered_seq    INTEGER NOT NULL,
    agent_read_seq         INTEGER NOT NULL
);
CREATE INDEX conversations_inbox ON conversations(workspace_id, updated_at, id);
CREATE INDEX conversations_contact ON conversations(contact_id);
CREATE INDEX conversations_site ON conversations(site_id);

CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    author_kind      TEXT NOT NULL,
    author_id        TEXT,
    -- "kind:id" of the author: client ids are unique per author.
    author_key       TEXT NOT NULL,
    client_id        TEXT,
    kind             TEXT NOT NULL,
    body             TEXT NOT NULL,
    format           TEXT NOT NULL,
    attachments      TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (author_key, client_id)
);
CREATE INDEX messages_workspace ON messages(workspace_id, created_at);

CREATE TABLE events (
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    feed_seq         INTEGER NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT,
    message_id       TEXT REFERENCES messages(id),
    data             TEXT NOT NULL,
    at               INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, feed_seq),
    UNIQUE (conversation_id, seq)
);
CREATE INDEX events_message ON events(message_id);
CREATE INDEX team_members_agent ON team_members(agent_id);
CREATE INDEX conversations_assignee ON conversations(assignee_id);
CREATE INDEX conversations_team ON conversations(team_id);

-- SQLite-only: full-text index over normalised message text (rowid = messages.rowid).
-- The PostgreSQL migration uses a tsvector column instead.
CREATE VIRTUAL TABLE message_search USING fts5(text, content='', tokenize='unicode61 remove_diacritics 0');

-- What the agent dashboard needs (issue 13): an agent's own status, notification
-- preferences and whether they are active; personal canned responses; managed labels.

-- The status an agent shows the team while connected ('online' or 'away'); offline is
-- known by presence (no dashboard open), not stored.
ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away'));
ALTER TABLE agents ADD COLUMN notify_sound INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN notify_desktop INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN notify_new_conversation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN notify_new_message INTEGER NOT NULL DEFAULT 1;
-- A deactivated agent keeps their history but cannot sign in or hold conversations.
ALTER TABLE agents ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

-- Canned responses belong to the workspace (owner_id NULL) or to one agent. A shortcut
-- is unique among the workspace's and among each agent's own, so SQLite's table-level
-- UNIQUE (workspace_id, shortcut) has to go: the table is rebuilt (it is small).
CREATE TABLE canned_responses_new (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    owner_id      TEXT REFERENCES agents(id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
INSERT INTO canned_responses_new (id, workspace_id, owner_id, shortcut, body, created_at)
    SELECT id, workspace_id, NULL, shortcut, body, created_at FROM canned_responses;
DROP TABLE canned_responses;
ALTER TABLE canned_responses_new RENAME TO canned_responses;
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses(workspace_id, COALESCE(owner_id, ''), shortcut);

-- Labels the workspace manages. Conversations keep label names in their own column;
-- a name there need not be here.
CREATE TABLE labels (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    color         TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

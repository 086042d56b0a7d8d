-- What the agent dashboard needs (issue 13): an agent's own status, notification
-- preferences and whether they are active; personal canned responses; managed labels.

-- The status an agent shows the team while connected ('online' or 'away'); offline is
-- known by presence (no dashboard open), not stored.
ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away'));
ALTER TABLE agents ADD COLUMN notify_sound BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_desktop BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_new_conversation BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_new_message BOOLEAN NOT NULL DEFAULT TRUE;
-- A deactivated agent keeps their history but cannot sign in or hold conversations.
ALTER TABLE agents ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

-- Canned responses belong to the workspace (owner_id NULL) or to one agent. A shortcut
-- is unique among the workspace's and among each agent's own.
ALTER TABLE canned_responses ADD COLUMN owner_id UUID REFERENCES agents(id) ON DELETE CASCADE;
ALTER TABLE canned_responses DROP CONSTRAINT canned_responses_workspace_id_shortcut_key;
CREATE UNIQUE INDEX canned_responses_shortcut
    ON canned_responses(workspace_id, COALESCE(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), shortcut);

-- Labels the workspace manages. Conversations keep label names in their own column;
-- a name there need not be here.
CREATE TABLE labels (
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    color         TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

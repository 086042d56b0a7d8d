-- Routing, capacity and the waiting queue (issue 14).

-- How many open chats routing gives an agent without a limit of their own.
ALTER TABLE workspaces ADD COLUMN default_max_chats BIGINT NOT NULL DEFAULT 5;

-- An agent's own limit; NULL follows the workspace's default. It replaces `max_chats`,
-- which is kept, unused, so both backends keep the same columns (SQLite cannot make a
-- column nullable in place). Agents who kept the old default of 5 now follow the workspace.
ALTER TABLE agents ADD COLUMN chat_limit BIGINT;
UPDATE agents SET chat_limit = max_chats WHERE max_chats <> 5;

-- A team's routing settings.
ALTER TABLE teams ADD COLUMN strategy TEXT NOT NULL DEFAULT 'balanced' CHECK (strategy IN ('manual', 'round_robin', 'balanced'));
ALTER TABLE teams ADD COLUMN sticky BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE teams ADD COLUMN reroute_after_seconds BIGINT;
ALTER TABLE teams ADD COLUMN reroute_when_offline BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE teams ADD COLUMN max_wait_seconds BIGINT;

-- The team a site's conversations go to (NULL: the workspace-wide queue).
ALTER TABLE sites ADD COLUMN default_team_id UUID REFERENCES teams(id) ON DELETE SET NULL;

-- Since when a conversation waits in its team's queue (NULL: not queued).
ALTER TABLE conversations ADD COLUMN queued_at BIGINT;
CREATE INDEX conversations_queued ON conversations(workspace_id, queued_at) WHERE queued_at IS NOT NULL;
-- Routing counts each agent's open places.
CREATE INDEX conversations_assignee_status ON conversations(assignee_id, status) WHERE assignee_id IS NOT NULL;

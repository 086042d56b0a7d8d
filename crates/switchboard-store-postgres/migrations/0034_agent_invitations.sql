-- Invitations to join a workspace as an agent, by e-mail. Only the SHA-256 of the
-- link's token is kept (`token_hash`); a resend replaces it. `team_ids` is a JSON array
-- of team ids. At most one pending (neither used nor revoked) invitation per workspace
-- and e-mail; the store revokes an expired one before a new one takes its place.
CREATE TABLE agent_invitations (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    name         TEXT,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    team_ids     TEXT NOT NULL,
    max_chats    BIGINT,
    locale       TEXT NOT NULL,
    invited_by   UUID REFERENCES agents(id) ON DELETE SET NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT,
    mail_state   TEXT NOT NULL CHECK (mail_state IN ('not_sent', 'queued', 'sent', 'failed')),
    mail_error   TEXT
);
CREATE UNIQUE INDEX agent_invitations_pending ON agent_invitations(workspace_id, email) WHERE used_at IS NULL AND revoked_at IS NULL;

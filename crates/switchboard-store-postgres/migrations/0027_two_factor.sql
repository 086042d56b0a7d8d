-- Two-factor sign-in (issue 17): an agent's TOTP secret, the last time step accepted
-- (a code is good once), one-time recovery codes (hashes only), and whether the
-- workspace requires a second factor of every agent.

CREATE TABLE agent_two_factor (
    agent_id      UUID PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    -- NULL while enrolment waits for its first code.
    enabled_at    BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    agent_id      UUID NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    code_hash     TEXT NOT NULL,
    used_at       BIGINT,
    PRIMARY KEY (agent_id, code_hash)
);

ALTER TABLE workspaces ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- A session signed in while the workspace required a second factor the agent had not
-- set up: it may only enrol (and sign out) until the agent enables one.
ALTER TABLE sessions ADD COLUMN must_enrol BOOLEAN NOT NULL DEFAULT FALSE;

-- The audit log (issue 17): administrative actions and who read which transcript or
-- contact. Listed newest first, by owners, filtered by actor, action, target and time.
-- action and target_kind are names core knows (AuditAction, AuditTargetKind).

CREATE TABLE audit_log (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    -- 'agent', 'integration' or 'system'; actor_id is NULL for the system.
    actor_kind    TEXT NOT NULL,
    actor_id      UUID,
    action        TEXT NOT NULL,
    target_kind   TEXT,
    target_id     UUID,
    detail        TEXT
);
-- The page order, and the lookup that coalesces a reader's repeated reads.
CREATE INDEX audit_log_page ON audit_log(workspace_id, at DESC, id DESC);
CREATE INDEX audit_log_reads ON audit_log(workspace_id, actor_id, target_id, action, at);

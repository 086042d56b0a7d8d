-- Bans (issue 17): a workspace refuses a range of addresses, a contact or an e-mail,
-- with a reason, an optional expiry and who decided it. `value` is the target as
-- `BanTarget::value` prints it (a CIDR range, a contact id, a lower-cased e-mail).
CREATE TABLE bans (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('ip', 'contact', 'email')),
    value          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    expires_at     INTEGER,
    created_by_kind TEXT NOT NULL,
    created_by_id  TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX bans_by_workspace ON bans(workspace_id, created_at);

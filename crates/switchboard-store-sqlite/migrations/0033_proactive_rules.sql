-- Proactive rules, lead scores and conversions (issue 15).
-- A site's rules: conditions and actions as JSON (store/src/proactive.rs), with their counts.
CREATE TABLE triggers (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    conditions       TEXT NOT NULL,
    actions          TEXT NOT NULL,
    frequency        TEXT NOT NULL CHECK (frequency IN ('once_per_visitor', 'once_per_visit', 'every_days')),
    every_days       INTEGER,
    fired            INTEGER NOT NULL DEFAULT 0,
    opened           INTEGER NOT NULL DEFAULT 0,
    answered         INTEGER NOT NULL DEFAULT 0,
    converted        INTEGER NOT NULL DEFAULT 0,
    conversion_value REAL NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX triggers_by_site ON triggers(workspace_id, site_id, created_at);

-- Each time a rule fired for a contact: what its cap reads; with the invitation it
-- showed, whose opening and answer are counted once.
CREATE TABLE trigger_firings (
    id             INTEGER PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    trigger_id     TEXT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    site_id        TEXT NOT NULL,
    contact_id     TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    visit_id       TEXT NOT NULL,
    at             INTEGER NOT NULL,
    invitation_id  TEXT,
    opened_at      INTEGER,
    answered_at    INTEGER
);
CREATE INDEX trigger_firings_by_contact ON trigger_firings(contact_id, trigger_id, at);
CREATE UNIQUE INDEX trigger_firings_by_invitation ON trigger_firings(invitation_id);

-- The workspace's scoring rules (JSON), decay and priority threshold.
CREATE TABLE scoring_settings (
    workspace_id   TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    rules          TEXT NOT NULL,
    half_life_days INTEGER,
    priority_at    INTEGER
);

-- Points given once (per visit or ever) to a contact under a scoring rule.
CREATE TABLE score_awards (
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    rule_key    TEXT NOT NULL,
    once_key    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (contact_id, rule_key, once_key)
);

-- The contact's score at `lead_score_at`, decaying with `lead_score_half_life` days.
ALTER TABLE contacts ADD COLUMN lead_score REAL NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN lead_score_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN lead_score_half_life INTEGER;

-- What rules left for the contact's next conversation.
CREATE TABLE pending_actions (
    contact_id   TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    labels       TEXT NOT NULL,
    priority     TEXT
);

-- A site's conversion events tracked by visitors, with what they are credited to.
CREATE TABLE conversions (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id         TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    contact_id      TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    value           REAL,
    at              INTEGER NOT NULL,
    conversation_id TEXT,
    trigger_id      TEXT
);
CREATE INDEX conversions_by_site ON conversions(workspace_id, site_id, at, id);


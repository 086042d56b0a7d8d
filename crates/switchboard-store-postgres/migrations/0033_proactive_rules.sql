-- Proactive rules, lead scores and conversions (issue 15).
-- A site's rules: conditions and actions as JSON (store/src/proactive.rs), with their counts.
CREATE TABLE triggers (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id          UUID NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL,
    conditions       TEXT NOT NULL,
    actions          TEXT NOT NULL,
    frequency        TEXT NOT NULL CHECK (frequency IN ('once_per_visitor', 'once_per_visit', 'every_days')),
    every_days       BIGINT,
    fired            BIGINT NOT NULL DEFAULT 0,
    opened           BIGINT NOT NULL DEFAULT 0,
    answered         BIGINT NOT NULL DEFAULT 0,
    converted        BIGINT NOT NULL DEFAULT 0,
    conversion_value DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX triggers_by_site ON triggers(workspace_id, site_id, created_at);

-- Each time a rule fired for a contact: what its cap reads; with the invitation it
-- showed, whose opening and answer are counted once.
CREATE TABLE trigger_firings (
    id             BIGSERIAL PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    trigger_id     UUID NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    site_id        UUID NOT NULL,
    contact_id     UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    visit_id       UUID NOT NULL,
    at             BIGINT NOT NULL,
    invitation_id  UUID,
    opened_at      BIGINT,
    answered_at    BIGINT
);
CREATE INDEX trigger_firings_by_contact ON trigger_firings(contact_id, trigger_id, at);
CREATE UNIQUE INDEX trigger_firings_by_invitation ON trigger_firings(invitation_id);

-- The workspace's scoring rules (JSON), decay and priority threshold.
CREATE TABLE scoring_settings (
    workspace_id   UUID PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    rules          TEXT NOT NULL,
    half_life_days BIGINT,
    priority_at    BIGINT
);

-- Points given once (per visit or ever) to a contact under a scoring rule.
CREATE TABLE score_awards (
    contact_id  UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    rule_key    TEXT NOT NULL,
    once_key    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (contact_id, rule_key, once_key)
);

-- The contact's score at `lead_score_at`, decaying with `lead_score_half_life` days.
ALTER TABLE contacts ADD COLUMN lead_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN lead_score_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN lead_score_half_life BIGINT;

-- What rules left for the contact's next conversation.
CREATE TABLE pending_actions (
    contact_id   UUID PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    labels       TEXT NOT NULL,
    priority     TEXT
);

-- A site's conversion events tracked by visitors, with what they are credited to.
CREATE TABLE conversions (
    id              UUID PRIMARY KEY,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id         UUID NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    contact_id      UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    value           DOUBLE PRECISION,
    at              BIGINT NOT NULL,
    conversation_id UUID,
    trigger_id      UUID
);
CREATE INDEX conversions_by_site ON conversions(workspace_id, site_id, at, id);


-- Live visitors (issue 15): a site's tracking mode and conversion events; visits (a
-- contact's pages to a site until 30 minutes pass without one) and their pages; the
-- invitations shown to live visitors.
ALTER TABLE sites ADD COLUMN tracking TEXT NOT NULL DEFAULT 'on' CHECK (tracking IN ('on', 'consent', 'off'));
-- A JSON array of event names.
ALTER TABLE sites ADD COLUMN conversion_events TEXT NOT NULL DEFAULT '[]';

CREATE TABLE visits (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id       UUID NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    contact_id    UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    started_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    referrer      TEXT,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_term      TEXT,
    utm_content   TEXT,
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    language      TEXT,
    country       TEXT
);
CREATE INDEX visits_contact ON visits(contact_id, started_at);
CREATE INDEX visits_site_contact ON visits(site_id, contact_id);

-- Pages written before visits existed have none.
ALTER TABLE page_views ADD COLUMN visit_id UUID REFERENCES visits(id) ON DELETE CASCADE;
CREATE INDEX page_views_visit ON page_views(visit_id, at);

CREATE TABLE invitations (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    site_id          UUID NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    contact_id       UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    body             TEXT,
    agent_id         UUID REFERENCES agents(id) ON DELETE SET NULL,
    -- The rule that sent it (rules' table; no foreign key so either side merges alone).
    trigger_id       UUID,
    open             BOOLEAN NOT NULL,
    typing_ms        INTEGER NOT NULL,
    created_at       BIGINT NOT NULL,
    opened_at        BIGINT,
    answered_at      BIGINT,
    conversation_id  UUID REFERENCES conversations(id) ON DELETE SET NULL
);
CREATE INDEX invitations_contact ON invitations(contact_id, created_at);

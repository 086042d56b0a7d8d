-- A conversation belongs to an inbox: a website (a site), and later an e-mail address,
-- a Telegram bot or the API. A website's inbox has its site's id, so today's site ids
-- and URLs name their inboxes too.
CREATE TABLE inboxes (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('website', 'email', 'telegram', 'api')),
    created_at    BIGINT NOT NULL
);
CREATE INDEX inboxes_workspace ON inboxes(workspace_id);

-- Every existing site becomes a website inbox.
INSERT INTO inboxes (id, workspace_id, name, kind, created_at)
    SELECT id, workspace_id, name, 'website', created_at FROM sites;

-- A site and its inbox stay one thing: created, renamed and deleted together, in the
-- statement that changes the site, whichever code writes it.
CREATE FUNCTION sites_inbox_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inboxes (id, workspace_id, name, kind, created_at)
            VALUES (NEW.id, NEW.workspace_id, NEW.name, 'website', NEW.created_at);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE inboxes SET name = NEW.name WHERE id = NEW.id;
    ELSE
        DELETE FROM inboxes WHERE id = OLD.id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sites_inbox_insert AFTER INSERT ON sites FOR EACH ROW EXECUTE FUNCTION sites_inbox_sync();
CREATE TRIGGER sites_inbox_rename AFTER UPDATE OF name ON sites FOR EACH ROW EXECUTE FUNCTION sites_inbox_sync();
CREATE TRIGGER sites_inbox_delete AFTER DELETE ON sites FOR EACH ROW EXECUTE FUNCTION sites_inbox_sync();

-- Every conversation gets its inbox. `inbox_kind` copies the inbox's kind, which never
-- changes, so reading a conversation needs no join. Nullable only to match SQLite's
-- schema, which cannot add a NOT NULL column with a foreign key; every row is filled.
ALTER TABLE conversations ADD COLUMN inbox_id UUID REFERENCES inboxes(id);
ALTER TABLE conversations ADD COLUMN inbox_kind TEXT NOT NULL DEFAULT 'website';
UPDATE conversations SET inbox_id = site_id;
CREATE INDEX conversations_inbox_id ON conversations(inbox_id);

-- Reports and business hours count days in the workspace's time zone (an IANA name).
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

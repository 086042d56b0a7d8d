-- A conversation belongs to an inbox: a website (a site), and later an e-mail address,
-- a Telegram bot or the API. A website's inbox has its site's id, so today's site ids
-- and URLs name their inboxes too.
CREATE TABLE inboxes (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('website', 'email', 'telegram', 'api')),
    created_at    INTEGER NOT NULL
);
CREATE INDEX inboxes_workspace ON inboxes(workspace_id);

-- Every existing site becomes a website inbox.
INSERT INTO inboxes (id, workspace_id, name, kind, created_at)
    SELECT id, workspace_id, name, 'website', created_at FROM sites;

-- A site and its inbox stay one thing: created, renamed and deleted together, in the
-- statement that changes the site, whichever code writes it.
CREATE TRIGGER sites_inbox_insert AFTER INSERT ON sites BEGIN
    INSERT INTO inboxes (id, workspace_id, name, kind, created_at)
        VALUES (NEW.id, NEW.workspace_id, NEW.name, 'website', NEW.created_at);
END;
CREATE TRIGGER sites_inbox_rename AFTER UPDATE OF name ON sites BEGIN
    UPDATE inboxes SET name = NEW.name WHERE id = NEW.id;
END;
CREATE TRIGGER sites_inbox_delete AFTER DELETE ON sites BEGIN
    DELETE FROM inboxes WHERE id = OLD.id;
END;

-- Every conversation gets its inbox. `inbox_kind` copies the inbox's kind, which never
-- changes, so reading a conversation needs no join. `inbox_id` is NULL only in the
-- schema: SQLite cannot add a NOT NULL column with a foreign key, and every row is
-- filled here and by every insert.
ALTER TABLE conversations ADD COLUMN inbox_id TEXT REFERENCES inboxes(id);
ALTER TABLE conversations ADD COLUMN inbox_kind TEXT NOT NULL DEFAULT 'website';
UPDATE conversations SET inbox_id = site_id;
CREATE INDEX conversations_inbox_id ON conversations(inbox_id);

-- Reports and business hours count days in the workspace's time zone (an IANA name).
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

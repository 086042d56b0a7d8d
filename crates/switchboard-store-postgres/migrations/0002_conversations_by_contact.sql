-- A visitor's conversations, newest first, read on every visitor connection: served by
-- one index instead of a scan of the workspace's inbox (a reconnect storm made that
-- quadratic in the number of conversations). Same file in the PostgreSQL migrations.
CREATE INDEX conversations_contact_recent ON conversations(contact_id, updated_at, id);
DROP INDEX conversations_contact;

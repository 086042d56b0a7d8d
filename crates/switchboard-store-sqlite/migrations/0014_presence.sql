-- Presence over time (issue 14): an agent idle on the dashboard for this many minutes
-- shows as away; NULL never. Offline is decided by a durable timer (the jobs table)
-- after all of an agent's sockets have been closed for the grace period.
ALTER TABLE workspaces ADD COLUMN auto_away_minutes INTEGER DEFAULT 15 CHECK (auto_away_minutes BETWEEN 1 AND 1440);

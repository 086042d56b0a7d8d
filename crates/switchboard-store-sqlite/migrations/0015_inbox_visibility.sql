-- Restricted inboxes (issue 14): 'all' lets every agent see every conversation;
-- 'teams' shows an agent (role agent) only their teams', their own and those of no team.
ALTER TABLE workspaces ADD COLUMN inbox_visibility TEXT NOT NULL DEFAULT 'all' CHECK (inbox_visibility IN ('all', 'teams'));

-- Durable jobs and timers (switchboard_store::Jobs). A completed job is deleted; a job
-- that failed its last attempt stays, `dead`, with its last error.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    due_at        INTEGER NOT NULL,
    dedupe_key    TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL CHECK (max_attempts >= 1),
    leased_until  INTEGER,
    last_error    TEXT
);
-- At most one pending job per dedupe key: enqueueing the key again moves that job.
CREATE UNIQUE INDEX jobs_pending_by_key ON jobs (dedupe_key) WHERE state = 'pending';
-- What to claim next: pending jobs by due time, running ones by lease.
CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 'pending';
CREATE INDEX jobs_leased ON jobs (leased_until) WHERE state = 'running';

-- How far each log consumer has read each workspace's feed.
CREATE TABLE consumer_cursors (
    name          TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    feed_seq      INTEGER NOT NULL,
    PRIMARY KEY (name, workspace_id)
);

-- Accounts (issue 17): sessions an agent can list and revoke one by one, and API
-- tokens that may expire. Only hashes of secrets are stored, as before.

-- A session's public id (its token never leaves the cookie), where and with what it
-- signed in, and when it was last used (written at most once a minute). Sessions from
-- before get an id derived from their token hash, so nobody is signed out.
ALTER TABLE sessions ADD COLUMN id UUID;
UPDATE sessions SET id = substr(token_hash, 1, 32)::uuid;
ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX sessions_id ON sessions(id);
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
UPDATE sessions SET last_used_at = created_at;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;

-- NULL: the token never expires.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

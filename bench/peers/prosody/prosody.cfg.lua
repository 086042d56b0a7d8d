-- Prosody for switchboard-bench: a throwaway server the chat scenario measures beside
-- Switchboard. crates/switchboard-bench-peers/src/prosody.rs fills in the {{…}}
-- placeholders (a fresh temporary directory and a free loopback port per run).
--
-- Start from Debian's stock /etc/prosody/prosody.cfg.lua (Prosody 0.12) and change
-- only what a loopback benchmark needs; every difference is listed here with why.
-- Nothing below weakens storage or acknowledgements relative to the stock config:
--   * storage is SQL on SQLite instead of the stock "internal" files, because SQLite
--     commits with fsync (synchronous=FULL, Prosody sets no PRAGMA) while "internal"
--     only write()s and close()s; message archiving (mod_mam) is switched on for the
--     agents' host so every message is stored.
--   * mod_limits (stock: c2s 10 kB/s per connection) is not loaded: it is an anti-abuse
--     read throttle, not a message guarantee, and it would cap the figures.
--   * no TLS: clients use plain ws:// on loopback, and consider_websocket_secure marks
--     those sessions secure as if a TLS-terminating proxy stood in front (the documented
--     way to run mod_websocket behind one), so SASL PLAIN is allowed without lowering
--     c2s_require_encryption.
--   * no s2s, no plain-TCP c2s, no HTTPS port: only the HTTP port that serves
--     XMPP over WebSocket (RFC 7395) is opened.
--   * admin, invite and federation modules are left out: they are not on a message's path.
-- Unchanged and worth knowing: c2s_require_encryption stays at its default (true), the
-- XEP-0198 limits stay at theirs (smacks_max_queue_size 500 unacknowledged stanzas per
-- session; smacks_max_unacked_stanzas 0: the server asks a client for an ack as soon as
-- anything it sent is unacknowledged), and so does the archive query page limit
-- (max_archive_query_results 50).

data_path = "{{DIR}}/data"
log = { info = "*console" }

modules_enabled = {
	-- Debian's stock list, less "tls" (no TLS listener), "dialback" (no s2s), "limits"
	-- (see above), "invites", "invites_adhoc", "invites_register", "admin_adhoc",
	-- "admin_shell" (administration) and "posix" (loaded on every POSIX system anyway).
	"disco";
	"roster";
	"saslauth";
	"blocklist";
	"bookmarks";
	"carbons";
	"pep";
	"private";
	"smacks"; -- XEP-0198: <r/>/<a h=…/> acknowledgements and session resumption
	"vcard4";
	"vcard_legacy";
	"csi_simple";
	"ping";
	"register";
	"time";
	"uptime";
	"version";
	-- Added for the benchmark.
	"websocket"; -- XMPP over WebSocket, RFC 7395
}

-- Only the WebSocket endpoint, on loopback.
c2s_ports = {}
s2s_ports = {}
https_ports = {}
http_ports = { {{HTTP_PORT}} }
http_interfaces = { "127.0.0.1" }
interfaces = { "127.0.0.1" }
consider_websocket_secure = true

storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }

-- Stock values, written out so the comparison's documentation can point at them.
default_archive_policy = true -- mod_mam: archive every chat message
archive_expires_after = "1w" -- stock Debian value
smacks_hibernation_time = 600 -- mod_smacks default: a dropped session can resume for 10 min

-- Agents log in with a registered account (SASL PLAIN, hashed password storage) and
-- keep an archive of their conversations.
VirtualHost "{{AGENT_HOST}}"
	authentication = "internal_hashed"
	modules_enabled = { "mam" }

-- Visitors log in anonymously (SASL ANONYMOUS): a fresh JID per connection. Their
-- messages are stored in the agent's archive; Prosody keeps no data for anonymous
-- users by default (allow_anonymous_storage = false).
VirtualHost "{{VISITOR_HOST}}"
	authentication = "anonymous"

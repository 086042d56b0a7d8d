#!/usr/bin/env python3
"""What SQLite itself can do with the statements Switchboard's log writer runs per message.

A cross-check for docs/benchmarks.md, not a benchmark of Switchboard: it replays, from
Python's sqlite3 module (one thread, no channel between statements), the same
statements `switchboard_store::log::apply` makes through sqlx for one visitor message
(savepoint, client-id check, conversation read, feed_seq bump, message + FTS + event
inserts, conversation update, release), in transactions of 512 like the group commit,
on the real schema (`switchboard migrate`), in WAL mode with synchronous FULL and NORMAL.

    python3 crates/switchboard-bench/scripts/sqlite_ceiling.py target/release/switchboard
"""
import os, sqlite3, subprocess, sys, tempfile, time, uuid

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/switchboard"
MESSAGES, BATCH, CONVERSATIONS = 20_000, 512, 1_000
BODY = "hello, i have a question about my order, could you help me with it please?"


def run(sync):
    d = tempfile.mkdtemp(prefix="sqlite-ceiling-")
    subprocess.run([BIN, "--data", d, "migrate"], check=True, capture_output=True)
    db = sqlite3.connect(os.path.join(d, "switchboard.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync}")
    db.execute("PRAGMA foreign_keys=ON")
    ws, site, contact = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (?, 'x', 0)", (ws,))
    db.execute("INSERT INTO sites VALUES (?, ?, 's', 'pk_x', '[]', '{}', '[]', 'k', 0)", (site, ws))
    db.execute("INSERT INTO contacts (id, workspace_id, site_id, attributes, search_text, first_seen, last_seen) "
               "VALUES (?, ?, ?, '{}', '', 0, 0)", (contact, ws, site))
    convs = [str(uuid.uuid4()) for _ in range(CONVERSATIONS)]
    db.execute("BEGIN")
    for c in convs:
        db.execute("INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, priority, labels, last_seq, "
                   "created_at, updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) "
                   "VALUES (?, ?, ?, ?, 'open', 'none', '[]', 0, 0, 0, 0, 0, 0, 0)", (c, ws, site, contact))
    db.execute("COMMIT")
    author = f"contact:{contact}"
    t = time.perf_counter()
    for start in range(0, MESSAGES, BATCH):
        db.execute("BEGIN")
        for n in range(start, min(start + BATCH, MESSAGES)):
            conv = convs[n % CONVERSATIONS]
            db.execute("SAVEPOINT s")
            db.execute("SELECT e.workspace_id, e.feed_seq, e.conversation_id, e.seq, e.kind, e.actor_kind, e.actor_id, e.data, e.at, "
                       "m.id, m.client_id, m.body, m.format, m.attachments FROM messages m JOIN events e ON e.message_id = m.id "
                       "WHERE m.author_key = ? AND m.client_id = ? AND m.workspace_id = ?", (author, f"c{n}", ws)).fetchall()
            row = db.execute("SELECT * FROM conversations WHERE id = ? AND workspace_id = ?", (conv, ws)).fetchone()
            seq = row[10] + 1
            feed = db.execute("UPDATE workspaces SET feed_seq = feed_seq + 1 WHERE id = ? RETURNING feed_seq", (ws,)).fetchone()[0]
            mid = str(uuid.uuid4())
            rowid = db.execute("INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, "
                               "kind, body, format, attachments, created_at) VALUES (?, ?, ?, ?, 'contact', ?, ?, ?, 'text', ?, 'text', '[]', ?) "
                               "RETURNING rowid", (mid, ws, conv, seq, contact, author, f"c{n}", BODY, n)).fetchone()[0]
            db.execute("INSERT INTO message_search (rowid, text) VALUES (?, ?)", (rowid, BODY))
            db.execute("INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, "
                       "message_id, data, at) VALUES (?, ?, ?, ?, 'message', 'everyone', 'contact', ?, ?, '{}', ?)",
                       (ws, feed, conv, seq, contact, mid, n))
            db.execute("UPDATE conversations SET last_seq = ?, last_message_seq = ?, last_message_at = ?, updated_at = ?, "
                       "waiting_since = ? WHERE id = ?", (seq, seq, n, n, n, conv))
            db.execute("RELEASE s")
        db.execute("COMMIT")
    secs = time.perf_counter() - t
    db.close()
    subprocess.run(["rm", "-rf", d])
    return MESSAGES / secs


for sync in ("FULL", "NORMAL"):
    print(f"synchronous={sync}: {run(sync):,.0f} messages/s ({MESSAGES} messages, transactions of {BATCH}, one savepoint each)")

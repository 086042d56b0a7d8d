#!/usr/bin/env python3
"""What SQLite itself can do with the statements Switchboard's log writer runs per message.

A cross-check for docs/benchmarks.md, not a benchmark of Switchboard: it replays, from
Python's sqlite3 module (one thread), the statements the SQLite log writer
(`crates/switchboard-store-sqlite/src/log.rs`) makes for a batch of visitor messages —
the client-id retry lookup per message, one `events` row per message (the message lives
in its event's row since migration 0004), one `UPDATE conversations` per conversation the
batch touched, the feed counter once — in transactions of 512 like the group commit, on
the real schema (`switchboard migrate`), in WAL mode with synchronous FULL and NORMAL.
Messages go to 1,000 conversations at random, as in the chat benchmark.

    python3 crates/switchboard-bench/scripts/sqlite_ceiling.py target/release/switchboard
"""
import os, random, sqlite3, subprocess, sys, tempfile, time, uuid

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
    seqs, feed = {c: 0 for c in convs}, 0
    t = time.perf_counter()
    for start in range(0, MESSAGES, BATCH):
        db.execute("BEGIN IMMEDIATE")
        touched = {}
        for n in range(start, min(start + BATCH, MESSAGES)):
            conv = convs[random.randrange(CONVERSATIONS)]
            db.execute("SELECT * FROM events WHERE author_key = ? AND client_id = ? AND workspace_id = ?", (author, f"c{n}", ws)).fetchall()
            seqs[conv] += 1
            feed += 1
            db.execute("INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, "
                       "data, at, message_id, client_id, author_key, body, format, attachments) "
                       "VALUES (?, ?, ?, ?, 'message', 'everyone', 'contact', ?, '{}', ?, ?, ?, ?, ?, 'text', '[]')",
                       (ws, feed, conv, seqs[conv], contact, n, str(uuid.uuid4()), f"c{n}", author, BODY))
            touched[conv] = n
        for conv, n in touched.items():
            db.execute("UPDATE conversations SET last_seq = ?, last_message_seq = ?, last_message_at = ?, updated_at = ?, "
                       "waiting_since = ? WHERE id = ?", (seqs[conv], seqs[conv], n, n, n, conv))
        db.execute("UPDATE workspaces SET feed_seq = ? WHERE id = ?", (feed, ws))
        db.execute("COMMIT")
    secs = time.perf_counter() - t
    db.close()
    subprocess.run(["rm", "-rf", d])
    return MESSAGES / secs


for sync in ("FULL", "NORMAL"):
    print(f"synchronous={sync}: {run(sync):,.0f} messages/s ({MESSAGES} messages, transactions of {BATCH})")

//! The `switchboard` binary as an operator uses it: a child process with a data
//! directory, driven over its CLI, HTTP and WebSockets — including `kill -9`.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use switchboard_testkit::{Api, Ws};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn switchboard(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data").arg(data).env_remove("RUST_LOG").env("SWITCHBOARD__LOG__LEVEL", "warn");
    cmd
}

async fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = switchboard(data).args(args).output().await.expect("run switchboard");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A server child on a random port; returns it with its base address once it listens.
async fn start(data: &Path) -> (Child, std::net::SocketAddr) {
    start_with(data, &[]).await
}

/// [`start`] with more configuration in the environment (`SWITCHBOARD__…`).
async fn start_with(data: &Path, env: &[(&str, &str)]) -> (Child, std::net::SocketAddr) {
    let mut child = switchboard(data)
        .envs(env.iter().copied())
        .args(["serve", "--listen", "127.0.0.1:0"])
        // The crash story keeps 20 sends in flight per visitor, far above a person's
        // limit; the limits have stories of their own (switchboard-testkit, limits.rs).
        .env("SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_VISITOR__BURST", "0")
        // Eight visitors from one address: their address's and their site's buckets too.
        .env("SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_IP__BURST", "0")
        .env("SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_SITE__BURST", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let wait = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Switchboard is listening on http://") {
                return url.parse().unwrap();
            }
        }
        panic!("server exited before listening");
    });
    let addr = wait.await.expect("server did not start");
    (child, addr)
}

/// An owner, a site and an admin API token in a fresh workspace.
async fn workspace(data: &Path, addr: std::net::SocketAddr) -> (Api, String) {
    let base = format!("http://{addr}");
    let mut owner = Api::new(base.clone());
    owner.login("boss@shop.example", "a long enough password").await.unwrap();
    let site = owner.ok(reqwest::Method::POST, "/api/v1/sites", Some(json!({"name": "Shop"}))).await;
    let token = owner.ok(reqwest::Method::POST, "/api/v1/api-tokens", Some(json!({"name": "test", "role": "admin"}))).await;
    let _ = data;
    (Api::with_token(base, token["secret"].as_str().unwrap()), site["public_key"].as_str().unwrap().to_owned())
}

async fn create_workspace(data: &Path) {
    let (ok, out, err) = run(
        data,
        &["admin", "create-workspace", "--name", "Shop", "--owner-email", "boss@shop.example", "--password", "a long enough password"],
    )
    .await;
    assert!(ok, "create-workspace failed: {out}{err}");
    assert!(out.contains("Workspace Shop"), "{out}");
}

/// Every message body stored in a conversation, read back through the REST API.
async fn client_ids(api: &Api, conversation: &str) -> Vec<String> {
    let mut ids = vec![];
    let mut after = 0;
    loop {
        let page =
            api.ok(reqwest::Method::GET, &format!("/api/v1/conversations/{conversation}/messages?after_seq={after}&limit=200"), None).await;
        let items = page["items"].as_array().unwrap().clone();
        for e in &items {
            after = e["seq"].as_i64().unwrap();
            if let Some(id) = e["message"]["client_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
        if page["next_cursor"].is_null() {
            return ids;
        }
    }
}

#[tokio::test]
async fn kill_9_during_a_burst_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    create_workspace(dir.path()).await;
    let (mut server, addr) = start(dir.path()).await;
    let (api, site_key) = workspace(dir.path(), addr).await;

    // Eight visitors, each in its own conversation, each keeping 20 sends in flight.
    let mut visitors = vec![];
    for _ in 0..8 {
        let mut ws = Ws::visitor(addr, &site_key, None, None).await;
        let first = ws.say(None, &uuid(), "hello").await;
        visitors.push((ws, first["conversation_id"].as_str().unwrap().to_owned()));
    }
    let mut acked: Vec<(String, String)> = vec![];
    let mut sent = 0;
    for round in 0..40 {
        for (ws, conv) in visitors.iter_mut() {
            for i in 0..20 {
                ws.send(json!({"type": "send", "client_id": format!("r{round}-{i}-{}", uuid()), "conversation_id": conv, "body": "burst"}))
                    .await;
                sent += 1;
            }
        }
        for (ws, conv) in visitors.iter_mut() {
            let mut got = 0;
            while got < 20 {
                let f = ws.next().await.expect("socket closed");
                if f["type"] == "ack" {
                    acked.push((conv.clone(), f["client_id"].as_str().unwrap().to_owned()));
                    got += 1;
                }
            }
        }
        if round == 20 {
            // Keep sends in flight at the moment of the kill.
            for (ws, conv) in visitors.iter_mut() {
                for i in 0..20 {
                    ws.send(
                        json!({"type": "send", "client_id": format!("last-{i}-{}", uuid()), "conversation_id": conv, "body": "in flight"}),
                    )
                    .await;
                }
            }
            server.start_kill().expect("kill -9");
            break;
        }
    }
    // Collect acks that raced the kill.
    for (ws, conv) in visitors.iter_mut() {
        while let Some(f) = ws.next().await {
            if f["type"] == "ack" {
                acked.push((conv.clone(), f["client_id"].as_str().unwrap().to_owned()));
            }
        }
    }
    server.wait().await.unwrap();
    assert!(acked.len() >= 8 * 20 * 20, "the burst was acknowledged ({} of {sent})", acked.len());

    let (_server, addr) = start(dir.path()).await;
    let api = Api::with_token(format!("http://{addr}"), api.bearer.as_deref().unwrap());
    let mut stored = HashSet::new();
    for (_, conv) in &visitors {
        let ids = client_ids(&api, conv).await;
        let unique: HashSet<_> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "no message is stored twice");
        stored.extend(ids);
    }
    let missing: Vec<_> = acked.iter().filter(|(_, id)| !stored.contains(id)).collect();
    assert!(missing.is_empty(), "{} acknowledged messages lost after kill -9, e.g. {:?}", missing.len(), missing.first());
}

/// An id unique within this test process.
fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

#[tokio::test]
async fn admin_commands_manage_accounts_and_backups_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_workspace(&data).await;

    let (ok, out, err) =
        run(&data, &["admin", "create-agent", "--workspace", "Shop", "--email", "ana@shop.example", "--name", "Ana"]).await;
    assert!(ok, "{out}{err}");
    let password = out.lines().find_map(|l| l.strip_prefix("Password: ")).expect("a generated password is printed").to_owned();
    let (ok, _, err) = run(&data, &["admin", "create-agent", "--workspace", "Nope", "--email", "x@shop.example", "--name", "X"]).await;
    assert!(!ok && err.contains("Nope"), "{err}");
    let (ok, _, err) = run(&data, &["admin", "create-agent", "--workspace", "Shop", "--email", "ana@shop.example", "--name", "Twin"]).await;
    assert!(!ok && err.contains("email"), "a taken e-mail is refused: {err}");

    let (ok, out, err) = run(&data, &["admin", "create-token", "--workspace", "Shop", "--name", "CRM", "--role", "admin"]).await;
    assert!(ok, "{out}{err}");
    let secret = out.lines().find_map(|l| l.strip_prefix("Secret: ")).expect("the token's secret is printed").to_owned();
    let (ok, _, err) = run(&data, &["admin", "create-token", "--workspace", "Shop", "--name", "CRM", "--role", "boss"]).await;
    assert!(!ok && err.contains("role"), "an unknown role is refused: {err}");

    let (server, addr) = start(&data).await;
    let mut ana = Api::new(format!("http://{addr}"));
    ana.login("ana@shop.example", &password).await.expect("the printed password works");
    let crm = Api::with_token(format!("http://{addr}"), &secret);
    let (status, agents) = crm.get("/api/v1/agents").await;
    assert_eq!(status.as_u16(), 200, "the printed secret is a working API token: {agents}");

    // An online backup while the server runs, with a file the team uploaded.
    let contract = b"the signed contract".to_vec();
    let uploaded = crm.upload("contract.txt", contract.clone()).await.expect("an upload");
    let backup = dir.path().join("backup.db");
    let (ok, out, err) = run(&data, &["backup", backup.to_str().unwrap()]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("Uploaded files (1,") && out.contains("backup.db.blobs"), "{out}");
    let (ok, _, err) = run(&data, &["backup", backup.to_str().unwrap()]).await;
    assert!(!ok && err.contains("already exists"), "a backup never overwrites: {err}");

    let (ok, out, _) = run(&data, &["admin", "reset-password", "--email", "ana@shop.example", "--password", "a brand new password"]).await;
    assert!(ok, "{out}");
    let (status, body) = ana.get("/api/v1/me").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (401, Some("unauthenticated")), "reset signs the agent out");
    drop(server);

    // The backup is a complete database.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("switchboard.db")).unwrap();
    let (ok, out, _) = run(&restored, &["admin", "list-workspaces"]).await;
    assert!(ok && out.contains("Shop"), "{out}");

    // With its uploads beside it: the restored server serves the file.
    std::fs::rename(dir.path().join("backup.db.blobs"), restored.join("blobs")).unwrap();
    let (_server, addr) = start(&restored).await;
    let crm = Api::with_token(format!("http://{addr}"), &secret);
    assert_eq!(crm.attachment(uploaded.id).await.expect("the restored file"), contract);
}

#[tokio::test]
async fn a_backup_of_s3_blobs_says_how_to_copy_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let out = switchboard(dir.path())
        .env("SWITCHBOARD__BLOBS__BACKEND", "s3")
        .env("SWITCHBOARD__BLOBS__BUCKET", "sb-uploads")
        .env("SWITCHBOARD__BLOBS__ENDPOINT", "http://127.0.0.1:1")
        .args(["backup", dir.path().join("b.db").to_str().unwrap()])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        said.contains("NOT copied") && said.contains("aws s3 sync s3://sb-uploads") && said.contains("--endpoint-url http://127.0.0.1:1"),
        "{said}"
    );
    assert!(!dir.path().join("b.db.blobs").exists(), "nothing pretends to be a copy of the bucket");
}

#[tokio::test]
async fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["config", "print-default"]).output().await.unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("[server]") && printed.contains("listen = \"127.0.0.1:8080\""));
    let file = dir.path().join("switchboard.toml");
    std::fs::write(&file, &printed).unwrap();
    let (ok, out, err) = run(dir.path(), &["--config", file.to_str().unwrap(), "migrate"]).await;
    assert!(ok, "the printed default is a valid configuration: {out}{err}");

    let out = switchboard(dir.path()).env("SWITCHBOARD__STORAGE__DURABILTY", "full").arg("migrate").output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).to_lowercase().contains("durabilty"));

    std::fs::write(&file, "[server]\nheartbeat_secs = \"soon\"\n").unwrap();
    let (ok, _, err) = run(dir.path(), &["--config", file.to_str().unwrap(), "migrate"]).await;
    assert!(!ok && err.contains("heartbeat_secs"), "{err}");

    // A malformed [mail] stops the node before it listens, naming what is wrong.
    std::fs::write(&file, "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"Support, no address\"\n").unwrap();
    let (ok, _, err) = run(dir.path(), &["--config", file.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"]).await;
    assert!(!ok && err.contains("mail.from"), "{err}");
    std::fs::write(&file, "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"a@b.example\"\ntls = \"maybe\"\n").unwrap();
    let (ok, _, err) = run(dir.path(), &["--config", file.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"]).await;
    assert!(!ok && err.contains("tls") && err.contains("maybe"), "{err}");
}

#[tokio::test]
async fn sigterm_says_goodbye_and_a_visitor_resumes_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    create_workspace(dir.path()).await;
    let (mut server, addr) = start(dir.path()).await;
    let (api, site_key) = workspace(dir.path(), addr).await;

    let mut visitor = Ws::visitor(addr, &site_key, None, None).await;
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let ack = visitor.say(None, "first", "hello?").await;
    let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
    let seen = visitor.expect("caught_up").await["seq"].as_i64().unwrap();

    // The visitor's tab sleeps; the team answers meanwhile.
    drop(visitor);
    for body in ["one", "two", "three"] {
        api.ok(reqwest::Method::POST, &format!("/api/v1/conversations/{conversation}/messages"), Some(json!({"body": body}))).await;
    }

    // A listening socket is told to come back, then the process exits cleanly.
    let mut listener = Ws::visitor(addr, &site_key, Some(&token), None).await;
    let status = Command::new("kill").args(["-TERM", &server.id().unwrap().to_string()]).status().await.unwrap();
    assert!(status.success());
    let goodbye = listener.expect("reconnect").await;
    assert_eq!(goodbye["reason"], "server_shutdown");
    assert_eq!(listener.closed_with().await, Some(1012));
    assert!(server.wait().await.unwrap().success(), "SIGTERM is a clean exit");

    // After the restart the same token and cursor bring exactly what was missed.
    let (_server, addr) = start(dir.path()).await;
    let resume = json!([{"conversation_id": conversation, "after_seq": seen}]);
    let mut back = Ws::visitor(addr, &site_key, Some(&token), Some(resume)).await;
    assert_eq!(back.welcome["contact_id"], ack["message"]["author"]["id"], "the same visitor");
    let mut bodies = vec![];
    loop {
        let f = back.next().await.expect("socket open");
        match f["type"].as_str() {
            Some("event") => bodies.push(f["event"]["message"]["body"].as_str().unwrap_or_default().to_owned()),
            Some("caught_up") => break,
            _ => {}
        }
    }
    assert_eq!(bodies, ["one", "two", "three"]);
}

/// Reads frames until `caught_up`, returning the message `client_id`s replayed (with their
/// `seq` and, for an agent, `feed_seq`).
async fn replayed(ws: &mut Ws) -> Vec<(String, i64, Option<i64>)> {
    let mut got = vec![];
    loop {
        let f = ws.next().await.expect("socket closed during the replay");
        match f["type"].as_str() {
            Some("caught_up") => return got,
            Some("event") => {
                if let Some(id) = f["event"]["message"]["client_id"].as_str() {
                    got.push((id.to_owned(), f["event"]["seq"].as_i64().unwrap(), f["event"]["feed_seq"].as_i64()));
                }
            }
            _ => {}
        }
    }
}

/// Reads frames until the event of message `client_id`; returns the event.
async fn event_of(ws: &mut Ws, client_id: &str) -> Value {
    loop {
        let f = ws.next().await.expect("socket closed");
        if f["type"] == "event" && f["event"]["message"]["client_id"] == client_id {
            return f["event"].clone();
        }
    }
}

#[tokio::test]
async fn a_sqlite_installation_moves_to_postgresql_and_clients_resume_with_their_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_workspace(&data).await;
    let (mut server, addr) = start(&data).await;
    let (api, site_key) = workspace(&data, addr).await;
    let token = api.bearer.clone().unwrap();

    // Life on SQLite: a visitor's conversation, the agent's answer, an uploaded file.
    let mut agent = Ws::agent(addr, &token, None).await;
    assert!(replayed(&mut agent).await.is_empty());
    let mut visitor = Ws::visitor(addr, &site_key, None, None).await;
    let visitor_token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let contact = visitor.welcome["contact_id"].clone();
    assert!(contact.is_string(), "{}", visitor.welcome);
    let first = visitor.say(None, "before-1", "where is my parcel").await;
    let conv = first["conversation_id"].as_str().unwrap().to_owned();
    visitor.say(Some(&conv), "before-2", "it was due on Monday").await;
    agent.send(json!({"type": "send", "client_id": "reply-1", "conversation_id": conv, "body": "It is on its way"})).await;
    let visitor_cursor = event_of(&mut visitor, "reply-1").await["seq"].as_i64().unwrap();
    let agent_cursor = event_of(&mut agent, "reply-1").await["feed_seq"].as_i64().unwrap();
    let invoice = b"invoice 42: one parcel".to_vec();
    let attachment = api.upload("invoice.txt", invoice.clone()).await.expect("an upload on SQLite");
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    // The copy: into an empty database, with the uploads into the new node's blob directory.
    let pg = switchboard_testkit::services::EphemeralPostgres::shared().await.expect("PostgreSQL");
    let url = pg.create_database().await.unwrap();
    let new_blobs = dir.path().join("pg-blobs").display().to_string();
    let copy = |url: String| {
        let (data, new_blobs) = (data.clone(), new_blobs.clone());
        async move {
            let out = switchboard(&data).env("SWITCHBOARD__BLOBS__DIR", &new_blobs).args(["db-copy", "--to", &url]).output().await.unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    let (ok, out, err) = copy(url.clone()).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("Row counts verified") && out.contains("events") && out.contains("Uploaded files: 1"), "{out}");
    let (ok, out, err) = copy(url.clone()).await;
    assert!(!ok && err.contains("not empty"), "a second copy into the same database is refused: {out}{err}");

    // The same clients, with the cursors they held, on a node serving the copy.
    let postgres = [
        ("SWITCHBOARD__STORAGE__BACKEND", "postgres"),
        ("SWITCHBOARD__STORAGE__POSTGRES_URL", url.as_str()),
        ("SWITCHBOARD__BLOBS__DIR", &new_blobs),
    ];
    let (_server, addr) = start_with(&dir.path().join("pg-node"), &postgres).await;
    let resume = json!([{"conversation_id": conv, "after_seq": visitor_cursor}]);
    let mut visitor = Ws::visitor(addr, &site_key, Some(&visitor_token), Some(resume)).await;
    assert_eq!(visitor.welcome["contact_id"], contact, "the visitor's token still opens its session");
    let mut agent = Ws::agent(addr, &token, Some(agent_cursor)).await;
    let (visitor_again, agent_again) = (replayed(&mut visitor).await, replayed(&mut agent).await);
    assert!(visitor_again.iter().all(|(id, ..)| !["before-1", "before-2", "reply-1"].contains(&id.as_str())), "{visitor_again:?}");
    assert!(agent_again.iter().all(|(id, ..)| !["before-1", "before-2", "reply-1"].contains(&id.as_str())), "{agent_again:?}");

    let ack = visitor.say(Some(&conv), "after-1", "thanks").await;
    assert!(ack["seq"].as_i64().unwrap() > visitor_cursor, "the conversation's seq carries on: {ack}");
    let heard = event_of(&mut agent, "after-1").await;
    assert!(heard["feed_seq"].as_i64().unwrap() > agent_cursor, "the feed carries on: {heard}");

    let api = Api::with_token(format!("http://{addr}"), &token);
    assert_eq!(client_ids(&api, &conv).await, ["before-1", "before-2", "reply-1", "after-1"], "nothing lost, nothing doubled");
    assert_eq!(api.attachment(attachment.id).await.expect("the copied file"), invoice);
    let found = api.search("parcel").await.expect("search");
    assert_eq!(found.messages.len(), 1, "the search index was rebuilt: {:?}", found.messages);
}

//! Prosody (Debian's `prosody` package) as a chat target: XMPP over WebSocket, visitors
//! on an anonymous host, one registered agent account with a message archive.
//!
//! A pair is an anonymous visitor session and an agent session (its own resource of the
//! one agent account). The visitor sends `<message type='chat'>` to the agent's full
//! JID, each followed by a stream-management `<r/>`; the server's `<a h=…/>` answer
//! acknowledges every message counted in `h`. The agent answers the server's `<r/>`s
//! with its own count, as XEP-0198 clients must (Prosody closes a session whose
//! unacknowledged queue overflows).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use async_trait::async_trait;
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::target::{ChatPair, ChatTarget, Observation, Semantics};
use crate::xmpp::{self, Auth, Element, NS_FRAMING, NS_SM, Ws};
use switchboard_services::{self as process, ServerProcess, User};

const CONFIG_TEMPLATE: &str = include_str!("../../../bench/peers/prosody/prosody.cfg.lua");
const PROSODY: &str = "/usr/bin/prosody";
const PROSODYCTL: &str = "/usr/bin/prosodyctl";
const AGENT_HOST: &str = "agents.localhost";
const VISITOR_HOST: &str = "visitors.localhost";
const AGENT: &str = "agent";
/// A freshly picked port can be taken by someone else before Prosody binds it.
const START_ATTEMPTS: usize = 4;

pub(super) const SEMANTICS: Semantics = Semantics {
    durable_ack: true,
    ordered: true,
    resumable: true,
    ack_means: "XEP-0198 <a h=…/> answering the <r/> sent after the message: Prosody handles a session's stanzas one at a time, \
                so it answers after routing the message and committing it to the agent's SQLite archive (fsync); \
                the protocol itself only promises 'handled', and a failed archive write is logged, not refused",
};

/// A running Prosody and how to reach it.
pub(super) struct Prosody {
    url: String,
    password: String,
    process: ServerProcess,
    pub version: String,
}

impl Prosody {
    pub(super) fn pid(&self) -> Option<u32> {
        self.process.pid()
    }
}

/// Starts a throwaway Prosody on a free loopback port, with the agent registered.
pub(super) async fn start() -> anyhow::Result<Prosody> {
    for binary in [PROSODY, PROSODYCTL] {
        if !Path::new(binary).exists() {
            bail!("{binary} not found: install Prosody with `apt-get install prosody lua-dbi-sqlite3`");
        }
    }
    let user = process::server_user("prosody", "prosody")?;
    let password = format!("{:016x}", rand_u64());
    let mut last_error = None;
    for _ in 0..START_ATTEMPTS {
        let port = process::free_port()?;
        let dir = process::temp_dir("switchboard-bench-prosody-", user)?;
        let config = write_config(dir.path(), port, user)?;
        // Registration writes the account into the SQL store before the server starts.
        process::run(
            process::command(Path::new(PROSODYCTL), user)
                .arg("--config")
                .arg(&config)
                .args(["register", AGENT, AGENT_HOST, &password])
                .current_dir(dir.path()),
        )
        .await
        .context("registering the agent account with prosodyctl (SQL storage needs the Debian package lua-dbi-sqlite3)")?;
        let args: Vec<OsString> = vec!["-F".into(), "--config".into(), config.into()];
        let mut process = ServerProcess::spawn("prosody", dir, "TERM", user, Path::new(PROSODY), &args)?;
        let listening = format!("Activated service 'http' on [127.0.0.1]:{port}");
        let ready = process
            .wait_for_log(|log| {
                if log.contains("Address already in use") || log.contains("Failed to open server port") {
                    bail!("port {port} was taken: {log}");
                }
                Ok(log.contains(&listening).then(|| version(log)))
            })
            .await;
        match ready {
            Ok(version) => {
                // Ports open before the event loop runs, so a connect succeeds only once
                // every host is loaded.
                tokio::net::TcpStream::connect(("127.0.0.1", port)).await.context("connecting to Prosody")?;
                let url = format!("ws://127.0.0.1:{port}/xmpp-websocket");
                return Ok(Prosody { url, password, process, version });
            }
            Err(e) if e.to_string().contains("was taken") => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.expect("at least one attempt"))
}

/// Writes the config from `bench/peers/prosody/prosody.cfg.lua` into `dir`.
fn write_config(dir: &Path, port: u16, user: User) -> anyhow::Result<std::path::PathBuf> {
    let dir_str = dir.to_str().context("temporary directory is not UTF-8")?;
    if dir_str.contains(['"', '\\', '\n']) {
        bail!("temporary directory {dir_str:?} cannot be written into a Lua string");
    }
    let config = CONFIG_TEMPLATE
        .replace("{{DIR}}", dir_str)
        .replace("{{HTTP_PORT}}", &port.to_string())
        .replace("{{AGENT_HOST}}", AGENT_HOST)
        .replace("{{VISITOR_HOST}}", VISITOR_HOST);
    for sub in ["data", "certs"] {
        fs::create_dir(dir.join(sub))?;
        process::chown(&dir.join(sub), user)?;
    }
    let path = dir.join("prosody.cfg.lua");
    fs::write(&path, config).context("writing prosody.cfg.lua")?;
    Ok(path)
}

fn version(log: &str) -> String {
    log.lines()
        .find_map(|l| l.split_once("Prosody version ").map(|(_, v)| format!("Prosody {}", v.trim())))
        .unwrap_or_else(|| "Prosody".to_owned())
}

/// Enough randomness for a throwaway password, without a dependency.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// The chat target; dropping it stops the server.
pub(super) struct ProsodyTarget {
    pub server: Prosody,
    /// Makes agent resources unique, so a pair index opened twice does not make
    /// Prosody replace the first session.
    pub sessions: AtomicU64,
}

#[async_trait]
impl ChatTarget for ProsodyTarget {
    fn name(&self) -> &'static str {
        "prosody"
    }

    fn semantics(&self) -> Semantics {
        SEMANTICS
    }

    async fn pair(&self, index: usize) -> anyhow::Result<Box<dyn ChatPair>> {
        let server = &self.server;
        let agent = Auth::Plain { user: AGENT, password: &server.password };
        let resource = format!("pair-{index}-{}", self.sessions.fetch_add(1, Ordering::Relaxed));
        let (agent, visitor) = tokio::try_join!(
            xmpp::login(&server.url, AGENT_HOST, agent, &resource),
            xmpp::login(&server.url, VISITOR_HOST, Auth::Anonymous, "visitor"),
        )?;
        let (events_tx, events) = mpsc::unbounded_channel();
        let (visitor_sink, visitor_stream) = visitor.ws.split();
        let visitor_sink = Arc::new(Mutex::new(visitor_sink));
        let (stop_agent, agent_stopped) = oneshot::channel();
        let (stop_visitor, visitor_stopped) = oneshot::channel();
        tokio::spawn(agent_task(agent.ws, events_tx.clone(), agent_stopped));
        tokio::spawn(visitor_task(visitor_stream, Arc::clone(&visitor_sink), events_tx, visitor_stopped));
        Ok(Box::new(ProsodyPair {
            agent_jid: xmpp::escape(&agent.jid).into_owned(),
            visitor: visitor_sink,
            events,
            sent: 0,
            unacked: VecDeque::new(),
            ready: VecDeque::new(),
            _stop: [stop_agent, stop_visitor],
        }))
    }
}

/// What the socket tasks report to the pair.
enum Event {
    /// The server's `<a h=…/>` on the visitor's stream.
    Acked { h: u32 },
    /// The agent received visitor message `id`.
    Delivered { id: u64 },
}

type Sink = SplitSink<Ws, Message>;

struct ProsodyPair {
    agent_jid: String,
    visitor: Arc<Mutex<Sink>>,
    events: mpsc::UnboundedReceiver<anyhow::Result<Event>>,
    /// Stanzas the visitor has sent since enabling stream management.
    sent: u32,
    /// (stanza count, message id) of messages not yet covered by an `<a h=…/>`.
    unacked: VecDeque<(u32, u64)>,
    /// Observations decoded but not yet returned.
    ready: VecDeque<Observation>,
    /// Dropping these tells the socket tasks to close their streams politely (an
    /// abrupt close would leave Prosody holding the sessions for resumption).
    _stop: [oneshot::Sender<()>; 2],
}

#[async_trait]
impl ChatPair for ProsodyPair {
    async fn send(&mut self, id: u64) -> anyhow::Result<()> {
        self.sent = self.sent.wrapping_add(1);
        self.unacked.push_back((self.sent, id));
        let message =
            format!("<message xmlns='jabber:client' type='chat' to='{}' id='m{id}'><body>message {id}</body></message>", self.agent_jid);
        let mut sink = self.visitor.lock().await;
        sink.feed(Message::text(message)).await?;
        sink.feed(Message::text(format!("<r xmlns='{NS_SM}'/>"))).await?;
        sink.flush().await?;
        Ok(())
    }

    async fn next(&mut self) -> anyhow::Result<Observation> {
        loop {
            if let Some(observation) = self.ready.pop_front() {
                return Ok(observation);
            }
            // The only await: everything after it runs to completion, so a cancelled
            // `next` loses nothing.
            let event = self.events.recv().await.context("the Prosody connections are gone")??;
            match event {
                Event::Delivered { id } => return Ok(Observation::Delivered { id }),
                Event::Acked { h } => {
                    // `h` counts stanzas mod 2^32; compare by distance.
                    while let Some(&(seq, id)) = self.unacked.front()
                        && h.wrapping_sub(seq) < u32::MAX / 2
                    {
                        self.unacked.pop_front();
                        self.ready.push_back(Observation::Acked { id });
                    }
                }
            }
        }
    }
}

/// Reads the agent's stream: reports chat messages and answers `<r/>` with the number
/// of stanzas received.
async fn agent_task(ws: Ws, events: mpsc::UnboundedSender<anyhow::Result<Event>>, mut stop: oneshot::Receiver<()>) {
    let (mut sink, mut stream) = ws.split();
    let mut handled: u32 = 0;
    let result: anyhow::Result<()> = async {
        loop {
            let frame = tokio::select! {
                frame = stream.next() => frame,
                _ = &mut stop => return close(&mut sink).await,
            };
            for element in frames(frame)? {
                if element.is_stanza() {
                    handled = handled.wrapping_add(1);
                    if element.name == "message"
                        && let Some(id) = message_id(&element)
                    {
                        let _ = events.send(Ok(Event::Delivered { id }));
                    }
                } else if element.is_sm("r") {
                    sink.send(Message::text(format!("<a xmlns='{NS_SM}' h='{handled}'/>"))).await?;
                } else {
                    check(&element)?;
                }
            }
        }
    }
    .await;
    if let Err(e) = result {
        let _ = events.send(Err(e.context("agent connection")));
    }
}

/// Reads the visitor's stream: reports `<a h=…/>` and answers `<r/>`.
async fn visitor_task(
    mut stream: futures::stream::SplitStream<Ws>,
    sink: Arc<Mutex<Sink>>,
    events: mpsc::UnboundedSender<anyhow::Result<Event>>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut handled: u32 = 0;
    let result: anyhow::Result<()> = async {
        loop {
            let frame = tokio::select! {
                frame = stream.next() => frame,
                _ = &mut stop => return close(&mut *sink.lock().await).await,
            };
            for element in frames(frame)? {
                if element.is_stanza() {
                    handled = handled.wrapping_add(1);
                    if element.attr("type") == Some("error") {
                        bail!("the server bounced a visitor stanza: {element:?}");
                    }
                } else if element.is_sm("a") {
                    let h = element.attr("h").and_then(|h| h.parse().ok()).with_context(|| format!("bad ack {element:?}"))?;
                    let _ = events.send(Ok(Event::Acked { h }));
                } else if element.is_sm("r") {
                    sink.lock().await.send(Message::text(format!("<a xmlns='{NS_SM}' h='{handled}'/>"))).await?;
                } else {
                    check(&element)?;
                }
            }
        }
    }
    .await;
    if let Err(e) = result {
        let _ = events.send(Err(e.context("visitor connection")));
    }
}

/// The elements in one WebSocket frame; an error once the connection is over.
fn frames(frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> anyhow::Result<Vec<Element>> {
    match frame.context("connection closed")?? {
        Message::Text(text) => xmpp::parse(&text),
        Message::Close(reason) => bail!("connection closed: {reason:?}"),
        _ => Ok(Vec::new()),
    }
}

/// Fails on stream errors and the server closing the stream; ignores the rest.
fn check(element: &Element) -> anyhow::Result<()> {
    match element.name.as_str() {
        "error" | "close" | "failed" => bail!("the server ended the stream: {element:?}"),
        _ => Ok(()),
    }
}

/// `message {id}` in the body, as [`ProsodyPair::send`] writes it.
fn message_id(message: &Element) -> Option<u64> {
    message.child("body")?.text.strip_prefix("message ")?.parse().ok()
}

/// Ends the stream with `<close/>` so Prosody ends the session instead of keeping it
/// for resumption.
async fn close(sink: &mut Sink) -> anyhow::Result<()> {
    let _ = sink.send(Message::text(format!("<close xmlns='{NS_FRAMING}'/>"))).await;
    let _ = sink.close().await;
    Ok(())
}

#[cfg(test)]
impl Prosody {
    /// Bodies in the agent's message archive, oldest first, fetched the way a client
    /// catches up after reconnecting (XEP-0313 query; one page is enough for tests).
    pub(super) async fn archived_bodies(&self) -> anyhow::Result<Vec<String>> {
        let auth = Auth::Plain { user: AGENT, password: &self.password };
        let mut ws = xmpp::login(&self.url, AGENT_HOST, auth, "archive-reader").await?.ws;
        let query = "<iq xmlns='jabber:client' type='set' id='mam'><query xmlns='urn:xmpp:mam:2' queryid='q'>\
                     <set xmlns='http://jabber.org/protocol/rsm'><max>50</max></set></query></iq>";
        ws.send(Message::text(query)).await?;
        let mut bodies = Vec::new();
        loop {
            for element in frames(ws.next().await)? {
                if element.name == "iq" && element.attr("id") == Some("mam") {
                    let complete = element.child("fin").and_then(|f| f.attr("complete")) == Some("true");
                    if element.attr("type") != Some("result") || !complete {
                        bail!("archive query failed or needs paging: {element:?}");
                    }
                    return Ok(bodies);
                }
                let archived = element.child("result").and_then(|r| r.child("forwarded")).and_then(|f| f.child("message"));
                if let Some(body) = archived.and_then(|m| m.child("body")) {
                    bodies.push(body.text.clone());
                }
            }
        }
    }

    pub(super) fn log(&self) -> String {
        self.process.log()
    }
}

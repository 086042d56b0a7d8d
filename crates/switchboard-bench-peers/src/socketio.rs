//! A plain socket.io server (`bench/peers/socketio/server.js`, socket.io from npm) as a
//! chat target, and the Socket.IO v5 / Engine.IO v4 client side of it over WebSocket.
//!
//! The protocol subset is small enough to speak directly (a packet per WebSocket text
//! frame): `0{…}` open, `40` connect, `42[…]` event, `42<n>[…]` event wanting ack `n`,
//! `43<n>[…]` the ack, `2`/`3` the server's ping and our pong. The `rust_socketio` crate
//! was considered: its async client pulls in reqwest with native TLS and its own
//! tungstenite, and delivers through callbacks, for the same few packet types.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use async_trait::async_trait;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::target::{ChatPair, ChatTarget, Observation, Semantics};
use switchboard_services::{self as process, ServerProcess};

pub(super) const SEMANTICS: Semantics = Semantics {
    durable_ack: false,
    ordered: true,
    resumable: false,
    ack_means: "the socket.io acknowledgement callback, called by the server's handler right after it relayed the message to the \
                conversation's room: the Node process has it in memory, nothing is stored",
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = SplitSink<Ws, Message>;

/// A running socket.io server.
pub(super) struct SocketIo {
    port: u16,
    process: ServerProcess,
    pub version: String,
}

impl SocketIo {
    pub(super) fn pid(&self) -> Option<u32> {
        self.process.pid()
    }
}

/// Where `server.js` and its `node_modules` live.
pub(super) fn package_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/switchboard-bench-peers is two levels deep");
    repo.join("bench/peers/socketio")
}

/// Starts `node server.js` on a port the OS picks.
pub(super) async fn start() -> anyhow::Result<SocketIo> {
    let dir = package_dir();
    let node = which("node").context("`node` not found: install Node.js (Debian: `apt-get install nodejs npm`)")?;
    let installed = dir.join("node_modules/socket.io/package.json");
    let version = std::fs::read_to_string(&installed)
        .with_context(|| format!("{} missing: run `npm ci` in {}", installed.display(), dir.display()))?;
    let version: Value = serde_json::from_str(&version)?;
    let node_version = process::run(tokio::process::Command::new(&node).arg("--version")).await?;
    let version = format!("socket.io {} (Node.js {})", version["version"].as_str().unwrap_or("?"), node_version.trim());

    let server_js = dir.join("server.js").canonicalize().context("bench/peers/socketio/server.js")?;
    let tmp = process::temp_dir("switchboard-bench-socketio-", None)?;
    let args: Vec<OsString> = vec![server_js.into(), "0".into()];
    let mut process = ServerProcess::spawn("socket.io server", tmp, "TERM", None, &node, &args)?;
    let port = process
        .wait_for_log(|log| {
            Ok(log.lines().find_map(|l| l.strip_prefix("listening on 127.0.0.1:")).and_then(|p| p.trim().parse::<u16>().ok()))
        })
        .await?;
    Ok(SocketIo { port, process, version })
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
}

/// The chat target; dropping it stops the server.
pub(super) struct SocketIoTarget {
    pub server: SocketIo,
}

#[async_trait]
impl ChatTarget for SocketIoTarget {
    fn name(&self) -> &'static str {
        "socket.io"
    }

    fn semantics(&self) -> Semantics {
        SEMANTICS
    }

    async fn pair(&self, index: usize) -> anyhow::Result<Box<dyn ChatPair>> {
        let url = format!("ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket", self.server.port);
        let conversation = format!("conversation-{index}");
        let (agent, visitor) = tokio::try_join!(connect(&url, &conversation), connect(&url, &conversation))?;
        let (events_tx, events) = mpsc::unbounded_channel();
        let (visitor_sink, visitor_stream) = visitor.split();
        let visitor_sink = Arc::new(Mutex::new(visitor_sink));
        let (agent_sink, agent_stream) = agent.split();
        let tasks = [
            tokio::spawn(read(agent_stream, Arc::new(Mutex::new(agent_sink)), events_tx.clone())),
            tokio::spawn(read(visitor_stream, Arc::clone(&visitor_sink), events_tx)),
        ];
        Ok(Box::new(SocketIoPair { conversation, visitor: visitor_sink, events, next_ack: 0, acks: HashMap::new(), tasks }))
    }
}

struct SocketIoPair {
    conversation: String,
    visitor: Arc<Mutex<Sink>>,
    events: mpsc::UnboundedReceiver<anyhow::Result<Packet>>,
    next_ack: u64,
    /// Ack id → message id, for messages whose ack has not come back.
    acks: HashMap<u64, u64>,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for SocketIoPair {
    fn drop(&mut self) {
        // Dropping the sockets closes the TCP connections; socket.io forgets the
        // sockets and their rooms (nothing lingers for resumption by default).
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl ChatPair for SocketIoPair {
    async fn send(&mut self, id: u64) -> anyhow::Result<()> {
        let ack = self.next_ack;
        self.next_ack += 1;
        self.acks.insert(ack, id);
        let payload = json!(["message", { "conversation": self.conversation, "id": id, "body": format!("message {id}") }]);
        self.visitor.lock().await.send(Message::text(format!("42{ack}{payload}"))).await?;
        Ok(())
    }

    async fn next(&mut self) -> anyhow::Result<Observation> {
        loop {
            // The only await; the map update after it cannot be cancelled halfway.
            match self.events.recv().await.context("the socket.io connections are gone")?? {
                Packet::Event { name, args, .. } if name == "message" => {
                    let id = args.first().and_then(|m| m["id"].as_u64()).context("a relayed message without an id")?;
                    return Ok(Observation::Delivered { id });
                }
                Packet::Ack { id: ack, args } => {
                    if args.first().and_then(|a| a["ok"].as_bool()) != Some(true) {
                        bail!("the server refused a message: {args:?}");
                    }
                    if let Some(id) = self.acks.remove(&ack) {
                        return Ok(Observation::Acked { id });
                    }
                }
                _ => {}
            }
        }
    }
}

/// A Socket.IO packet on the main namespace, as far as a chat needs.
#[derive(Debug, PartialEq)]
enum Packet {
    /// `40{…}`: connected to the namespace.
    Connected,
    /// `42[name, args…]` or, wanting an acknowledgement, `42<id>[…]`.
    Event { name: String, args: Vec<Value>, ack: Option<u64> },
    /// `43<id>[args…]`.
    Ack { id: u64, args: Vec<Value> },
    /// `2`: the server's Engine.IO ping.
    Ping,
    /// Anything else (Engine.IO noop, upgrade probes).
    Other,
}

/// Parses one Engine.IO packet (one WebSocket text frame).
fn parse(text: &str) -> anyhow::Result<Packet> {
    let Some(rest) = text.strip_prefix('4') else {
        return Ok(match text {
            "2" => Packet::Ping,
            "1" => bail!("the server closed the Engine.IO session"),
            _ => Packet::Other,
        });
    };
    let (kind, rest) = rest.split_at_checked(1).context("empty Socket.IO packet")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, json) = rest.split_at(digits);
    let id = if id.is_empty() { None } else { Some(id.parse()?) };
    match kind {
        "0" => Ok(Packet::Connected),
        "1" => bail!("the server disconnected the socket"),
        "4" => bail!("the server refused the connection: {json}"),
        "2" => {
            let mut args: Vec<Value> = serde_json::from_str(json).with_context(|| format!("bad event {text:?}"))?;
            if args.is_empty() {
                bail!("event without a name: {text:?}");
            }
            let name = args.remove(0).as_str().context("event name is not a string")?.to_owned();
            Ok(Packet::Event { name, args, ack: id })
        }
        "3" => {
            let args = serde_json::from_str(json).with_context(|| format!("bad ack {text:?}"))?;
            Ok(Packet::Ack { id: id.context("ack without an id")?, args })
        }
        _ => Ok(Packet::Other),
    }
}

/// Opens a socket, connects to the main namespace and joins `conversation`.
async fn connect(url: &str, conversation: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.with_context(|| format!("connecting to {url}"))?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        bail!("expected the Engine.IO open packet, got {open:?}");
    }
    // The server drops events that arrive before the namespace connection completes,
    // so wait for `40{…}` before joining.
    ws.send(Message::text("40")).await?;
    loop {
        match parse(&next_text(&mut ws).await?)? {
            Packet::Connected => break,
            Packet::Ping => ws.send(Message::text("3")).await?,
            other => bail!("unexpected packet while connecting: {other:?}"),
        }
    }
    ws.send(Message::text(format!("420{}", json!(["join", conversation])))).await?;
    loop {
        match parse(&next_text(&mut ws).await?)? {
            Packet::Ack { id: 0, .. } => return Ok(ws),
            Packet::Ping => ws.send(Message::text("3")).await?,
            other => bail!("unexpected packet while joining: {other:?}"),
        }
    }
}

async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        match ws.next().await.context("connection closed")?? {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(reason) => bail!("connection closed: {reason:?}"),
            _ => {}
        }
    }
}

/// Forwards a socket's events and acks to the pair; answers pings.
async fn read(mut stream: SplitStream<Ws>, sink: Arc<Mutex<Sink>>, events: mpsc::UnboundedSender<anyhow::Result<Packet>>) {
    let result: anyhow::Result<()> = async {
        loop {
            let frame = stream.next().await.context("connection closed")??;
            let text = match frame {
                Message::Text(text) => text,
                Message::Close(reason) => bail!("connection closed: {reason:?}"),
                _ => continue,
            };
            match parse(&text)? {
                Packet::Ping => sink.lock().await.send(Message::text("3")).await?,
                packet @ (Packet::Event { .. } | Packet::Ack { .. }) => {
                    if events.send(Ok(packet)).is_err() {
                        return Ok(());
                    }
                }
                Packet::Connected | Packet::Other => {}
            }
        }
    }
    .await;
    if let Err(e) = result {
        let _ = events.send(Err(e.context("socket.io connection")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_packets_a_chat_sees() -> anyhow::Result<()> {
        assert_eq!(parse("2")?, Packet::Ping);
        assert_eq!(parse("40{\"sid\":\"x\"}")?, Packet::Connected);
        assert_eq!(parse("42[\"message\",{\"id\":7}]")?, Packet::Event { name: "message".into(), args: vec![json!({"id": 7})], ack: None });
        assert_eq!(parse("4212[\"join\",\"c\"]")?, Packet::Event { name: "join".into(), args: vec![json!("c")], ack: Some(12) });
        assert_eq!(parse("43105[{\"ok\":true}]")?, Packet::Ack { id: 105, args: vec![json!({"ok": true})] });
        assert!(parse("44{\"message\":\"no\"}").is_err());
        assert!(parse("1").is_err());
        Ok(())
    }
}

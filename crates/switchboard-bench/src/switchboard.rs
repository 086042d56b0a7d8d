//! Switchboard as a [`ChatTarget`]: each pair is a visitor socket in a conversation of
//! its own; the agent side is the workspace's agent socket.
//!
//! An agent socket carries the whole workspace feed, so giving every pair its own
//! agent socket in one workspace would multiply deliveries by the number of pairs.
//! Instead the fixture has several workspaces, each holding `per_workspace`
//! conversations and one agent socket (one team dashboard answering those chats, as in
//! production). A hub task reads that socket and routes each delivery to its pair by
//! the client id the visitor put on the message: `m<pair>.<id>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use switchboard_bench_peers::{ChatPair, ChatTarget, Observation, Semantics};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::server::{Durability, Workspace};
use crate::ws::{self, Ws, frame_type, str_field};

/// A typical chat line; the id is appended.
const BODY: &str = "Hello, I have a question about my order, could you help me with it please? #";

type Routes = Arc<Mutex<Vec<Option<mpsc::UnboundedSender<u64>>>>>;

struct Hub {
    routes: Routes,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct SwitchboardTarget {
    pub addr: SocketAddr,
    /// Where the agent sockets connect: `addr`, or another node of a cluster.
    pub agent_addr: SocketAddr,
    pub workspaces: Vec<Workspace>,
    pub per_workspace: usize,
    pub durability: Durability,
    hubs: tokio::sync::Mutex<HashMap<usize, Arc<Hub>>>,
}

impl SwitchboardTarget {
    pub fn new(addr: SocketAddr, workspaces: Vec<Workspace>, per_workspace: usize, durability: Durability) -> Self {
        Self { addr, agent_addr: addr, workspaces, per_workspace: per_workspace.max(1), durability, hubs: Default::default() }
    }

    /// Agents on `agent_addr` while visitors stay on `addr`: delivery crosses nodes.
    pub fn with_agents_on(mut self, agent_addr: SocketAddr) -> Self {
        self.agent_addr = agent_addr;
        self
    }

    async fn hub(&self, w: usize) -> anyhow::Result<Arc<Hub>> {
        let mut hubs = self.hubs.lock().await;
        if let Some(h) = hubs.get(&w) {
            return Ok(h.clone());
        }
        let token = &self.workspaces[w].token;
        let mut agent = agent_socket(self.agent_addr, token).await?;
        ws::send_text(&mut agent, crate::frames::AGENT_HELLO.clone()).await?;
        ws::expect(&mut agent, "welcome").await?;
        ws::expect(&mut agent, "caught_up").await?;
        let routes: Routes = Arc::new(Mutex::new(vec![None; self.per_workspace]));
        let task = tokio::spawn(route(agent, routes.clone()));
        let hub = Arc::new(Hub { routes, task });
        hubs.insert(w, hub.clone());
        Ok(hub)
    }
}

pub async fn agent_socket(addr: SocketAddr, token: &str) -> anyhow::Result<Ws> {
    ws::connect(addr, None, &format!("/ws/agent?access_token={token}")).await
}

/// Reads a workspace's agent socket and hands each visitor message to its pair.
async fn route(mut agent: Ws, routes: Routes) {
    while let Some(frame) = agent.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        match frame_type(&text) {
            "event" => {
                if let Some((pair, id)) = str_field(&text, "client_id").and_then(parse_client_id)
                    && let Some(Some(tx)) = routes.lock().expect("routes").get(pair)
                {
                    let _ = tx.send(id);
                }
            }
            "reconnect" => break,
            _ => {}
        }
    }
    // Dropping the senders tells every pair its agent side is gone.
    routes.lock().expect("routes").iter_mut().for_each(|r| *r = None);
}

/// `m<pair>.<id>` → (pair, id).
fn parse_client_id(cid: &str) -> Option<(usize, u64)> {
    let (pair, id) = cid.strip_prefix('m')?.split_once('.')?;
    Some((pair.parse().ok()?, id.parse().ok()?))
}

#[async_trait]
impl ChatTarget for SwitchboardTarget {
    fn name(&self) -> &'static str {
        match self.durability {
            Durability::Full => "switchboard (durability=full)",
            Durability::Normal => "switchboard (durability=normal)",
        }
    }

    fn semantics(&self) -> Semantics {
        Semantics {
            durable_ack: true,
            ordered: true,
            resumable: true,
            ack_means: match self.durability {
                Durability::Full => "the message is committed to SQLite and fsynced (WAL, synchronous=FULL)",
                Durability::Normal => "the message is committed to SQLite's WAL without fsync (survives kill -9, not power loss)",
            },
        }
    }

    async fn pair(&self, index: usize) -> anyhow::Result<Box<dyn ChatPair>> {
        let w = index / self.per_workspace;
        let local = index % self.per_workspace;
        let workspace = self.workspaces.get(w).with_context(|| format!("pair {index} needs workspace {w}; the fixture is too small"))?;
        let hub = self.hub(w).await?;
        // The first message starts the pair's conversation; the socket then follows it.
        let (visitor, conversation) = ws::visitor_in_conversation(self.addr, &workspace.site_key, &format!("s{index}"), "Hi there").await?;
        let (tx, rx) = mpsc::unbounded_channel();
        hub.routes.lock().expect("routes")[local] = Some(tx);
        Ok(Box::new(SwitchboardPair { visitor, conversation, local, delivered: rx, _hub: hub }))
    }
}

pub struct SwitchboardPair {
    visitor: Ws,
    conversation: String,
    local: usize,
    delivered: mpsc::UnboundedReceiver<u64>,
    _hub: Arc<Hub>,
}

#[async_trait]
impl ChatPair for SwitchboardPair {
    async fn send(&mut self, id: u64) -> anyhow::Result<()> {
        let frame = crate::frames::visitor_send(format!("m{}.{id}", self.local), Some(&self.conversation), format!("{BODY}{id}"))?;
        self.visitor.send(Message::text(frame)).await.context("sending")
    }

    async fn next(&mut self) -> anyhow::Result<Observation> {
        loop {
            tokio::select! {
                biased;
                id = self.delivered.recv() => {
                    return id.map(|id| Observation::Delivered { id }).ok_or_else(|| anyhow!("the workspace's agent socket closed"));
                }
                frame = self.visitor.next() => {
                    let text = match frame {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(c))) => return Err(anyhow!("visitor socket closed: {c:?}")),
                        None => return Err(anyhow!("visitor socket closed")),
                        Some(Err(e)) => return Err(e).context("visitor socket"),
                        Some(Ok(_)) => continue,
                    };
                    match frame_type(&text) {
                        "ack" => {
                            if let Some((_, id)) = str_field(&text, "client_id").and_then(parse_client_id) {
                                return Ok(Observation::Acked { id });
                            }
                        }
                        "error" | "reconnect" => return Err(anyhow!("visitor socket: {text}")),
                        // The visitor's own copy of each message, receipts, typing: not observed.
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_round_trip() {
        assert_eq!(parse_client_id("m12.345"), Some((12, 345)));
        assert_eq!(parse_client_id("s3"), None);
    }
}

//! Which agents are online, and which conversation each dashboard has open, as a
//! trait owned by core: today's in-process bookkeeping is one implementation, and a
//! cluster-wide one (Redis) can replace it without the sockets noticing. Core turns
//! the changes into `Presence` and `Viewers` messages on the bus. Nothing here is
//! stored: it is what is true while sockets are open.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use switchboard_bus::{AgentStatus, BusMessage, Topic};
use switchboard_domain::{AgentId, ConversationId, WorkspaceId};

use crate::{Core, Principal, Result};

/// One agent socket, so presence can tell two tabs of the same agent apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SocketId(pub u64);

impl SocketId {
    /// A fresh id, unique in this process.
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl Default for SocketId {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts an agent's open sockets, so a second tab does not flip their presence, and
/// remembers the conversation each socket has open.
pub trait Presence: Send + Sync + 'static {
    /// Returns true when this is the agent's first socket (they just came online).
    fn connect(&self, ws: WorkspaceId, agent: AgentId) -> bool;
    /// Returns true when this was the agent's last socket (they just went offline).
    fn disconnect(&self, ws: WorkspaceId, agent: AgentId) -> bool;
    /// The agents of the workspace with at least one socket open.
    fn online(&self, ws: WorkspaceId) -> Vec<AgentId>;
    /// The socket now has `conversation` open (`None`: none). Returns the conversations
    /// whose set of viewing agents changed, with that set (sorted).
    fn view(
        &self,
        ws: WorkspaceId,
        socket: SocketId,
        agent: AgentId,
        conversation: Option<ConversationId>,
    ) -> Vec<(ConversationId, Vec<AgentId>)>;
    /// The agents who have the conversation open, sorted.
    fn viewers(&self, ws: WorkspaceId, conversation: ConversationId) -> Vec<AgentId>;
}

/// Which agent each socket of a workspace is and which conversation it views.
type Viewing = HashMap<SocketId, (AgentId, ConversationId)>;

/// Presence of one process: sockets counted in memory.
#[derive(Default)]
pub struct LocalPresence {
    online: Mutex<HashMap<WorkspaceId, HashMap<AgentId, usize>>>,
    viewing: Mutex<HashMap<WorkspaceId, Viewing>>,
}

fn viewers_of(sockets: &Viewing, conversation: ConversationId) -> Vec<AgentId> {
    let set: BTreeSet<AgentId> = sockets.values().filter(|(_, c)| *c == conversation).map(|(a, _)| *a).collect();
    set.into_iter().collect()
}

impl Presence for LocalPresence {
    fn connect(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        let mut online = self.online.lock().expect("presence lock");
        let n = online.entry(ws).or_default().entry(agent).or_default();
        *n += 1;
        *n == 1
    }

    fn disconnect(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        let mut online = self.online.lock().expect("presence lock");
        let Some(agents) = online.get_mut(&ws) else { return false };
        let Some(n) = agents.get_mut(&agent) else { return false };
        *n -= 1;
        if *n > 0 {
            return false;
        }
        agents.remove(&agent);
        if agents.is_empty() {
            online.remove(&ws);
        }
        true
    }

    fn online(&self, ws: WorkspaceId) -> Vec<AgentId> {
        let online = self.online.lock().expect("presence lock");
        online.get(&ws).map(|a| a.keys().copied().collect()).unwrap_or_default()
    }

    fn view(
        &self,
        ws: WorkspaceId,
        socket: SocketId,
        agent: AgentId,
        conversation: Option<ConversationId>,
    ) -> Vec<(ConversationId, Vec<AgentId>)> {
        let mut viewing = self.viewing.lock().expect("presence lock");
        let sockets = viewing.entry(ws).or_default();
        let before = sockets.get(&socket).map(|(_, c)| *c);
        if before == conversation {
            return vec![];
        }
        let touched: Vec<ConversationId> = before.into_iter().chain(conversation).collect();
        let was: Vec<Vec<AgentId>> = touched.iter().map(|c| viewers_of(sockets, *c)).collect();
        match conversation {
            Some(c) => sockets.insert(socket, (agent, c)),
            None => sockets.remove(&socket),
        };
        let changed = touched
            .iter()
            .zip(was)
            .filter_map(|(c, was)| {
                let now = viewers_of(sockets, *c);
                (now != was).then_some((*c, now))
            })
            .collect();
        if sockets.is_empty() {
            viewing.remove(&ws);
        }
        changed
    }

    fn viewers(&self, ws: WorkspaceId, conversation: ConversationId) -> Vec<AgentId> {
        let viewing = self.viewing.lock().expect("presence lock");
        viewing.get(&ws).map(|s| viewers_of(s, conversation)).unwrap_or_default()
    }
}

impl Core {
    /// Replaces the presence (e.g. with a cluster-wide one).
    pub fn with_presence(mut self, presence: Arc<dyn Presence>) -> Self {
        self.presence = presence;
        self
    }

    /// An agent socket opened: the agent comes online (or away, as they chose) if it
    /// is their first, and the workspace is told. Integrations (API tokens) have no
    /// presence. Returns the socket's id for [`Core::agent_viewing`] and
    /// [`Core::agent_disconnected`].
    pub async fn agent_connected(&self, who: &Principal) -> SocketId {
        if let Some(agent_id) = who.agent_id()
            && self.presence.connect(who.workspace_id, agent_id)
        {
            // The chosen status is the agent's; a failed read still shows them connected.
            let status = match self.store.agent(who.workspace_id, agent_id).await {
                Ok(agent) => shown(agent.status),
                Err(_) => AgentStatus::Online,
            };
            self.publish_presence(who.workspace_id, agent_id, status);
            if status == AgentStatus::Online {
                // Available now: waiting chats of their teams come to them.
                self.fill_soon(who.workspace_id, Some(agent_id));
            }
        }
        SocketId::new()
    }

    /// An agent socket closed: it stops viewing its conversation, and the agent goes
    /// offline if it was their last.
    pub fn agent_disconnected(&self, who: &Principal, socket: SocketId) {
        if let Some(agent_id) = who.agent_id() {
            self.publish_viewers(who.workspace_id, self.presence.view(who.workspace_id, socket, agent_id, None));
            if self.presence.disconnect(who.workspace_id, agent_id) {
                self.publish_presence(who.workspace_id, agent_id, AgentStatus::Offline);
                let core = self.clone();
                let ws = who.workspace_id;
                tokio::spawn(async move { core.agent_left(ws, agent_id).await });
            }
        }
    }

    /// The socket has `conversation` open now (`None`: none). Every agent socket of the
    /// workspace hears the new set of viewers of each conversation whose set changed.
    /// The conversation must be the workspace's; integrations view nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn agent_viewing(&self, who: &Principal, socket: SocketId, conversation: Option<ConversationId>) -> Result<()> {
        let Some(agent_id) = who.agent_id() else { return Err(crate::Error::Forbidden) };
        if let Some(id) = conversation {
            self.store.conversation(who.workspace_id, id).await?;
        }
        self.publish_viewers(who.workspace_id, self.presence.view(who.workspace_id, socket, agent_id, conversation));
        Ok(())
    }

    /// The agents who have the conversation open now.
    pub fn viewers(&self, who: &Principal, conversation: ConversationId) -> Vec<AgentId> {
        self.presence.viewers(who.workspace_id, conversation)
    }

    /// The workspace's agents that are online now.
    pub fn agents_online(&self, ws: WorkspaceId) -> Vec<AgentId> {
        self.presence.online(ws)
    }

    /// Every active agent of the workspace with what the team sees: offline without a
    /// socket, else the status they chose (online or away).
    pub async fn team_presence(&self, who: &Principal) -> Result<Vec<(AgentId, AgentStatus)>> {
        let online = self.presence.online(who.workspace_id);
        let agents = self.store.agents(who.workspace_id).await?;
        Ok(agents
            .iter()
            .filter(|a| a.active)
            .map(|a| (a.id, if online.contains(&a.id) { shown(a.status) } else { AgentStatus::Offline }))
            .collect())
    }

    /// Tells the team an agent's chosen status, if they are connected (an agent with
    /// no socket stays offline whatever they chose).
    pub(crate) fn status_chosen(&self, ws: WorkspaceId, agent: AgentId, status: switchboard_domain::AgentStatus) {
        if self.presence.online(ws).contains(&agent) {
            self.publish_presence(ws, agent, shown(status));
            if status == switchboard_domain::AgentStatus::Online {
                self.fill_soon(ws, Some(agent));
            }
        }
    }

    fn publish_presence(&self, ws: WorkspaceId, agent_id: AgentId, status: AgentStatus) {
        self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::presence(agent_id, status)));
    }

    fn publish_viewers(&self, ws: WorkspaceId, changed: Vec<(ConversationId, Vec<AgentId>)>) {
        for (conversation_id, agent_ids) in changed {
            self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::Viewers { conversation_id, agent_ids }));
        }
    }
}

/// What the team sees of a connected agent's chosen status.
fn shown(status: switchboard_domain::AgentStatus) -> AgentStatus {
    match status {
        switchboard_domain::AgentStatus::Online => AgentStatus::Online,
        switchboard_domain::AgentStatus::Away => AgentStatus::Away,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_counts_sockets() {
        let p = LocalPresence::default();
        let (ws, agent) = (WorkspaceId::new(), AgentId::new());
        assert!(p.connect(ws, agent));
        assert!(!p.connect(ws, agent), "second tab");
        assert!(!p.disconnect(ws, agent));
        assert_eq!(p.online(ws).len(), 1);
        assert!(p.disconnect(ws, agent));
        assert!(p.online(ws).is_empty());
        assert!(!p.disconnect(ws, agent), "a socket closed twice does not go negative");
    }

    #[test]
    fn viewers_change_only_when_the_set_of_agents_does() {
        let p = LocalPresence::default();
        let ws = WorkspaceId::new();
        let (ana, bo) = (AgentId::new(), AgentId::new());
        let (ana_tab1, ana_tab2, bo_tab) = (SocketId::new(), SocketId::new(), SocketId::new());
        let (c1, c2) = (ConversationId::new(), ConversationId::new());

        assert_eq!(p.view(ws, ana_tab1, ana, Some(c1)), [(c1, vec![ana])]);
        assert_eq!(p.view(ws, ana_tab1, ana, Some(c1)), [], "the same conversation again changes nothing");
        assert_eq!(p.view(ws, ana_tab2, ana, Some(c1)), [], "Ana's second tab: still just Ana");
        let both = {
            let mut v = vec![ana, bo];
            v.sort();
            v
        };
        assert_eq!(p.view(ws, bo_tab, bo, Some(c1)), [(c1, both.clone())]);
        assert_eq!(p.viewers(ws, c1), both);

        assert_eq!(p.view(ws, ana_tab1, ana, Some(c2)), [(c2, vec![ana])], "Ana's other tab still has c1 open");
        assert_eq!(p.view(ws, ana_tab2, ana, None), [(c1, vec![bo])], "the last of Ana's tabs on c1 left");
        assert_eq!(p.view(ws, bo_tab, bo, None), [(c1, vec![])]);
        assert!(p.viewers(ws, c1).is_empty());
    }
}

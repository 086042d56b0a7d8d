//! Which agents are online, as a trait owned by core: today's in-process counting is
//! one implementation, and a cluster-wide one (Redis) can replace it without the
//! sockets noticing. Core turns the counts into `Presence` messages on the bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_bus::{AgentStatus, BusMessage, Topic};
use switchboard_domain::{AgentId, WorkspaceId};

use crate::{Core, Principal};

/// Counts an agent's open sockets, so a second tab does not flip their presence.
pub trait Presence: Send + Sync + 'static {
    /// Returns true when this is the agent's first socket (they just came online).
    fn connect(&self, ws: WorkspaceId, agent: AgentId) -> bool;
    /// Returns true when this was the agent's last socket (they just went offline).
    fn disconnect(&self, ws: WorkspaceId, agent: AgentId) -> bool;
    /// The agents of the workspace with at least one socket open.
    fn online(&self, ws: WorkspaceId) -> Vec<AgentId>;
}

/// Presence of one process: sockets counted in memory.
#[derive(Default)]
pub struct LocalPresence {
    online: Mutex<HashMap<WorkspaceId, HashMap<AgentId, usize>>>,
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
}

impl Core {
    /// Replaces the presence (e.g. with a cluster-wide one).
    pub fn with_presence(mut self, presence: Arc<dyn Presence>) -> Self {
        self.presence = presence;
        self
    }

    /// An agent socket opened: the agent comes online if it is their first, and the
    /// workspace is told. Integrations (API tokens) have no presence.
    pub fn agent_connected(&self, who: &Principal) {
        if let Some(agent_id) = who.agent_id()
            && self.presence.connect(who.workspace_id, agent_id)
        {
            self.publish_presence(who.workspace_id, agent_id, AgentStatus::Online);
        }
    }

    /// An agent socket closed: the agent goes offline if it was their last.
    pub fn agent_disconnected(&self, who: &Principal) {
        if let Some(agent_id) = who.agent_id()
            && self.presence.disconnect(who.workspace_id, agent_id)
        {
            self.publish_presence(who.workspace_id, agent_id, AgentStatus::Offline);
        }
    }

    /// The workspace's agents that are online now.
    pub fn agents_online(&self, ws: WorkspaceId) -> Vec<AgentId> {
        self.presence.online(ws)
    }

    fn publish_presence(&self, ws: WorkspaceId, agent_id: AgentId, status: AgentStatus) {
        self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::presence(agent_id, status)));
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
}

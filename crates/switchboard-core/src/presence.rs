//! Which agents are online, and which conversation each dashboard has open, as a
//! trait owned by core: today's in-process bookkeeping is one implementation, and a
//! cluster-wide one (Redis) can replace it without the sockets noticing. Core turns
//! the changes into `Presence` and `Viewers` messages on the bus.
//!
//! Presence over time is core's: an agent whose last socket closes stays as they were
//! for the grace period (`Limits::presence_grace_ms`), and a durable timer (a job,
//! so it survives a restart) takes them offline after it; an agent idle past the
//! workspace's `auto_away_minutes` shows as away until their next `activity`. What the
//! team was last told is kept in memory ([`Shown`]); routing asks
//! [`Core::agent_available`] and listens to [`Core::presence_changes`].

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use switchboard_bus::{AgentStatus, BusMessage, Topic};
use switchboard_domain::{AgentId, ConversationId, WorkspaceId};

use switchboard_domain::Timestamp;

use crate::{Core, JobKind, Principal, Result};

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
    /// How much it holds, for `/metrics`.
    fn sizes(&self) -> PresenceSizes;
}

/// What presence holds, counted for `/metrics`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PresenceSizes {
    /// Agents online, summed over workspaces (an agent on two nodes counts once).
    pub agents_online: usize,
    /// Agent sockets viewing a conversation (this node's, and the other nodes' for a
    /// cluster-wide presence).
    pub viewing_sockets: usize,
    /// Nodes whose presence is counted (1 for one node).
    pub nodes: usize,
}

/// Everything one node's presence holds, to share with the other nodes: per workspace,
/// each online agent's socket count, and which agent views which conversation (one
/// entry per socket).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PresenceSnapshot {
    pub online: HashMap<WorkspaceId, HashMap<AgentId, usize>>,
    pub viewing: HashMap<WorkspaceId, Vec<(AgentId, ConversationId)>>,
}

/// Which agent each socket of a workspace is and which conversation it views.
type Viewing = HashMap<SocketId, (AgentId, ConversationId)>;

/// Presence of one process: sockets counted in memory.
#[derive(Default)]
pub struct LocalPresence {
    online: Mutex<HashMap<WorkspaceId, HashMap<AgentId, usize>>>,
    viewing: Mutex<HashMap<WorkspaceId, Viewing>>,
}

impl LocalPresence {
    /// A copy of what it holds, for a cluster-wide presence to publish.
    pub fn snapshot(&self) -> PresenceSnapshot {
        let online = self.online.lock().expect("presence lock").clone();
        let viewing = self.viewing.lock().expect("presence lock");
        let viewing = viewing.iter().map(|(ws, sockets)| (*ws, sockets.values().copied().collect())).collect();
        PresenceSnapshot { online, viewing }
    }
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

    fn sizes(&self) -> PresenceSizes {
        let agents_online = self.online.lock().expect("presence lock").values().map(HashMap::len).sum();
        let viewing_sockets = self.viewing.lock().expect("presence lock").values().map(HashMap::len).sum();
        PresenceSizes { agents_online, viewing_sockets, nodes: 1 }
    }
}

/// A change of what the team sees of an agent, announced to core's own listeners
/// (routing) through [`Core::presence_changes`]. `Online` is available for chats;
/// `Away` (chosen, or idle past the workspace's `auto_away_minutes`) and `Offline`
/// (every socket closed for the grace period) are not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PresenceChange {
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub status: AgentStatus,
}

impl PresenceChange {
    /// Whether routing may give the agent chats now.
    pub fn available(&self) -> bool {
        self.status == AgentStatus::Online
    }
}

/// What the team was last told about each agent who is not offline (connected, or in
/// the grace period after their last socket closed), and when they last used the page.
/// An agent missing here is offline, or unknown to this process since it started (a
/// pending offline timer then still publishes `offline`).
#[derive(Default)]
pub(crate) struct Shown(Mutex<HashMap<(WorkspaceId, AgentId), Seen>>);

#[derive(Clone, Copy, Debug)]
struct Seen {
    /// Online or away; never offline (the entry is removed instead).
    status: AgentStatus,
    last_activity: Timestamp,
    /// Away because idle past `auto_away_minutes`, whatever the agent chose.
    idle: bool,
}

impl Core {
    /// Replaces the presence (e.g. with a cluster-wide one).
    pub fn with_presence(mut self, presence: Arc<dyn Presence>) -> Self {
        self.presence = presence;
        self
    }

    /// Every change of an agent's presence as the team sees it, for routing: becoming
    /// available (`online`) or not (`away`, `offline`). A receiver that lags loses the
    /// oldest changes (`RecvError::Lagged`) and should re-read [`Core::agent_available`].
    pub fn presence_changes(&self) -> tokio::sync::broadcast::Receiver<PresenceChange> {
        self.presence_changes.subscribe()
    }

    /// Whether the agent may be given chats now: shown `online` to the team (connected,
    /// or in the grace period of a reload), having chosen online and not idle past the
    /// workspace's auto-away.
    pub fn agent_available(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        let shown = self.shown.0.lock().expect("presence lock");
        shown.get(&(ws, agent)).is_some_and(|s| s.status == AgentStatus::Online)
    }

    /// The workspace's agents who are available now (see [`Core::agent_available`]).
    pub fn agents_available(&self, ws: WorkspaceId) -> Vec<AgentId> {
        let shown = self.shown.0.lock().expect("presence lock");
        shown.iter().filter(|((w, _), s)| *w == ws && s.status == AgentStatus::Online).map(|((_, a), _)| *a).collect()
    }

    /// An agent socket opened: the agent shows their chosen status (online or away), and
    /// the workspace is told if that changes what it saw (a second tab, or a reload
    /// within the grace period, changes nothing). Opening counts as activity.
    /// Integrations (API tokens) have no presence. Returns the socket's id for
    /// [`Core::agent_viewing`] and [`Core::agent_disconnected`].
    pub async fn agent_connected(&self, who: &Principal) -> SocketId {
        if let Some(agent_id) = who.agent_id() {
            let ws = who.workspace_id;
            self.presence.connect(ws, agent_id);
            // The chosen status is the agent's; a failed read still shows them connected.
            let chosen = match self.store.agent(ws, agent_id).await {
                Ok(agent) => shown(agent.status),
                Err(_) => AgentStatus::Online,
            };
            let now = self.now();
            self.show(ws, agent_id, now, |seen| {
                seen.last_activity = now;
                seen.idle = false;
                chosen
            });
            self.schedule_auto_away(ws, agent_id, now).await;
        }
        SocketId::new()
    }

    /// An agent socket closed: it stops viewing its conversation, and if it was the
    /// agent's last, a durable timer takes them offline after the grace period unless a
    /// socket opens again before (`JobKind::AgentOffline`).
    pub async fn agent_disconnected(&self, who: &Principal, socket: SocketId) {
        let Some(agent_id) = who.agent_id() else { return };
        let ws = who.workspace_id;
        self.publish_viewers(ws, self.presence.view(ws, socket, agent_id, None));
        if !self.presence.disconnect(ws, agent_id) {
            return;
        }
        let grace = self.limits.presence_grace_ms;
        if grace <= 0 {
            self.went_offline(ws, agent_id);
            return;
        }
        let due = self.now().plus_millis(grace);
        if let Err(e) = self.schedule(JobKind::AgentOffline { workspace_id: ws, agent_id }, due).await {
            // Without a timer nothing would ever say so: better offline now than never.
            tracing::warn!(agent.id = %agent_id, error = %e, "scheduling the offline timer failed; offline at once");
            self.went_offline(ws, agent_id);
        }
    }

    /// The agent used the dashboard (the `activity` frame, at most once a minute): an
    /// agent away because idle is back to their chosen status. Integrations have none.
    pub async fn agent_activity(&self, who: &Principal) -> Result<()> {
        let Some(agent_id) = who.agent_id() else { return Ok(()) };
        let ws = who.workspace_id;
        let now = self.now();
        let was_idle = {
            let mut shown = self.shown.0.lock().expect("presence lock");
            let Some(seen) = shown.get_mut(&(ws, agent_id)) else { return Ok(()) };
            seen.last_activity = seen.last_activity.max(now);
            seen.idle
        };
        // The pending auto-away timer moves itself when it finds later activity, so only
        // a return from idle (whose timer has run) needs a new one.
        if was_idle {
            let chosen = shown(self.store.agent(ws, agent_id).await?.status);
            self.show(ws, agent_id, now, |seen| {
                seen.idle = false;
                chosen
            });
            self.schedule_auto_away(ws, agent_id, now).await;
        }
        Ok(())
    }

    /// Runs `JobKind::AgentOffline`: the agent goes offline if no socket of theirs
    /// opened again during the grace period.
    pub(crate) fn offline_timer(&self, ws: WorkspaceId, agent: AgentId) {
        if !self.presence.online(ws).contains(&agent) {
            self.went_offline(ws, agent);
        }
    }

    /// Runs `JobKind::AutoAway`: a connected agent idle for the workspace's
    /// `auto_away_minutes` shows as away; one active since gets a timer for later.
    pub(crate) async fn auto_away_timer(&self, ws: WorkspaceId, agent: AgentId) -> Result<()> {
        let Some(minutes) = self.store.workspace(ws).await?.auto_away_minutes else { return Ok(()) };
        if !self.presence.online(ws).contains(&agent) {
            return Ok(());
        }
        let Some(last_activity) = self.shown.0.lock().expect("presence lock").get(&(ws, agent)).map(|s| s.last_activity) else {
            return Ok(());
        };
        let due = last_activity.plus_millis(i64::from(minutes) * 60_000);
        let now = self.now();
        if due > now {
            self.schedule(JobKind::AutoAway { workspace_id: ws, agent_id: agent }, due).await?;
            return Ok(());
        }
        self.show(ws, agent, now, |seen| {
            seen.idle = true;
            AgentStatus::Away
        });
        Ok(())
    }

    /// Starts the auto-away timer of a connected agent, if the workspace has auto-away.
    /// A failure is logged: the agent then stays shown as they are until next activity.
    async fn schedule_auto_away(&self, ws: WorkspaceId, agent: AgentId, from: Timestamp) {
        let scheduled = async {
            if let Some(minutes) = self.store.workspace(ws).await?.auto_away_minutes {
                let due = from.plus_millis(i64::from(minutes) * 60_000);
                self.schedule(JobKind::AutoAway { workspace_id: ws, agent_id: agent }, due).await?;
            }
            Ok::<(), crate::Error>(())
        };
        if let Err(e) = scheduled.await {
            tracing::warn!(agent.id = %agent, error = %e, "scheduling the auto-away timer failed");
        }
    }

    /// Sets what the team sees of an agent who is not offline, and tells them (and
    /// core's listeners) if it changed.
    fn show(&self, ws: WorkspaceId, agent: AgentId, now: Timestamp, update: impl FnOnce(&mut Seen) -> AgentStatus) {
        let changed = {
            let mut shown = self.shown.0.lock().expect("presence lock");
            let seen = shown.entry((ws, agent)).or_insert(Seen { status: AgentStatus::Offline, last_activity: now, idle: false });
            let before = seen.status;
            seen.status = update(seen);
            (seen.status != before).then_some(seen.status)
        };
        if let Some(status) = changed {
            self.announce(ws, agent, status);
        }
    }

    /// The agent is offline now: forgotten here, and the workspace told.
    fn went_offline(&self, ws: WorkspaceId, agent: AgentId) {
        self.shown.0.lock().expect("presence lock").remove(&(ws, agent));
        self.announce(ws, agent, AgentStatus::Offline);
    }

    fn announce(&self, ws: WorkspaceId, agent: AgentId, status: AgentStatus) {
        self.publish_presence(ws, agent, status);
        // Routing follows: an agent available now takes the waiting chats of their
        // teams; one offline (past the grace period) has their chats re-routed.
        match status {
            AgentStatus::Online => self.fill_soon(ws, Some(agent)),
            AgentStatus::Offline => {
                let core = self.clone();
                tokio::spawn(async move { core.agent_left(ws, agent).await });
            }
            AgentStatus::Away => {}
        }
        // No listener is not an error.
        let _ = self.presence_changes.send(PresenceChange { workspace_id: ws, agent_id: agent, status });
    }

    /// The socket has `conversation` open now (`None`: none). Every agent socket of the
    /// workspace hears the new set of viewers of each conversation whose set changed.
    /// The conversation must be the workspace's; integrations view nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn agent_viewing(&self, who: &Principal, socket: SocketId, conversation: Option<ConversationId>) -> Result<()> {
        let Some(agent_id) = who.agent_id() else { return Err(crate::Error::Forbidden) };
        if let Some(id) = conversation {
            self.visible_conversation(who, id).await?;
        }
        self.publish_viewers(who.workspace_id, self.presence.view(who.workspace_id, socket, agent_id, conversation));
        Ok(())
    }

    /// The agents who have the conversation open now.
    pub fn viewers(&self, who: &Principal, conversation: ConversationId) -> Vec<AgentId> {
        self.presence.viewers(who.workspace_id, conversation)
    }

    /// The workspace's agents the team sees as not offline (online or away): connected,
    /// or within the grace period after their last socket closed.
    /// With several nodes, an agent connected to another node counts too (the
    /// cluster-wide [`Presence`]): this node's view of grace periods and idleness is its
    /// own sockets'.
    pub fn agents_online(&self, ws: WorkspaceId) -> Vec<AgentId> {
        let mut online: Vec<AgentId> = {
            let shown = self.shown.0.lock().expect("presence lock");
            shown.keys().filter(|(w, _)| *w == ws).map(|(_, a)| *a).collect()
        };
        for agent in self.presence.online(ws) {
            if !online.contains(&agent) {
                online.push(agent);
            }
        }
        online
    }

    /// Every active agent of the workspace with what the team sees: online or away
    /// (chosen, or idle), else offline.
    pub async fn team_presence(&self, who: &Principal) -> Result<Vec<(AgentId, AgentStatus)>> {
        let agents = self.store.agents(who.workspace_id).await?;
        // Connected to another node: shown with the status they chose.
        let elsewhere = self.presence.online(who.workspace_id);
        let shown_here = self.shown.0.lock().expect("presence lock");
        Ok(agents
            .iter()
            .filter(|a| a.active)
            .map(|a| {
                let status = match shown_here.get(&(who.workspace_id, a.id)) {
                    Some(seen) => seen.status,
                    None if elsewhere.contains(&a.id) => shown(a.status),
                    None => AgentStatus::Offline,
                };
                (a.id, status)
            })
            .collect())
    }

    /// Tells the team an agent's chosen status, if they are not offline (an agent with
    /// no socket stays offline whatever they chose). Choosing is activity: it ends idle.
    pub(crate) fn status_chosen(&self, ws: WorkspaceId, agent: AgentId, status: switchboard_domain::AgentStatus) {
        let now = self.now();
        if self.shown.0.lock().expect("presence lock").contains_key(&(ws, agent)) {
            self.show(ws, agent, now, |seen| {
                seen.last_activity = now;
                seen.idle = false;
                shown(status)
            });
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
    fn the_snapshot_and_sizes_say_what_presence_holds() {
        let p = LocalPresence::default();
        let (ws, ana, bo, c) = (WorkspaceId::new(), AgentId::new(), AgentId::new(), ConversationId::new());
        p.connect(ws, ana);
        p.connect(ws, ana);
        p.connect(ws, bo);
        p.view(ws, SocketId::new(), bo, Some(c));
        let snapshot = p.snapshot();
        assert_eq!(snapshot.online[&ws][&ana], 2, "two tabs");
        assert_eq!(snapshot.viewing[&ws], [(bo, c)]);
        assert_eq!(p.sizes(), PresenceSizes { agents_online: 2, viewing_sockets: 1, nodes: 1 });
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

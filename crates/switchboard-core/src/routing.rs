//! The routing engine (issue 14): a conversation that needs an agent is given one by
//! its team's strategy, or waits in the team's queue; a place that frees is filled from
//! the queue at once; agents claim and transfer; timers re-route and end long waits.
//!
//! Decisions are pure ([`switchboard_domain::routing::decide`]) over facts read here.
//! Facts move while a decision is taken, so the commit re-checks them inside the write
//! transaction ([`Change::Assign`] with an [`AssignGuard`]): a stale decision is refused
//! and taken again with fresh facts, never applied over capacity or twice.
//!
//! Routing runs right after the commit that needs it, in a task of its own, so the
//! visitor's first message pays no extra round trip; the conversation is in the log
//! either way, and what was not routed is picked up by the next drain of its queue.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::routing::{Candidate, Capacity, Decision, QueueEntry, QueueSummary, decide, estimate_wait_seconds};
use switchboard_domain::*;
use switchboard_store::{AssignGuard, Change, Committed, QueueScope, StoreError};

use crate::{Core, Error, JobKind, Principal, Result};

/// Decisions retried after the store refused a stale one, before giving up (the
/// conversation then stays where it is: queued, or unassigned for the next drain).
const ATTEMPTS: usize = 8;
/// Conversations one pass of a drain routes before it lets others have a turn.
const DRAIN_BATCH: usize = 10_000;
/// Visitors whose queue position is pushed after a change; further back they learn
/// their position on entering and as they move into this window.
pub const POSITIONS_PUSHED: u32 = 200;
/// How many recent waits per team the estimate uses, and how old they may be.
const WAITS_KEPT: usize = 20;
const WAITS_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Whether routing handles the conversation: only conversations of a team (the site's
/// default team or the visitor's pre-chat choice). A conversation of no team stays in
/// the inbox unassigned, as before routing existed, for anyone to claim or assign: the
/// workspace-wide queue is not routed automatically (a documented departure from the
/// contract, docs/protocol.md section 21).
fn routes(c: &Conversation) -> bool {
    c.team_id.is_some()
}

/// Whether a conversation waits for routing to give it an agent: a team's, unassigned,
/// and neither resolved nor snoozed.
fn needs_routing(c: &Conversation) -> bool {
    routes(c) && c.assignee_id.is_none() && !matches!(c.status, Status::Resolved | Status::Snoozed { .. })
}

/// Conversations one round of a drain reads from the queue's head and decides over the
/// same facts, committing their assignments together.
const DRAIN_CHUNK: u32 = 64;

/// What routing decides over for one queue, read once per decision (or per round of a
/// drain).
struct Facts {
    team: Option<Team>,
    routing: TeamRouting,
    candidates: Vec<Candidate>,
}

/// The drains running on this node, one per queue at most; the flag says another was
/// asked for while it ran, so it looks at the queue again when done.
#[derive(Default)]
pub(crate) struct Drains(Mutex<HashMap<QueueKey, bool>>);

/// A running drain's place in [`Drains`], given back if the drain fails (or its task is
/// dropped) so the queue is not left without one.
struct Flight {
    drains: Arc<Drains>,
    key: QueueKey,
    running: bool,
}

impl Drop for Flight {
    fn drop(&mut self) {
        if self.running {
            self.drains.0.lock().expect("drains lock").remove(&self.key);
        }
    }
}

/// What a drain did, for its trace: conversations it assigned, assignments the store
/// refused (another node or a claim was first), rounds, conversations it left queued
/// because their hours are closed, and passes run again because a drain was asked for
/// while it ran.
#[derive(Default)]
struct Drained {
    routed: usize,
    lost: usize,
    rounds: usize,
    paused: usize,
    reruns: usize,
}

impl Drained {
    fn add(&mut self, other: Drained) {
        self.routed += other.routed;
        self.lost += other.lost;
        self.rounds += other.rounds;
        self.paused += other.paused;
    }
}

/// Background routing tasks (after a first message, or filling freed places) that run
/// at once; the others wait for a turn.
pub const ROUTING_TASKS: usize = 8;

/// Where a conversation ended up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Routed {
    Assigned(AgentId),
    Queued,
    /// Someone else assigned it meanwhile, or it needs no routing (resolved, assigned).
    Untouched,
}

/// Where a transfer goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TransferTarget {
    Agent(AgentId),
    Team(TeamId),
}

/// What this process remembers to estimate waits: each queue's last actual waits
/// (queued → assigned), newest last. In memory: after a restart the estimate is `null`
/// until the queue has moved again (documented in docs/protocol.md).
#[derive(Default)]
pub(crate) struct Waits(Mutex<HashMap<QueueKey, Vec<(Timestamp, i64)>>>);

/// A queue: its workspace and team (`None`: the workspace-wide one).
type QueueKey = (WorkspaceId, Option<TeamId>);

impl Waits {
    fn record(&self, ws: WorkspaceId, team: Option<TeamId>, at: Timestamp, waited_ms: i64) {
        let mut all = self.0.lock().expect("waits lock");
        let list = all.entry((ws, team)).or_default();
        list.push((at, waited_ms.max(0)));
        if list.len() > WAITS_KEPT {
            list.remove(0);
        }
    }

    fn recent(&self, ws: WorkspaceId, team: Option<TeamId>, now: Timestamp) -> Vec<i64> {
        let all = self.0.lock().expect("waits lock");
        all.get(&(ws, team))
            .map(|l| l.iter().filter(|(at, _)| now.0 - at.0 <= WAITS_WINDOW_MS).map(|(_, w)| *w).collect())
            .unwrap_or_default()
    }
}

/// Coalesces `queues` frames: at most one summary per workspace every 250 ms.
#[derive(Default)]
pub(crate) struct QueueBeat(Mutex<HashMap<WorkspaceId, BeatState>>);

#[derive(Default)]
struct BeatState {
    last: Option<std::time::Instant>,
    pending: bool,
}

const BEAT: std::time::Duration = std::time::Duration::from_millis(250);

impl Core {
    /// Whether routing may give the agent a conversation now: active, and shown
    /// `online` to the team by presence ([`Core::agent_available`]: connected or in the
    /// grace period of a reload, having chosen online, not idle past auto-away). Away
    /// and offline agents are never chosen.
    pub fn routable(&self, ws: WorkspaceId, agent: &Agent) -> bool {
        agent.active && self.agent_available(ws, agent.id)
    }

    /// The workspace's limits and what each agent holds now.
    pub async fn capacity(&self, who: &Principal) -> Result<Capacity> {
        self.capacity_of(who.workspace_id).await
    }

    /// Every agent (see [`Core::agents`]) with the workspace's limits and loads, for
    /// the agents list.
    pub async fn agents_with_capacity(&self, who: &Principal) -> Result<(Vec<Agent>, Capacity)> {
        Ok((self.agents(who).await?, self.capacity_of(who.workspace_id).await?))
    }

    /// [`Core::capacity`] of a workspace, for callers that hold no principal yet (sign-in).
    pub async fn capacity_of(&self, ws: WorkspaceId) -> Result<Capacity> {
        let workspace = self.store.workspace(ws).await?;
        let loads = self.store.agent_loads(ws).await?;
        Ok(Capacity { default_max_chats: workspace.default_max_chats, open: loads.iter().map(|l| (l.agent_id, l.open_chats)).collect() })
    }

    /// Every team's queue and the workspace-wide one, empty ones included.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn queues(&self, who: &Principal) -> Result<Vec<QueueSummary>> {
        self.queues_of(who.workspace_id).await
    }

    async fn queues_of(&self, ws: WorkspaceId) -> Result<Vec<QueueSummary>> {
        let teams = self.store.teams(ws).await?;
        let found = self.store.queue_summary(ws).await?;
        let of = |team: Option<TeamId>| {
            found.iter().find(|q| q.team_id == team).copied().unwrap_or(QueueSummary { team_id: team, length: 0, oldest_queued_at: None })
        };
        Ok(std::iter::once(of(None)).chain(teams.iter().map(|t| of(Some(t.id)))).collect())
    }

    /// The 1-based queue position of each of `conversations` that is queued (the rest
    /// are absent), for conversation reads.
    pub async fn queue_positions(&self, ws: WorkspaceId, conversations: &[Conversation]) -> Result<HashMap<ConversationId, u32>> {
        let mut positions = HashMap::new();
        let mut teams: Vec<Option<TeamId>> = conversations.iter().filter(|c| c.queued_at.is_some()).map(|c| c.team_id).collect();
        teams.sort();
        teams.dedup();
        for team in teams {
            let queue = self.store.queue(ws, QueueScope::Team(team), u32::MAX >> 1).await?;
            for (i, e) in queue.iter().enumerate() {
                if conversations.iter().any(|c| c.id == e.conversation_id) {
                    positions.insert(e.conversation_id, i as u32 + 1);
                }
            }
        }
        Ok(positions)
    }

    /// A page of conversations with the queue positions of those that wait.
    pub async fn conversations_with_positions(
        &self,
        who: &Principal,
        filter: switchboard_store::ConversationFilter,
    ) -> Result<(Vec<Conversation>, HashMap<ConversationId, u32>)> {
        let list = self.conversations(who, filter).await?;
        let positions = self.queue_positions(who.workspace_id, &list).await?;
        Ok((list, positions))
    }

    /// One conversation with its queue position when it waits.
    pub async fn conversation_with_position(
        &self,
        who: &Principal,
        id: ConversationId,
    ) -> Result<(Conversation, HashMap<ConversationId, u32>)> {
        let c = self.conversation(who, id).await?;
        let positions = self.queue_positions(who.workspace_id, std::slice::from_ref(&c)).await?;
        Ok((c, positions))
    }

    /// The visitor's place in the queue of one of their conversations, with the
    /// estimated wait; `None` when it does not wait.
    pub async fn visitor_queue_place(&self, v: &crate::Visitor, id: ConversationId) -> Result<Option<(u32, Option<u32>)>> {
        let c = self.visitor_conversation(v, id).await?;
        if c.queued_at.is_none() {
            return Ok(None);
        }
        let ws = v.workspace_id();
        let Some(position) = self.queue_positions(ws, std::slice::from_ref(&c)).await?.get(&id).copied() else { return Ok(None) };
        let online = match c.team_id {
            Some(t) => self
                .store
                .team(ws, t)
                .await
                .map(|team| self.presence.online(ws).iter().filter(|a| team.agent_ids.contains(a)).count())
                .unwrap_or(0),
            None => self.presence.online(ws).len(),
        };
        Ok(Some((position, estimate_wait_seconds(&self.waits.recent(ws, c.team_id, self.now()), position, online as u32))))
    }

    /// The team a new conversation of `site` goes to: the visitor's pre-chat choice
    /// when the site asks for one and it is one of the options, else the site's default.
    pub(crate) fn team_for(&self, site: &Site, contact: &Contact) -> Option<TeamId> {
        let chosen =
            site.prechat_form.iter().filter(|f| f.kind == PrechatFieldKind::Team).find_map(|f| match contact.attributes.get(&f.key) {
                Some(AttributeValue::Text(id)) if f.options.iter().any(|o| o == id) => id.parse::<TeamId>().ok(),
                _ => None,
            });
        chosen.or(site.default_team_id)
    }

    /// Routes a conversation in the background, right after the commit that needs it.
    /// At most [`ROUTING_TASKS`] route at once: a burst of first messages waits its turn
    /// instead of exhausting the store's read connections.
    pub(crate) fn route_soon(&self, ws: WorkspaceId, id: ConversationId) {
        let core = self.clone();
        tokio::spawn(async move {
            let Ok(_turn) = core.routing_turns.clone().acquire_owned().await else { return };
            if let Err(e) = core.route(ws, id, AssignReason::Routed).await {
                tracing::warn!(workspace.id = %ws, conversation.id = %id, error = %e, "routing failed; the conversation waits for the next drain");
            }
        });
    }

    /// Fills free places from the queues `agent` serves, in the background (a place
    /// freed, or the agent became available).
    pub(crate) fn fill_soon(&self, ws: WorkspaceId, agent: Option<AgentId>) {
        let core = self.clone();
        tokio::spawn(async move {
            let Ok(_turn) = core.routing_turns.clone().acquire_owned().await else { return };
            if let Err(e) = core.fill(ws, agent).await {
                tracing::warn!(workspace.id = %ws, error = %e, "filling free places failed");
            }
        });
    }

    /// Drains every queue `agent` serves (their teams' that are not manual), or with
    /// `None` every team's queue of the workspace.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %ws), err(level = "debug"))]
    pub async fn fill(&self, ws: WorkspaceId, agent: Option<AgentId>) -> Result<usize> {
        let teams = self.store.teams(ws).await?;
        let scopes: Vec<TeamId> = teams
            .iter()
            .filter(|t| t.routing.strategy != Strategy::Manual)
            .filter(|t| agent.is_none_or(|a| t.agent_ids.contains(&a)))
            .map(|t| t.id)
            .collect();
        let mut routed = 0;
        for team in scopes {
            routed += self.drain(ws, Some(team)).await?;
        }
        Ok(routed)
    }

    /// Routes a queue's conversations from its head until nobody can take the next one.
    ///
    /// At most one drain of a queue runs on a node: a drain asked for while one runs
    /// only asks it to look again when it is done (places freed or agents came online
    /// meanwhile), so a burst of freed places or of agents coming online costs one drain,
    /// not one each racing the others for the same head. Another node may still drain
    /// the same queue; the guarded assignment stays the arbiter between them. Returns
    /// what this call routed (0 when it left the work to the drain already running).
    pub(crate) async fn drain(&self, ws: WorkspaceId, team: Option<TeamId>) -> Result<usize> {
        let key = (ws, team);
        {
            let mut running = self.drains.0.lock().expect("drains lock");
            if let Some(again) = running.get_mut(&key) {
                *again = true;
                return Ok(0);
            }
            running.insert(key, false);
        }
        let mut flight = Flight { drains: self.drains.clone(), key, running: true };
        let mut total = Drained::default();
        loop {
            total.add(self.drain_queue(ws, team).await?);
            let mut running = self.drains.0.lock().expect("drains lock");
            match running.get_mut(&key) {
                Some(again) if *again => {
                    *again = false;
                    total.reruns += 1;
                }
                _ => {
                    running.remove(&key);
                    flight.running = false;
                    break;
                }
            }
        }
        tracing::debug!(
            workspace.id = %ws,
            routed = total.routed,
            lost = total.lost,
            rounds = total.rounds,
            paused = total.paused,
            reruns = total.reruns,
            "drained a queue"
        );
        Ok(total.routed)
    }

    /// One pass over a queue, in rounds: each round reads the next [`DRAIN_CHUNK`]
    /// conversations at its head and the team's facts once, decides them one after the
    /// other over those facts (each decision taking a place in memory), and commits the
    /// guarded assignments together, which the store's writer takes as one batch. A
    /// refused assignment (another node, or a claim, took the place or the conversation)
    /// is counted as lost and decided again next round, over fresh facts. Conversations
    /// whose calendar is closed are left in the queue, with a drain due when it reopens.
    async fn drain_queue(&self, ws: WorkspaceId, team: Option<TeamId>) -> Result<Drained> {
        let mut d = Drained::default();
        // Conversations this pass leaves where they are (paused by the hours, or in no
        // state to route), so the next round reads past them.
        let mut left: HashSet<ConversationId> = HashSet::new();
        let mut hours_of: HashMap<SiteId, Option<BusinessHours>> = HashMap::new();
        let mut scheduled: HashSet<Option<Timestamp>> = HashSet::new();
        let mut fruitless = 0;
        while d.routed < DRAIN_BATCH {
            let limit = DRAIN_CHUNK.saturating_add(u32::try_from(left.len()).unwrap_or(u32::MAX));
            let heads: Vec<QueueEntry> = self
                .store
                .queue(ws, QueueScope::Team(team), limit)
                .await?
                .into_iter()
                .filter(|e| !left.contains(&e.conversation_id))
                .collect();
            if heads.is_empty() {
                break;
            }
            d.rounds += 1;
            let mut facts = self.facts(ws, team, None).await?;
            let now = self.now();
            let mut picks = vec![];
            let mut full = false;
            for head in heads.iter().take(DRAIN_CHUNK as usize) {
                let conversation = match self.store.conversation(ws, head.conversation_id).await {
                    Ok(c) => c,
                    Err(StoreError::NotFound(_)) => {
                        left.insert(head.conversation_id);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if !needs_routing(&conversation) {
                    left.insert(conversation.id);
                    continue;
                }
                if let Some(reopens_at) = self.paused(&conversation, facts.team.as_ref(), &mut hours_of).await? {
                    if scheduled.insert(reopens_at) {
                        self.drain_when_open(ws, conversation.team_id, reopens_at).await?;
                    }
                    left.insert(conversation.id);
                    d.paused += 1;
                    continue;
                }
                let helper =
                    if facts.routing.sticky { self.store.last_helper(ws, conversation.contact_id, conversation.id).await? } else { None };
                match decide(&facts.routing, &facts.candidates, helper) {
                    Decision::Assign(agent) => {
                        let Some(chosen) = facts.candidates.iter_mut().find(|c| c.agent_id == agent) else { break };
                        chosen.open_chats += 1;
                        chosen.last_assigned_at = Some(now);
                        picks.push((conversation, agent, chosen.max_chats));
                    }
                    Decision::Queue => {
                        full = true;
                        break;
                    }
                }
            }
            let mut commits = tokio::task::JoinSet::new();
            for (i, (conversation, agent, max)) in picks.into_iter().enumerate() {
                let core = self.clone();
                commits.spawn(async move {
                    let guard = AssignGuard { unassigned: true, capacity: Some(max) };
                    let data = EventData::Assigned {
                        agent_id: Some(agent),
                        team_id: conversation.team_id,
                        reason: AssignReason::Routed,
                        note: None,
                    };
                    let change = Change::Assign { conversation_id: conversation.id, actor: Actor::System, data, at: now, guard };
                    let done = core.commit(ws, change).await;
                    (i, conversation, done)
                });
            }
            let mut results = commits.join_all().await;
            results.sort_by_key(|(i, ..)| *i);
            let reroute_after = facts.team.as_ref().and_then(|t| t.routing.reroute_after_seconds);
            let (mut routed, mut moved) = (0, false);
            for (_, before, done) in results {
                match done {
                    Ok(done) => {
                        routed += 1;
                        moved |= self.left_queue(&before, &done);
                        self.first_reply_timer(&done.conversation, reroute_after).await?;
                    }
                    Err(Error::Conflict("capacity" | "assignee")) => d.lost += 1,
                    Err(e) => return Err(e),
                }
            }
            if moved {
                self.queue_moved(ws, team).await;
            }
            d.routed += routed;
            if full {
                break;
            }
            fruitless = if routed == 0 && d.lost > 0 { fruitless + 1 } else { 0 };
            if fruitless >= ATTEMPTS {
                tracing::warn!(workspace.id = %ws, lost = d.lost, "draining kept losing races; left for the next drain");
                break;
            }
        }
        Ok(d)
    }

    /// Gives an unassigned conversation to an agent by its team's strategy, or queues
    /// it. Taken again with fresh facts when the store refuses a stale decision. Outside
    /// the conversation's business hours it is queued without a decision, and its queue
    /// is drained when they reopen.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %ws, conversation.id = %id), err(level = "debug"))]
    pub async fn route(&self, ws: WorkspaceId, id: ConversationId, reason: AssignReason) -> Result<Routed> {
        for attempt in 0..ATTEMPTS {
            let conversation = self.store.conversation(ws, id).await?;
            if !needs_routing(&conversation) {
                return Ok(Routed::Untouched);
            }
            let facts = self.facts(ws, conversation.team_id, None).await?;
            if let Some(reopens_at) = self.paused(&conversation, facts.team.as_ref(), &mut HashMap::new()).await? {
                // The timer first: a crash in between leaves a drain with nothing to do,
                // never a paused conversation with no drain ahead.
                self.drain_when_open(ws, conversation.team_id, reopens_at).await?;
                self.enqueue(&conversation, conversation.team_id).await?;
                return Ok(Routed::Queued);
            }
            match self.decide_with(&conversation, &facts).await? {
                (Decision::Assign(agent), max) => {
                    let guard = AssignGuard { unassigned: true, capacity: Some(max) };
                    match self.assign_guarded(&conversation, agent, reason, None, guard).await {
                        Ok(_) => return Ok(Routed::Assigned(agent)),
                        Err(Error::Conflict("capacity")) => {
                            tracing::debug!(workspace.id = %ws, conversation.id = %id, attempt, "lost the place to another assignment; deciding again");
                            continue;
                        }
                        Err(Error::Conflict("assignee")) => return Ok(Routed::Untouched),
                        Err(e) => return Err(e),
                    }
                }
                (Decision::Queue, _) => {
                    self.enqueue(&conversation, conversation.team_id).await?;
                    return Ok(Routed::Queued);
                }
            }
        }
        tracing::warn!(workspace.id = %ws, conversation.id = %id, "routing kept losing races; left for the next drain");
        Ok(Routed::Untouched)
    }

    /// What routing decides over for a queue: the team (`None` when it has none, or it
    /// was deleted), its settings, and its members but `except` as candidates.
    async fn facts(&self, ws: WorkspaceId, team: Option<TeamId>, except: Option<AgentId>) -> Result<Facts> {
        let team = match team {
            Some(t) => match self.store.team(ws, t).await {
                Ok(team) => Some(team),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let routing = team.as_ref().map(|t| t.routing).unwrap_or_default();
        let agents = self.store.agents(ws).await?;
        let workspace = self.store.workspace(ws).await?;
        let loads = self.store.agent_loads(ws).await?;
        let load = |a: AgentId| loads.iter().find(|l| l.agent_id == a);
        let candidates: Vec<Candidate> = agents
            .iter()
            .filter(|a| team.as_ref().is_none_or(|t| t.agent_ids.contains(&a.id)) && Some(a.id) != except)
            .map(|a| Candidate {
                agent_id: a.id,
                available: self.routable(ws, a),
                open_chats: load(a.id).map_or(0, |l| l.open_chats),
                max_chats: a.max_chats.unwrap_or(workspace.default_max_chats),
                last_assigned_at: load(a.id).and_then(|l| l.last_assigned_at),
            })
            .collect();
        Ok(Facts { team, routing, candidates })
    }

    /// The decision for `conversation` over `facts`, and the chosen agent's limit.
    async fn decide_with(&self, conversation: &Conversation, facts: &Facts) -> Result<(Decision, u32)> {
        let helper = if facts.routing.sticky {
            self.store.last_helper(conversation.workspace_id, conversation.contact_id, conversation.id).await?
        } else {
            None
        };
        let decision = decide(&facts.routing, &facts.candidates, helper);
        let max = match decision {
            Decision::Assign(a) => facts.candidates.iter().find(|c| c.agent_id == a).map_or(0, |c| c.max_chats),
            Decision::Queue => 0,
        };
        Ok((decision, max))
    }

    /// Whether automatic assignment pauses for `conversation` now: its calendar (its
    /// team's hours, else its site's; `sites` caches the sites' hours) is closed. Then
    /// `Some` with when it reopens (`None` inside: no opening ahead).
    async fn paused(
        &self,
        conversation: &Conversation,
        team: Option<&Team>,
        sites: &mut HashMap<SiteId, Option<BusinessHours>>,
    ) -> Result<Option<Option<Timestamp>>> {
        let hours = match team.and_then(|t| t.business_hours.clone()) {
            Some(own) => Some(own),
            None => match sites.get(&conversation.site_id) {
                Some(hours) => hours.clone(),
                None => {
                    let hours = match self.store.site(conversation.workspace_id, conversation.site_id).await {
                        Ok(site) => site.business_hours,
                        Err(StoreError::NotFound(_)) => None,
                        Err(e) => return Err(e.into()),
                    };
                    sites.insert(conversation.site_id, hours.clone());
                    hours
                }
            },
        };
        let now = self.now();
        Ok(hours.filter(|h| !h.is_open(now)).map(|h| h.opens_at(now)))
    }

    /// Schedules the drain of `team`'s queue for when its calendar reopens (a durable
    /// job, one per team and reopening instant, so it runs once per cluster and survives
    /// a restart). Nothing to schedule with no opening ahead.
    async fn drain_when_open(&self, ws: WorkspaceId, team: Option<TeamId>, reopens_at: Option<Timestamp>) -> Result<()> {
        let (Some(team_id), Some(at)) = (team, reopens_at) else { return Ok(()) };
        self.schedule(JobKind::DrainQueue { workspace_id: ws, team_id, at }, at).await.map(drop)
    }

    /// Commits a guarded assignment, then what follows it: the wait it ended, the
    /// visitor's `queue` frame, the first-reply timer.
    pub(crate) async fn assign_guarded(
        &self,
        conversation: &Conversation,
        agent: AgentId,
        reason: AssignReason,
        note: Option<String>,
        guard: AssignGuard,
    ) -> Result<Committed> {
        let ws = conversation.workspace_id;
        let data = EventData::Assigned { agent_id: Some(agent), team_id: conversation.team_id, reason, note };
        let change = Change::Assign { conversation_id: conversation.id, actor: Actor::System, data, at: self.now(), guard };
        let done = self.commit(ws, change).await?;
        self.after_assignment(conversation, &done).await?;
        Ok(done)
    }

    /// What follows any assignment: the wait it ended is remembered for estimates, the
    /// visitor is told they left the queue, the queue's others move up, and the team's
    /// first-reply timer starts.
    async fn after_assignment(&self, before: &Conversation, done: &Committed) -> Result<()> {
        let ws = before.workspace_id;
        if self.left_queue(before, done) {
            self.queue_moved(ws, before.team_id).await;
        }
        let after = &done.conversation;
        if let Some(team) = after.team_id
            && after.assignee_id.is_some()
            && after.first_reply_at.is_none()
            && let Ok(team) = self.store.team(ws, team).await
        {
            self.first_reply_timer(after, team.routing.reroute_after_seconds).await?;
        }
        Ok(())
    }

    /// An assignment took the conversation out of its queue: the wait is remembered for
    /// estimates and the visitor is told. Says whether it did (the queue's others then
    /// move up, which the caller publishes once for all it assigned).
    fn left_queue(&self, before: &Conversation, done: &Committed) -> bool {
        let after = &done.conversation;
        let Some(queued_at) = before.queued_at else { return false };
        if after.queued_at.is_some() {
            return false;
        }
        let ws = before.workspace_id;
        self.waits.record(ws, before.team_id, self.now(), self.now().0 - queued_at.0);
        self.publish_position(after.id, 0, None);
        true
    }

    /// Starts the first-reply timer of an assigned conversation when its team has one
    /// (`reroute_after_seconds`) and nobody of the team has replied yet.
    async fn first_reply_timer(&self, after: &Conversation, reroute_after_seconds: Option<u32>) -> Result<()> {
        if let (Some(agent), Some(secs)) = (after.assignee_id, reroute_after_seconds)
            && after.team_id.is_some()
            && after.first_reply_at.is_none()
        {
            let due = self.now().plus_millis(i64::from(secs) * 1000);
            let job = JobKind::RerouteIfUnanswered { workspace_id: after.workspace_id, conversation_id: after.id, agent_id: agent };
            self.schedule(job, due).await?;
        }
        Ok(())
    }

    /// Puts a conversation in `team`'s queue (a no-op when it already is), starts the
    /// team's maximum-wait timer, and tells the visitor where they stand.
    async fn enqueue(&self, conversation: &Conversation, team: Option<TeamId>) -> Result<()> {
        let ws = conversation.workspace_id;
        let data = EventData::Queued { team_id: team, priority: conversation.priority };
        let change = Change::Record { conversation_id: conversation.id, actor: Actor::System, data, at: self.now() };
        let done = self.commit(ws, change).await?;
        if done.events.is_empty() {
            return Ok(());
        }
        if let Some(team_id) = team
            && let Ok(t) = self.store.team(ws, team_id).await
            && let Some(secs) = t.routing.max_wait_seconds
        {
            let due = self.now().plus_millis(i64::from(secs) * 1000);
            self.schedule(JobKind::MaxWait { workspace_id: ws, conversation_id: conversation.id }, due).await?;
        }
        self.queue_moved(ws, team).await;
        Ok(())
    }

    /// A queue changed: its waiting visitors hear their new places (the first
    /// [`POSITIONS_PUSHED`]) and the agents the new summary.
    async fn queue_moved(&self, ws: WorkspaceId, team: Option<TeamId>) {
        match self.store.queue(ws, QueueScope::Team(team), POSITIONS_PUSHED).await {
            Ok(queue) => self.publish_positions(ws, team, &queue).await,
            Err(e) => tracing::warn!(workspace.id = %ws, error = %e, "reading the queue for positions failed"),
        }
        self.queues_changed(ws);
    }

    async fn publish_positions(&self, ws: WorkspaceId, team: Option<TeamId>, queue: &[QueueEntry]) {
        if queue.is_empty() {
            return;
        }
        let waits = self.waits.recent(ws, team, self.now());
        let online = match team {
            Some(t) => match self.store.team(ws, t).await {
                Ok(team) => self.presence.online(ws).iter().filter(|a| team.agent_ids.contains(a)).count(),
                Err(_) => 0,
            },
            None => self.presence.online(ws).len(),
        };
        for (i, entry) in queue.iter().enumerate() {
            let position = i as u32 + 1;
            self.publish_position(entry.conversation_id, position, estimate_wait_seconds(&waits, position, online as u32));
        }
    }

    fn publish_position(&self, conversation_id: ConversationId, position: u32, estimated_wait_seconds: Option<u32>) {
        let msg = BusMessage::Queue { conversation_id, position, estimated_wait_seconds };
        self.bus.publish(Topic::Conversation(conversation_id), Arc::new(msg));
    }

    /// Publishes the workspace's queue summary to its agents, at most every 250 ms: a
    /// change within that time is sent once, at its end.
    pub(crate) fn queues_changed(&self, ws: WorkspaceId) {
        let delay = {
            let mut beats = self.queue_beat.0.lock().expect("queue beat lock");
            let state = beats.entry(ws).or_default();
            if state.pending {
                return;
            }
            let delay = state.last.map_or(std::time::Duration::ZERO, |last| BEAT.saturating_sub(last.elapsed()));
            state.pending = true;
            delay
        };
        let core = self.clone();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            {
                let mut beats = core.queue_beat.0.lock().expect("queue beat lock");
                let state = beats.entry(ws).or_default();
                state.pending = false;
                state.last = Some(std::time::Instant::now());
            }
            match core.queues_of(ws).await {
                Ok(queues) => {
                    let queues = queues.iter().map(Into::into).collect();
                    core.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::Queues { queues }));
                }
                Err(e) => tracing::warn!(workspace.id = %ws, error = %e, "reading the queues failed"),
            }
        });
    }

    /// An agent takes an unassigned conversation: the first claim wins, the others get
    /// [`Error::AlreadyAssigned`]. Capacity is not applied: an agent may knowingly take more.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn claim(&self, who: &Principal, id: ConversationId) -> Result<Committed> {
        let Some(agent) = who.agent_id() else { return Err(Error::Forbidden) };
        let conversation = self.store.conversation(who.workspace_id, id).await?;
        if conversation.assignee_id.is_some() {
            return Err(Error::AlreadyAssigned);
        }
        let data = EventData::Assigned { agent_id: Some(agent), team_id: conversation.team_id, reason: AssignReason::Claimed, note: None };
        let guard = AssignGuard { unassigned: true, capacity: None };
        let change = Change::Assign { conversation_id: id, actor: who.actor, data, at: self.now(), guard };
        let done = match self.commit(who.workspace_id, change).await {
            Err(Error::Conflict("assignee")) => return Err(Error::AlreadyAssigned),
            other => other?,
        };
        self.after_assignment(&conversation, &done).await?;
        Ok(done)
    }

    /// Hands a conversation to an available agent with a free place, or to a team
    /// (routed within it, else queued there). Frees the previous assignee's place.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn transfer(&self, who: &Principal, id: ConversationId, target: TransferTarget, note: Option<String>) -> Result<Committed> {
        let ws = who.workspace_id;
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > AssignReason::MAX_NOTE_CHARS) {
            return Err(ValidationError::new("note", "at most 1000 characters").into());
        }
        let conversation = self.store.conversation(ws, id).await?;
        let previous = conversation.assignee_id;
        let done = match target {
            TransferTarget::Agent(agent_id) => {
                let agent = self.store.agent(ws, agent_id).await?;
                if !self.routable(ws, &agent) {
                    return Err(Error::AgentUnavailable);
                }
                let max = agent.max_chats.unwrap_or(self.store.workspace(ws).await?.default_max_chats);
                let data = EventData::Assigned {
                    agent_id: Some(agent_id),
                    team_id: conversation.team_id,
                    reason: AssignReason::Transferred,
                    note,
                };
                let change = Change::Assign {
                    conversation_id: id,
                    actor: who.actor,
                    data,
                    at: self.now(),
                    guard: AssignGuard { unassigned: false, capacity: Some(max) },
                };
                let done = match self.commit(ws, change).await {
                    Err(Error::Conflict("capacity")) => return Err(Error::AgentUnavailable),
                    other => other?,
                };
                self.after_assignment(&conversation, &done).await?;
                done
            }
            TransferTarget::Team(team_id) => {
                self.store.team(ws, team_id).await?;
                let data = EventData::Assigned { agent_id: None, team_id: Some(team_id), reason: AssignReason::Transferred, note };
                let change = Change::Record { conversation_id: id, actor: who.actor, data, at: self.now() };
                let done = self.commit(ws, change).await?;
                if conversation.queued_at.is_some() && conversation.team_id != Some(team_id) {
                    self.queue_moved(ws, conversation.team_id).await;
                }
                match self.route(ws, id, AssignReason::Transferred).await? {
                    Routed::Assigned(_) | Routed::Queued => {
                        self.store.conversation(ws, id).await.map(|c| Committed { conversation: c, ..done })?
                    }
                    Routed::Untouched => done,
                }
            }
        };
        if previous.is_some() && previous != done.conversation.assignee_id {
            self.fill_soon(ws, previous);
        }
        Ok(done)
    }

    /// Sends a conversation back for routing without its current assignee (no first
    /// reply in time, or they went offline): another agent if one can take it, else the
    /// team's queue.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %ws, conversation.id = %id), err(level = "debug"))]
    pub async fn reroute(&self, ws: WorkspaceId, id: ConversationId, from: AgentId) -> Result<Routed> {
        for _ in 0..ATTEMPTS {
            let conversation = self.store.conversation(ws, id).await?;
            if !routes(&conversation) || conversation.assignee_id != Some(from) || conversation.status == Status::Resolved {
                return Ok(Routed::Untouched);
            }
            let facts = self.facts(ws, conversation.team_id, Some(from)).await?;
            // Outside the hours nobody else is given it: it waits in the queue.
            let paused = self.paused(&conversation, facts.team.as_ref(), &mut HashMap::new()).await?;
            if let Some(reopens_at) = paused {
                self.drain_when_open(ws, conversation.team_id, reopens_at).await?;
            }
            let decision = if paused.is_some() { (Decision::Queue, 0) } else { self.decide_with(&conversation, &facts).await? };
            match decision {
                (Decision::Assign(agent), max) => {
                    let guard = AssignGuard { unassigned: false, capacity: Some(max) };
                    match self.assign_guarded(&conversation, agent, AssignReason::Rerouted, None, guard).await {
                        Ok(_) => {
                            self.fill_soon(ws, Some(from));
                            return Ok(Routed::Assigned(agent));
                        }
                        Err(Error::Conflict("capacity")) => continue,
                        Err(e) => return Err(e),
                    }
                }
                (Decision::Queue, _) => {
                    let data =
                        EventData::Assigned { agent_id: None, team_id: conversation.team_id, reason: AssignReason::Rerouted, note: None };
                    let done = self.commit(ws, Change::Record { conversation_id: id, actor: Actor::System, data, at: self.now() }).await?;
                    self.enqueue(&done.conversation, done.conversation.team_id).await?;
                    self.fill_soon(ws, Some(from));
                    return Ok(Routed::Queued);
                }
            }
        }
        Ok(Routed::Untouched)
    }

    /// The first-reply timer: still assigned to the same agent with no reply from the
    /// team, the conversation is routed again.
    pub(crate) async fn reroute_if_unanswered(&self, ws: WorkspaceId, id: ConversationId, agent: AgentId) -> Result<()> {
        let conversation = match self.store.conversation(ws, id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if conversation.assignee_id == Some(agent) && conversation.first_reply_at.is_none() && conversation.status != Status::Resolved {
            self.reroute(ws, id, agent).await?;
        }
        Ok(())
    }

    /// Presence announced the agent offline (their last socket closed longer ago than the
    /// grace period, so a reload or a short drop changes nothing): their chats may be
    /// routed again, by a durable job.
    pub(crate) async fn agent_left(&self, ws: WorkspaceId, agent: AgentId) {
        // Presence announces offline only after its grace period: re-route now.
        let due = self.now();
        if let Err(e) = self.schedule(JobKind::RerouteOffline { workspace_id: ws, agent_id: agent }, due).await {
            tracing::warn!(workspace.id = %ws, agent.id = %agent, error = %e, "scheduling the offline re-route failed");
        }
    }

    /// The offline timer: an agent still offline loses their open chats in teams with
    /// `reroute_when_offline` (the workspace-wide queue counts as such a team) to
    /// another agent or the queue.
    pub(crate) async fn reroute_offline(&self, ws: WorkspaceId, agent: AgentId) -> Result<()> {
        if self.presence.online(ws).contains(&agent) {
            return Ok(());
        }
        let teams = self.store.teams(ws).await?;
        for status in ["open", "pending"] {
            let filter = switchboard_store::ConversationFilter {
                status: Some(status),
                assignee: Some(switchboard_store::AssigneeFilter::Agent(agent)),
                limit: 1000,
                ..Default::default()
            };
            for c in self.store.conversations(ws, &filter).await? {
                let routing = c.team_id.and_then(|t| teams.iter().find(|team| team.id == t)).map(|t| t.routing).unwrap_or_default();
                if routing.reroute_when_offline {
                    self.reroute(ws, c.id, agent).await?;
                }
            }
        }
        Ok(())
    }

    /// The maximum-wait timer: still queued after the team's maximum, the conversation
    /// leaves the queue (it stays in the inbox, unassigned) and the visitor is offered
    /// the offline form.
    pub(crate) async fn end_wait(&self, ws: WorkspaceId, id: ConversationId) -> Result<()> {
        let conversation = match self.store.conversation(ws, id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let Some(queued_at) = conversation.queued_at else { return Ok(()) };
        let limit = match conversation.team_id {
            Some(t) => self.store.team(ws, t).await.ok().and_then(|t| t.routing.max_wait_seconds),
            None => None,
        };
        let Some(limit) = limit else { return Ok(()) };
        let due = queued_at.plus_millis(i64::from(limit) * 1000);
        if due > self.now() {
            // Moved to another queue, or its limit grew: wait until then.
            return self.schedule(JobKind::MaxWait { workspace_id: ws, conversation_id: id }, due).await.map(drop);
        }
        let data = EventData::Dequeued { team_id: conversation.team_id, reason: DequeueReason::MaxWait };
        let done = self.commit(ws, Change::Record { conversation_id: id, actor: Actor::System, data, at: self.now() }).await?;
        if !done.events.is_empty() {
            self.bus.publish(Topic::Conversation(id), Arc::new(BusMessage::QueueTimeout { conversation_id: id }));
            self.queue_moved(ws, conversation.team_id).await;
        }
        Ok(())
    }

    /// What a change did to routing: a place freed (resolved, snoozed, reassigned) is
    /// filled from the queue, and a conversation that left its queue moves the others up.
    /// `previous` is who held the conversation before the change.
    pub(crate) async fn after_change(&self, done: &Committed, previous: Option<AgentId>) {
        let after = &done.conversation;
        let ws = after.workspace_id;
        for e in &done.events {
            match &e.data {
                EventData::StatusChanged { status: Status::Resolved | Status::Snoozed { .. } } => {
                    if let Some(agent) = after.assignee_id {
                        self.fill_soon(ws, Some(agent));
                    }
                }
                EventData::Assigned { agent_id, .. } if previous.is_some() && previous != *agent_id => self.fill_soon(ws, previous),
                EventData::Dequeued { team_id, .. } => self.queue_moved(ws, *team_id).await,
                _ => {}
            }
        }
    }
}

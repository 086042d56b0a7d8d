//! Routing decisions (issue 14), pure so every strategy and edge is tested without a
//! runtime: which available member with a free place takes a conversation, the order
//! of a waiting queue, and the wait a visitor is told to expect.
//!
//! Core gathers the facts (who is available, how many chats each holds, when each was
//! last given one, who last helped the contact) and commits the outcome with a capacity
//! check inside the store's write transaction, so a decision taken on facts that moved
//! meanwhile is refused there and taken again, never applied over capacity.

use std::cmp::Reverse;

use crate::*;

/// One team member as routing sees them at the moment of a decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Candidate {
    pub agent_id: AgentId,
    /// Online and not away: the only agents routing ever chooses.
    pub available: bool,
    /// Conversations assigned to them that are open or pending.
    pub open_chats: u32,
    /// Their own limit, or the workspace's default.
    pub max_chats: u32,
    /// When routing (or anyone) last gave them a conversation.
    pub last_assigned_at: Option<Timestamp>,
}

impl Candidate {
    /// Available with a free place.
    pub fn can_take(&self) -> bool {
        self.available && self.open_chats < self.max_chats
    }
}

/// What to do with a conversation that needs an agent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decision {
    Assign(AgentId),
    /// Nobody can take it (or the team is manual): it waits in the queue.
    Queue,
}

/// Picks the agent for a conversation of a team with `routing`, among `candidates`
/// (the team's members; everyone for the workspace-wide queue). `last_helper` is the
/// agent who last helped the contact, for sticky teams.
pub fn decide(routing: &TeamRouting, candidates: &[Candidate], last_helper: Option<AgentId>) -> Decision {
    if routing.strategy == Strategy::Manual {
        return Decision::Queue;
    }
    let free = || candidates.iter().filter(|c| c.can_take());
    if routing.sticky
        && let Some(helper) = last_helper
        && let Some(c) = free().find(|c| c.agent_id == helper)
    {
        return Decision::Assign(c.agent_id);
    }
    // `None` (never assigned) sorts before every time: a newcomer gets the next turn.
    let chosen = match routing.strategy {
        Strategy::Manual => None,
        Strategy::RoundRobin => free().min_by_key(|c| (c.last_assigned_at, c.agent_id)),
        Strategy::Balanced => free().min_by_key(|c| (c.open_chats, c.last_assigned_at, c.agent_id)),
    };
    chosen.map_or(Decision::Queue, |c| Decision::Assign(c.agent_id))
}

/// How urgent a priority is in the queue: higher goes first (`urgent` > `high` >
/// `medium` > `low` > `none`).
pub fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Urgent => 4,
        Priority::High => 3,
        Priority::Medium => 2,
        Priority::Low => 1,
        Priority::None => 0,
    }
}

/// A conversation waiting in a queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    pub team_id: Option<TeamId>,
    pub priority: Priority,
    pub queued_at: Timestamp,
}

impl QueueEntry {
    /// The queue's order: higher priority first, then longest waiting, then id (so the
    /// order is total and every node agrees on positions).
    pub fn order_key(&self) -> (Reverse<u8>, Timestamp, ConversationId) {
        (Reverse(priority_rank(self.priority)), self.queued_at, self.conversation_id)
    }
}

/// How many conversations wait in one queue, and since when the oldest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct QueueSummary {
    /// `None`: the workspace-wide queue (conversations with no team).
    pub team_id: Option<TeamId>,
    pub length: u64,
    pub oldest_queued_at: Option<Timestamp>,
}

/// The limits that apply to a workspace's agents and what each holds now.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Capacity {
    pub default_max_chats: u32,
    /// Open or pending conversations per agent; agents holding none are absent.
    pub open: std::collections::HashMap<AgentId, u32>,
}

impl Capacity {
    /// The agent's own limit, or the workspace's default.
    pub fn max_chats(&self, agent: &Agent) -> u32 {
        agent.max_chats.unwrap_or(self.default_max_chats)
    }

    pub fn open_chats(&self, agent: AgentId) -> u32 {
        self.open.get(&agent).copied().unwrap_or(0)
    }
}

/// Sorts a queue into serving order.
pub fn sort_queue(entries: &mut [QueueEntry]) {
    entries.sort_unstable_by_key(QueueEntry::order_key);
}

/// The wait a visitor at `position` (1-based) is told to expect, in seconds: the median
/// of the team's recent actual waits (milliseconds, queued → assigned) times the
/// position, divided by the members online (at least one). `None` without history.
pub fn estimate_wait_seconds(recent_waits_ms: &[i64], position: u32, online: u32) -> Option<u32> {
    if recent_waits_ms.is_empty() || position == 0 {
        return None;
    }
    let mut waits = recent_waits_ms.to_vec();
    waits.sort_unstable();
    let n = waits.len();
    let median = if n % 2 == 1 { waits[n / 2] } else { (waits[n / 2 - 1] + waits[n / 2]) / 2 };
    let total_ms = median.max(0) as i128 * i128::from(position) / i128::from(online.max(1));
    Some(u32::try_from((total_ms + 999) / 1000).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(n: u128, open: u32, max: u32, last: Option<i64>) -> Candidate {
        Candidate {
            agent_id: AgentId(uuid::Uuid::from_u128(n)),
            available: true,
            open_chats: open,
            max_chats: max,
            last_assigned_at: last.map(Timestamp),
        }
    }

    fn team(strategy: Strategy, sticky: bool) -> TeamRouting {
        TeamRouting { strategy, sticky, ..TeamRouting::default() }
    }

    #[test]
    fn balanced_gives_the_chat_to_whoever_holds_fewest() {
        let agents = [agent(1, 3, 5, Some(1)), agent(2, 1, 5, Some(9)), agent(3, 2, 5, None)];
        assert_eq!(decide(&team(Strategy::Balanced, false), &agents, None), Decision::Assign(agents[1].agent_id));
    }

    #[test]
    fn balanced_ties_go_to_whoever_was_assigned_least_recently_then_by_id() {
        let agents = [agent(1, 1, 5, Some(20)), agent(2, 1, 5, Some(10)), agent(3, 1, 5, Some(30))];
        assert_eq!(decide(&team(Strategy::Balanced, false), &agents, None), Decision::Assign(agents[1].agent_id));
        let same = [agent(7, 0, 5, None), agent(4, 0, 5, None)];
        assert_eq!(decide(&team(Strategy::Balanced, false), &same, None), Decision::Assign(same[1].agent_id), "a total order");
    }

    #[test]
    fn round_robin_takes_turns_whatever_people_hold() {
        let agents = [agent(1, 0, 5, Some(30)), agent(2, 4, 5, Some(10)), agent(3, 0, 5, Some(20))];
        assert_eq!(decide(&team(Strategy::RoundRobin, false), &agents, None), Decision::Assign(agents[1].agent_id));
        let newcomer = [agent(1, 0, 5, Some(30)), agent(2, 0, 5, None)];
        assert_eq!(decide(&team(Strategy::RoundRobin, false), &newcomer, None), Decision::Assign(newcomer[1].agent_id));
    }

    #[test]
    fn an_agent_exactly_at_capacity_is_never_chosen() {
        let agents = [agent(1, 5, 5, None), agent(2, 4, 5, Some(99))];
        for s in [Strategy::Balanced, Strategy::RoundRobin] {
            assert_eq!(decide(&team(s, false), &agents, None), Decision::Assign(agents[1].agent_id), "{s:?}");
        }
        let full = [agent(1, 5, 5, None), agent(2, 7, 5, None)];
        assert_eq!(decide(&team(Strategy::Balanced, true), &full, Some(full[0].agent_id)), Decision::Queue);
    }

    #[test]
    fn nobody_available_means_the_queue() {
        let mut away = agent(1, 0, 5, None);
        away.available = false;
        assert_eq!(decide(&team(Strategy::Balanced, false), &[away], None), Decision::Queue);
        assert_eq!(decide(&team(Strategy::RoundRobin, false), &[], None), Decision::Queue, "a team with no members");
    }

    #[test]
    fn an_agent_who_left_mid_assignment_is_not_chosen_again() {
        // Core re-decides with fresh facts after the store refused a stale choice.
        let mut agents = [agent(1, 0, 5, None), agent(2, 2, 5, None)];
        assert_eq!(decide(&team(Strategy::Balanced, false), &agents, None), Decision::Assign(agents[0].agent_id));
        agents[0].available = false;
        assert_eq!(decide(&team(Strategy::Balanced, false), &agents, None), Decision::Assign(agents[1].agent_id));
    }

    #[test]
    fn sticky_returns_to_the_last_helper_when_they_can_take_it() {
        let agents = [agent(1, 0, 5, None), agent(2, 3, 5, Some(50))];
        let helper = Some(agents[1].agent_id);
        assert_eq!(decide(&team(Strategy::Balanced, true), &agents, helper), Decision::Assign(agents[1].agent_id));
        assert_eq!(decide(&team(Strategy::Balanced, false), &agents, helper), Decision::Assign(agents[0].agent_id), "not sticky");
    }

    #[test]
    fn a_sticky_agent_who_is_unavailable_or_full_falls_back_to_the_strategy() {
        let mut agents = [agent(1, 1, 5, None), agent(2, 0, 5, None)];
        agents[1].available = false;
        assert_eq!(decide(&team(Strategy::Balanced, true), &agents, Some(agents[1].agent_id)), Decision::Assign(agents[0].agent_id));
        let full = [agent(1, 1, 5, None), agent(2, 5, 5, None)];
        assert_eq!(decide(&team(Strategy::Balanced, true), &full, Some(full[1].agent_id)), Decision::Assign(full[0].agent_id));
        let stranger = Some(AgentId(uuid::Uuid::from_u128(77)));
        assert_eq!(decide(&team(Strategy::Balanced, true), &full, stranger), Decision::Assign(full[0].agent_id), "not a member");
    }

    #[test]
    fn a_manual_team_never_assigns_even_to_the_sticky_agent() {
        let agents = [agent(1, 0, 5, None)];
        assert_eq!(decide(&team(Strategy::Manual, true), &agents, Some(agents[0].agent_id)), Decision::Queue);
    }

    #[test]
    fn the_queue_serves_priority_first_then_the_longest_wait() {
        let e = |n: u128, p, at| QueueEntry {
            conversation_id: ConversationId(uuid::Uuid::from_u128(n)),
            team_id: None,
            priority: p,
            queued_at: Timestamp(at),
        };
        let mut q = [
            e(1, Priority::None, 1),
            e(2, Priority::Low, 5),
            e(3, Priority::Urgent, 9),
            e(4, Priority::High, 8),
            e(5, Priority::High, 7),
            e(6, Priority::Medium, 2),
        ];
        sort_queue(&mut q);
        let order: Vec<u128> = q.iter().map(|e| e.conversation_id.0.as_u128()).collect();
        assert_eq!(order, [3, 5, 4, 6, 2, 1]);
    }

    #[test]
    fn the_estimate_is_the_median_wait_times_the_position_over_who_is_online() {
        assert_eq!(estimate_wait_seconds(&[], 3, 1), None, "no history");
        assert_eq!(estimate_wait_seconds(&[60_000, 10_000, 20_000], 1, 1), Some(20));
        assert_eq!(estimate_wait_seconds(&[10_000, 20_000], 3, 2), Some(23), "median 15 s × 3 / 2, rounded up");
        assert_eq!(estimate_wait_seconds(&[10_000], 2, 0), Some(20), "nobody online counts as one");
    }
}

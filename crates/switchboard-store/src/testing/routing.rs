//! Contract cases of routing (issue 14): its settings, the guarded assignment that
//! never over-assigns and makes a claim a compare-and-set, and the queue reads.

use std::sync::Arc;

use switchboard_domain::routing::QueueEntry;
use switchboard_domain::*;

use super::*;

fn assign(agent: AgentId, team: Option<TeamId>, reason: AssignReason) -> EventData {
    EventData::Assigned { agent_id: Some(agent), team_id: team, reason, note: None }
}

async fn guarded(store: &dyn Store, f: &Fixture, id: ConversationId, agent: AgentId, guard: AssignGuard) -> Result<Committed> {
    let data = assign(agent, None, AssignReason::Routed);
    store.commit(f.ws.id, Change::Assign { conversation_id: id, actor: Actor::System, data, at: Timestamp::now(), guard }).await
}

async fn record_now(store: &dyn Store, f: &Fixture, id: ConversationId, data: EventData) -> Committed {
    store.commit(f.ws.id, Change::Record { conversation_id: id, actor: Actor::System, data, at: Timestamp::now() }).await.unwrap()
}

pub async fn routing_settings_are_kept(store: Arc<dyn Store>) {
    let mut f = fixture(&*store, "routing-settings").await;
    f.ws.default_max_chats = 8;
    store.update_workspace(&f.ws).await.unwrap();
    assert_eq!(store.workspace(f.ws.id).await.unwrap().default_max_chats, 8);
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap().max_chats, None, "follows the workspace by default");
    f.agent.max_chats = Some(2);
    store.update_agent(&f.agent).await.unwrap();
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap().max_chats, Some(2));

    let routing = TeamRouting {
        strategy: Strategy::RoundRobin,
        sticky: false,
        reroute_after_seconds: Some(120),
        reroute_when_offline: false,
        max_wait_seconds: Some(600),
    };
    let team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Sales".into(),
        agent_ids: vec![f.agent.id],
        business_hours: None,
        routing,
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    assert_eq!(store.team(f.ws.id, team.id).await.unwrap().routing, routing);
    let manual = TeamRouting { strategy: Strategy::Manual, ..TeamRouting::default() };
    store.update_team(&Team { routing: manual, ..team.clone() }).await.unwrap();
    assert_eq!(store.team(f.ws.id, team.id).await.unwrap().routing, manual);

    f.site.default_team_id = Some(team.id);
    store.update_site(&f.site).await.unwrap();
    assert_eq!(store.site(f.ws.id, f.site.id).await.unwrap().default_team_id, Some(team.id));
    store.delete_team(f.ws.id, team.id).await.unwrap();
    assert_eq!(store.site(f.ws.id, f.site.id).await.unwrap().default_team_id, None, "a deleted team leaves the site");

    let other = fixture(&*store, "routing-other").await;
    let theirs = Team {
        id: TeamId::new(),
        workspace_id: other.ws.id,
        name: "T".into(),
        agent_ids: vec![],
        business_hours: None,
        routing,
        created_at: Timestamp(1),
    };
    store.create_team(&theirs).await.unwrap();
    f.site.default_team_id = Some(theirs.id);
    assert!(store.update_site(&f.site).await.is_err(), "another workspace's team is unknown");
}

pub async fn a_guarded_assignment_never_passes_capacity(store: Arc<dyn Store>) {
    let f = fixture(&*store, "capacity").await;
    let a = start(&*store, &f, Some("one")).await.conversation.id;
    let b = start(&*store, &f, Some("two")).await.conversation.id;
    let c = start(&*store, &f, Some("three")).await.conversation.id;
    let guard = AssignGuard { unassigned: true, capacity: Some(2) };
    guarded(&*store, &f, a, f.agent.id, guard).await.unwrap();
    guarded(&*store, &f, b, f.agent.id, guard).await.unwrap();
    assert!(matches!(guarded(&*store, &f, c, f.agent.id, guard).await, Err(StoreError::Conflict("capacity"))));
    assert_eq!(store.conversation(f.ws.id, c).await.unwrap().assignee_id, None, "a refused guard writes nothing");

    // Resolving frees a place; snoozing does too; pending still holds one.
    record_now(&*store, &f, a, EventData::StatusChanged { status: Status::Resolved }).await;
    guarded(&*store, &f, c, f.agent.id, guard).await.unwrap();
    let loads = store.agent_loads(f.ws.id).await.unwrap();
    assert_eq!(loads.len(), 1);
    assert_eq!((loads[0].agent_id, loads[0].open_chats), (f.agent.id, 2));
    assert!(loads[0].last_assigned_at.is_some());

    // Many guarded assignments at once, in as many batches as the writer makes of them.
    let more: Vec<ConversationId> = conversations(&*store, &f, 20).await;
    let mut racing = tokio::task::JoinSet::new();
    for id in more {
        let (store, ws, agent) = (store.clone(), f.ws.id, f.agent.id);
        racing.spawn(async move {
            let data = assign(agent, None, AssignReason::Routed);
            let guard = AssignGuard { unassigned: true, capacity: Some(5) };
            store.commit(ws, Change::Assign { conversation_id: id, actor: Actor::System, data, at: Timestamp::now(), guard }).await
        });
    }
    let won = racing.join_all().await.into_iter().filter(Result::is_ok).count();
    assert_eq!(won, 3, "2 held, 5 allowed");
    assert_eq!(store.agent_loads(f.ws.id).await.unwrap()[0].open_chats, 5);
}

/// `n` new conversations of the fixture's contact.
async fn conversations(store: &dyn Store, f: &Fixture, n: usize) -> Vec<ConversationId> {
    let mut ids = vec![];
    for i in 0..n {
        ids.push(start(store, f, Some(&format!("m{i}"))).await.conversation.id);
    }
    ids
}

pub async fn a_claim_is_a_compare_and_set_on_unassigned(store: Arc<dyn Store>) {
    let f = fixture(&*store, "claims").await;
    let bob = agent(f.ws.id, &format!("{}@claims.example", uuid::Uuid::new_v4().simple()));
    store.create_agent(&bob, "hash").await.unwrap();
    let id = start(&*store, &f, Some("help")).await.conversation.id;
    let claim = AssignGuard { unassigned: true, capacity: None };
    let (one, two) = tokio::join!(guarded(&*store, &f, id, f.agent.id, claim), guarded(&*store, &f, id, bob.id, claim));
    assert!(one.is_ok() != two.is_ok(), "exactly one claim wins: {one:?} {two:?}");
    let loser = if one.is_ok() { two } else { one };
    assert!(matches!(loser, Err(StoreError::Conflict("assignee"))));
    let events = store.conversation_events(f.ws.id, id, &EventQuery::replay(0, 100, Audience::Agents)).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.data.kind() == "assigned").count(), 1, "assigned once");
}

pub async fn queues_serve_priority_then_waiting_time(store: Arc<dyn Store>) {
    let f = fixture(&*store, "queues").await;
    let team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Sales".into(),
        agent_ids: vec![],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    let mut ids = vec![];
    for (i, (t, p)) in [(None, Priority::None), (Some(team.id), Priority::None), (Some(team.id), Priority::Urgent), (None, Priority::High)]
        .into_iter()
        .enumerate()
    {
        let id = start(&*store, &f, Some("wait")).await.conversation.id;
        if p != Priority::None {
            record_now(&*store, &f, id, EventData::PriorityChanged { priority: p }).await;
        }
        let at = Timestamp(1_000 + i as i64);
        let queued = EventData::Queued { team_id: t, priority: p };
        store.commit(f.ws.id, Change::Record { conversation_id: id, actor: Actor::System, data: queued, at }).await.unwrap();
        ids.push(id);
    }
    let entry = |i: usize, t, p| QueueEntry { conversation_id: ids[i], team_id: t, priority: p, queued_at: Timestamp(1_000 + i as i64) };
    assert_eq!(
        store.queue(f.ws.id, QueueScope::Team(Some(team.id)), 10).await.unwrap(),
        [entry(2, Some(team.id), Priority::Urgent), entry(1, Some(team.id), Priority::None)]
    );
    assert_eq!(
        store.queue(f.ws.id, QueueScope::Team(None), 10).await.unwrap(),
        [entry(3, None, Priority::High), entry(0, None, Priority::None)]
    );
    assert_eq!(
        store.queue(f.ws.id, QueueScope::All, 2).await.unwrap(),
        [entry(2, Some(team.id), Priority::Urgent), entry(3, None, Priority::High)]
    );
    let mut summary = store.queue_summary(f.ws.id).await.unwrap();
    summary.sort_by_key(|s| s.team_id);
    assert_eq!(
        summary,
        [
            QueueSummary { team_id: None, length: 2, oldest_queued_at: Some(Timestamp(1_000)) },
            QueueSummary { team_id: Some(team.id), length: 2, oldest_queued_at: Some(Timestamp(1_001)) },
        ]
    );

    // Assigning one takes it out of the queue, with a `dequeued` event of its own.
    let done = record_now(&*store, &f, ids[2], assign(f.agent.id, Some(team.id), AssignReason::Claimed)).await;
    let kinds: Vec<&str> = done.events.iter().map(|e| e.data.kind()).collect();
    assert_eq!(kinds, ["assigned", "dequeued"]);
    assert_eq!(store.conversation(f.ws.id, ids[2]).await.unwrap().queued_at, None);
    assert_eq!(store.queue(f.ws.id, QueueScope::Team(Some(team.id)), 10).await.unwrap().len(), 1);
    let other = fixture(&*store, "queues-other").await;
    assert!(store.queue_summary(other.ws.id).await.unwrap().is_empty(), "queues are per workspace");

    // The contact's next conversation remembers who helped them.
    let next = start(&*store, &f, Some("again")).await.conversation.id;
    assert_eq!(store.last_helper(f.ws.id, f.contact.id, next).await.unwrap(), Some(f.agent.id));
    assert_eq!(store.last_helper(other.ws.id, f.contact.id, next).await.unwrap(), None);
}

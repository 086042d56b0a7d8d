//! Routing at scale: hundreds of chats wait while nobody is online, then every agent
//! comes online on two nodes at once (two cores over one database, each with its own
//! presence and its own drains, as two servers of a cluster). Each node drains the team's
//! queue once however many agents arrive, and the guarded assignment arbitrates between
//! the nodes: every chat is assigned exactly once, nobody past their limit, and the
//! queue empties.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::*;
use switchboard_domain::*;
use switchboard_store::FsBlobStore;

const CHATS: usize = 300;
const AGENTS: usize = 10;
/// Exactly the room for every chat, so a single over-assignment would leave one queued
/// and another agent past their limit.
const LIMIT: u32 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_waiting_chats_drain_over_two_nodes_each_assigned_once_and_nobody_over_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bus, first) = support::open(dir.path()).await;
    // Hundreds of visitors of one site at once: far past the per-site limits, which have
    // stories of their own.
    let limits = Limits { rates: Rates::unlimited(), ..Default::default() };
    let node = |limits: Limits| Core::new(store.clone(), bus.clone(), Arc::new(FsBlobStore::new(dir.path())), limits);
    let nodes = [node(limits.clone()).await.unwrap(), node(limits).await.unwrap()];
    drop(first);

    let (ws, owner) = nodes[0].create_workspace("Rush", support::new_agent("o@rush.example", Role::Owner)).await.unwrap();
    let owner = support::as_agent(&owner);
    let mut agents = vec![];
    for i in 0..AGENTS {
        let new = NewAgent { max_chats: Some(LIMIT), ..support::new_agent(&format!("a{i}@rush.example"), Role::Agent) };
        agents.push(nodes[0].create_agent(&owner, new).await.unwrap());
    }
    let routing = RoutingPatch { strategy: Some(Strategy::Balanced), ..Default::default() };
    let team = nodes[0].create_team(&owner, "Support", agents.iter().map(|a| a.id).collect(), None, routing).await.unwrap();
    let input = SiteInput { name: Some("Shop".into()), default_team_id: Some(Some(team.id)), ..Default::default() };
    let site = nodes[0].create_site(&owner, input).await.unwrap();
    let (mut feed, _) = nodes[0].follow_feed(&owner).await.unwrap();

    // Nobody is online: every chat waits, half of them arriving on each node.
    let mut arrivals = tokio::task::JoinSet::new();
    for i in 0..CHATS {
        let (core, key) = (nodes[i % 2].clone(), site.public_key.clone());
        arrivals.spawn(async move {
            let v = core.visitor(VisitorHello { site_key: key, ..Default::default() }).await.unwrap();
            let draft = Draft { client_id: Some(format!("c{i}")), body: "hello".into(), format: MessageFormat::Text, attachments: vec![] };
            core.visitor_send(&v, None, draft).await.unwrap().conversation.id
        });
    }
    let chats: HashSet<ConversationId> = arrivals.join_all().await.into_iter().collect();
    assert_eq!(chats.len(), CHATS);

    // Every agent opens a dashboard on both nodes, one after another: each arrival asks
    // its node to drain the team's queue.
    for agent in &agents {
        for core in &nodes {
            core.agent_connected(&support::as_agent(agent)).await;
        }
    }

    // Wait on the bus (not the clock) until the queue is empty and every place is taken.
    let done = || async {
        let waiting: u64 = nodes[0].queues(&owner).await.unwrap().iter().map(|q| q.length).sum();
        let held: u32 = nodes[0].capacity(&owner).await.unwrap().open.values().sum();
        waiting == 0 && held as usize == CHATS
    };
    while !done().await {
        match tokio::time::timeout(Duration::from_secs(30), feed.recv()).await {
            Ok(_) => while feed.try_recv().is_ok() {},
            Err(_) => panic!("routing stalled"),
        }
    }

    // The log, read back in order: every chat assigned once, by routing, and no agent
    // ever given one past their limit.
    let mut assignee: HashMap<ConversationId, AgentId> = HashMap::new();
    let mut held: HashMap<AgentId, u32> = HashMap::new();
    let mut after = 0;
    loop {
        let page = store.feed(ws.id, after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.feed_seq;
        for e in page {
            if let EventData::Assigned { agent_id: Some(agent), reason, .. } = e.data {
                assert_eq!(reason, AssignReason::Routed);
                assert!(assignee.insert(e.conversation_id, agent).is_none(), "{} assigned twice", e.conversation_id);
                let n = held.entry(agent).or_default();
                *n += 1;
                assert!(*n <= LIMIT, "{agent} was given a chat past their limit");
            }
        }
    }
    assert_eq!(assignee.keys().copied().collect::<HashSet<_>>(), chats, "every chat assigned");
    assert!(agents.iter().all(|a| held.get(&a.id) == Some(&LIMIT)), "every place taken once: {held:?}");
}

//! Routing (issue 14): a new chat goes at once to an available agent with a free place,
//! or waits in the queue and the visitor learns their place; a freed place takes the
//! next one; claims are first come, first served; transfers respect availability; and
//! hundreds of chats arriving at once never overfill an agent nor get lost, and a queue
//! of hundreds drains to agents coming online, each chat assigned exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use switchboard_core::{Clock, JobKind, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{
    AgentOut, AssignReason, ConversationStatus, DequeueReason, ErrorCode, EventBody, Role, RoutingStrategy, SiteRequest, StatusRequest,
    TeamRequest, TransferRequest, UpdateAgent, UpdateWorkspace, VisitorOut,
};
use switchboard_testkit::{AgentSocket, Api, Seed, TestApp, expect_frame};
use uuid::Uuid;

use crate::support::{AGENT_PASSWORD, agent_socket_with_cookie, assert_refused, new_agent, session_cookie, visitor_with_conversation};

/// An agent who is online: signed in, with a dashboard socket open and caught up.
async fn online(app: &TestApp, owner: &Api, email: &str) -> (Uuid, Api, AgentSocket) {
    let (agent, api) = new_agent(app, owner, email, Role::Agent).await;
    let (cookie, _) = session_cookie(app, email, AGENT_PASSWORD).await;
    let mut ws = agent_socket_with_cookie(app, &cookie).await;
    expect_frame!(ws, AgentOut::CaughtUp { .. }).expect("caught up");
    (agent.id, api, ws)
}

/// The next `assigned` event about `conversation` on an agent socket.
async fn assigned(ws: &mut AgentSocket, conversation: Uuid) -> (Option<Uuid>, AssignReason) {
    expect_frame!(ws, AgentOut::Event { event } if event.conversation_id == conversation && matches!(event.body, EventBody::Assigned { .. }) => match event.body {
        EventBody::Assigned { assignee_id, reason, .. } => (assignee_id, reason),
        _ => unreachable!(),
    })
    .expect("assigned")
}

/// A balanced team of `members` that the seed's site sends its chats to (a chat of no
/// team is not routed).
async fn team_of(owner: &Api, seed: &Seed, members: Vec<Uuid>) -> Uuid {
    let team =
        owner.create_team(&TeamRequest { name: Some("Support".into()), agent_ids: Some(members), ..Default::default() }).await.unwrap();
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..Default::default() }).await.unwrap();
    team.id
}

async fn limit(owner: &Api, agent: Uuid, n: u32) {
    owner.update_agent(agent, &UpdateAgent { max_chats: Some(Some(n)), ..Default::default() }).await.expect("limit");
}

#[tokio::test]
async fn a_new_chat_goes_to_an_available_agent_else_waits_and_a_freed_place_takes_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (ana, ana_api, mut ana_ws) = online(&app, &owner, "ana@acme.example").await;
    limit(&owner, ana, 1).await;
    let team = team_of(&owner, &seed, vec![ana]).await;

    let (_first_visitor, first) = visitor_with_conversation(&app, &seed, "v1", "Hello").await;
    assert_eq!(assigned(&mut ana_ws, first).await, (Some(ana), AssignReason::Routed), "Ana is online with a free place");

    // Ana is full: the next visitor waits, first in line, and hears it.
    let (mut waiting, second) = visitor_with_conversation(&app, &seed, "v2", "Anyone there?").await;
    let (id, position) =
        expect_frame!(waiting, VisitorOut::Queue { conversation_id, position, .. } => (conversation_id, position)).unwrap();
    assert_eq!((id, position), (second, 1));
    let queued = expect_frame!(ana_ws, AgentOut::Event { event } if event.conversation_id == second && matches!(event.body, EventBody::Queued { .. }) => event.seq);
    assert!(queued.is_ok(), "agents see the queue entry in the log");
    let queues =
        expect_frame!(ana_ws, AgentOut::Queues { queues } if queues.iter().any(|q| q.team_id == Some(team) && q.length == 1) => queues);
    assert!(queues.is_ok(), "the dashboard hears the queue's length");
    let listed = owner.conversation(second).await.unwrap();
    assert_eq!((listed.queue_position, listed.assignee_id), (Some(1), None));
    assert!(listed.queued_at.is_some());
    let me = ana_api.me().await.unwrap();
    assert_eq!((me.agent.open_chats, me.agent.effective_max_chats, me.agent.max_chats), (1, 1, Some(1)));

    // Resolving the first frees Ana's place, and the waiting chat takes it at once.
    ana_api.set_status(first, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await.unwrap();
    assert_eq!(assigned(&mut ana_ws, second).await, (Some(ana), AssignReason::Routed));
    // (The place may be told twice on entering: once as the socket starts following the
    // conversation, once when routing queues it.)
    let left = expect_frame!(waiting, VisitorOut::Queue { conversation_id, position: 0, estimated_wait_seconds } if conversation_id == second => estimated_wait_seconds);
    assert_eq!(left.expect("the visitor leaves the queue"), None);
    let dequeued = expect_frame!(ana_ws, AgentOut::Event { event } if event.conversation_id == second && matches!(event.body, EventBody::Dequeued { .. }) => event.body);
    assert!(matches!(dequeued.unwrap(), EventBody::Dequeued { reason: DequeueReason::Assigned, .. }));
    assert!(owner.queues().await.unwrap().queues.iter().all(|q| q.length == 0));
}

#[tokio::test]
async fn nobody_online_means_the_queue_and_an_agent_coming_online_drains_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("quiet").await;
    let owner = app.owner(&seed).await;
    let (bo, _) = new_agent(&app, &owner, "bo@quiet.example", Role::Agent).await;
    team_of(&owner, &seed, vec![bo.id]).await;
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v1", "Hello?").await;
    let waits = || async { owner.conversation(conv).await.unwrap() };
    // Routing runs right after the commit, off the visitor's path: wait for its outcome.
    let mut tries = 0;
    while waits().await.queued_at.is_none() {
        tries += 1;
        assert!(tries < 500, "the conversation was never queued");
        tokio::task::yield_now().await;
    }
    let (cookie, _) = session_cookie(&app, "bo@quiet.example", AGENT_PASSWORD).await;
    let mut bo_ws = agent_socket_with_cookie(&app, &cookie).await;
    assert_eq!(assigned(&mut bo_ws, conv).await, (Some(bo.id), AssignReason::Routed), "Bo coming online takes the waiting chat");
}

#[tokio::test]
async fn the_first_claim_wins_and_the_others_are_told_already_assigned() {
    let app = TestApp::spawn().await;
    let seed = app.seed("claims").await;
    let owner = app.owner(&seed).await;
    let (ana, ana_api, _ana_ws) = online(&app, &owner, "ana@claims.example").await;
    let (_bo, bo_api, _bo_ws) = online(&app, &owner, "bo@claims.example").await;
    let team = owner
        .create_team(&TeamRequest {
            name: Some("Sales".into()),
            agent_ids: Some(vec![ana]),
            strategy: Some(RoutingStrategy::Manual),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(team.strategy, RoutingStrategy::Manual);
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..Default::default() }).await.unwrap();
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v1", "Prices?").await;
    let position = expect_frame!(visitor, VisitorOut::Queue { position, .. } => position).unwrap();
    assert_eq!(position, 1, "a manual team never assigns: the chat waits for a claim");

    let (a, b) = tokio::join!(ana_api.claim(conv), bo_api.claim(conv));
    assert!(a.is_ok() != b.is_ok(), "exactly one claim wins");
    let loser = if a.is_ok() { b } else { a };
    assert_refused(loser, StatusCode::CONFLICT, ErrorCode::AlreadyAssigned);
    let after = owner.conversation(conv).await.unwrap();
    assert!(after.assignee_id.is_some() && after.queued_at.is_none());
}

#[tokio::test]
async fn a_transfer_goes_only_to_an_available_agent_with_room_and_to_a_team_by_its_strategy() {
    let app = TestApp::spawn().await;
    let seed = app.seed("moves").await;
    let owner = app.owner(&seed).await;
    let (ana, ana_api, mut ana_ws) = online(&app, &owner, "ana@moves.example").await;
    team_of(&owner, &seed, vec![ana]).await;
    let (away, _away_api) = new_agent(&app, &owner, "away@moves.example", Role::Agent).await;
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v1", "Help").await;
    assert_eq!(assigned(&mut ana_ws, conv).await, (Some(ana), AssignReason::Routed));

    let to_offline = ana_api.transfer(conv, &TransferRequest { agent_id: Some(away.id), team_id: None, note: None }).await;
    assert_refused(to_offline, StatusCode::CONFLICT, ErrorCode::AgentUnavailable);
    let both = ana_api.transfer(conv, &TransferRequest { agent_id: Some(ana), team_id: Some(Uuid::new_v4()), note: None }).await;
    assert!(both.is_err(), "exactly one target");

    let (bo, _bo_api, mut bo_ws) = online(&app, &owner, "bo@moves.example").await;
    let billing =
        owner.create_team(&TeamRequest { name: Some("Billing".into()), agent_ids: Some(vec![bo]), ..Default::default() }).await.unwrap();
    let moved = ana_api
        .transfer(conv, &TransferRequest { agent_id: None, team_id: Some(billing.id), note: Some("VIP, be kind".into()) })
        .await
        .unwrap();
    assert_eq!((moved.assignee_id, moved.team_id), (Some(bo), Some(billing.id)), "routed within the team");
    let note = expect_frame!(bo_ws, AgentOut::Event { event } if event.conversation_id == conv && matches!(&event.body, EventBody::Assigned { reason: AssignReason::Transferred, .. }) => match event.body {
        EventBody::Assigned { note, .. } => note,
        _ => unreachable!(),
    });
    assert_eq!(note.unwrap().as_deref(), Some("VIP, be kind"), "agents see the transfer note");
}

#[tokio::test]
async fn a_long_wait_offers_the_visitor_the_offline_form() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("slow").await;
    let owner = app.owner(&seed).await;
    let team = owner
        .create_team(&TeamRequest { name: Some("Night".into()), max_wait_seconds: Some(Some(60)), ..Default::default() })
        .await
        .unwrap();
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..Default::default() }).await.unwrap();
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v1", "Still there?").await;
    expect_frame!(visitor, VisitorOut::Queue { position: 1, .. } => ()).expect("queued");
    assert!(app.run_pending_jobs().await.is_empty(), "not yet");
    clock.advance(61_000);
    // The visitor hears their place from the store as soon as the `queued` event is in; the
    // timer is stored just after, so it may not be there the first time round (at most 10 s).
    let ran = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ran = app.run_pending_jobs().await;
            if !ran.is_empty() {
                return ran;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let ran = ran.await.expect("the maximum wait's timer within 10 s");
    assert!(matches!(ran.as_slice(), [j] if matches!(j.kind, Some(JobKind::MaxWait { .. }))), "{ran:?}");
    let timed_out = expect_frame!(visitor, VisitorOut::QueueTimeout { conversation_id } => conversation_id).unwrap();
    assert_eq!(timed_out, conv);
    let c = owner.conversation(conv).await.unwrap();
    assert_eq!((c.queued_at, c.assignee_id, c.status), (None, None, ConversationStatus::Open), "it stays in the inbox, unassigned");
    let _ = clock.now();
}

#[tokio::test]
async fn no_first_reply_in_time_routes_the_chat_to_someone_else() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("nudge").await;
    let owner = app.owner(&seed).await;
    let (ana, _ana_api, mut ana_ws) = online(&app, &owner, "ana@nudge.example").await;
    let team = owner
        .create_team(&TeamRequest {
            name: Some("Desk".into()),
            agent_ids: Some(vec![ana]),
            reroute_after_seconds: Some(Some(30)),
            ..Default::default()
        })
        .await
        .unwrap();
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..Default::default() }).await.unwrap();
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v1", "Hi").await;
    assert_eq!(assigned(&mut ana_ws, conv).await, (Some(ana), AssignReason::Routed));
    let (bo, _bo_api, _bo_ws) = online(&app, &owner, "bo@nudge.example").await;
    owner.update_team(team.id, &TeamRequest { agent_ids: Some(vec![ana, bo]), ..Default::default() }).await.unwrap();
    clock.advance(31_000);
    app.run_pending_jobs().await;
    assert_eq!(assigned(&mut ana_ws, conv).await, (Some(bo), AssignReason::Rerouted), "Ana did not answer: Bo gets it");
}

/// The heart of it: hundreds of chats arrive at once while agents come and go, claim
/// and resolve. Read back from the log, no agent was ever routed past their limit, no
/// conversation was held by two agents, none was lost, and the queue drained.
#[tokio::test]
async fn hundreds_of_chats_at_once_never_overfill_an_agent_nor_get_lost() {
    const CHATS: usize = 200;
    const LIMIT: u32 = 3;
    // Hundreds of visitors from one address at once, far more than the limit on new
    // sessions per address lets in (limits.rs has the stories of that limit).
    let limits = switchboard_core::Limits { rates: switchboard_core::Rates::unlimited(), ..Default::default() };
    let app = TestApp::spawn_with(switchboard_server::ServerConfig::default(), limits).await;
    let seed = app.seed("rush").await;
    let owner = app.owner(&seed).await;
    owner.update_workspace(&UpdateWorkspace { default_max_chats: Some(LIMIT), ..Default::default() }).await.unwrap();
    let mut agents = vec![];
    for i in 0..6 {
        agents.push(online(&app, &owner, &format!("a{i}@rush.example")).await);
    }
    let team = team_of(&owner, &seed, agents.iter().map(|a| a.0).collect()).await;
    // Visitors arrive all at once.
    let mut arrivals = tokio::task::JoinSet::new();
    for i in 0..CHATS {
        let (url, key) = (app.url(""), seed.site.public_key.clone());
        arrivals.spawn(async move {
            let mut v = switchboard_testkit::VisitorSocket::open(&url, &key, None, vec![]).await.expect("visitor");
            v.say(None, &format!("c{i}"), "hello").await.expect("ack").conversation_id
        });
    }
    // Meanwhile one agent leaves and comes back, and another claims what it can.
    let leaving = agents.pop().unwrap();
    drop(leaving.2);
    let conversations: Vec<Uuid> = arrivals.join_all().await;
    assert_eq!(conversations.iter().collect::<HashSet<_>>().len(), CHATS);
    let (back, _, _back_ws) = online(&app, &owner, "back@rush.example").await;
    let mut members: Vec<Uuid> = agents.iter().map(|a| a.0).collect();
    members.push(back);
    owner.update_team(team, &TeamRequest { agent_ids: Some(members), ..Default::default() }).await.unwrap();

    // Agents resolve whatever they hold until every chat is done.
    let mut resolved: HashSet<Uuid> = HashSet::new();
    let mut rounds = 0;
    while resolved.len() < CHATS {
        rounds += 1;
        assert!(rounds < 2_000, "the queue did not drain: {} of {CHATS} resolved", resolved.len());
        let mut progressed = false;
        for id in &conversations {
            if resolved.contains(id) {
                continue;
            }
            let c = owner.conversation(*id).await.unwrap();
            if c.assignee_id.is_some() {
                owner.set_status(*id, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await.unwrap();
                resolved.insert(*id);
                progressed = true;
            }
        }
        if !progressed {
            // Routing runs in its own task right after each commit: let it work.
            tokio::task::yield_now().await;
        }
    }

    // The log, read back in order: at no point was an agent given a chat by routing
    // while holding their limit, and no chat had two assignees.
    let mut holding: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    let mut owner_of: HashMap<Uuid, Uuid> = HashMap::new();
    let mut after = 0;
    loop {
        let page = app.core.store.feed(seed.workspace.id, after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.feed_seq;
        for e in page {
            let conv = e.conversation_id.0;
            match e.data {
                switchboard_domain::EventData::Assigned { agent_id, reason, .. } => {
                    if let Some(previous) = owner_of.remove(&conv) {
                        holding.get_mut(&previous).map(|s| s.remove(&conv));
                    }
                    if let Some(agent) = agent_id {
                        let held = holding.entry(agent.0).or_default();
                        if reason == switchboard_domain::AssignReason::Routed {
                            assert!((held.len() as u32) < LIMIT, "routing gave {agent} a chat over their limit");
                        }
                        held.insert(conv);
                        owner_of.insert(conv, agent.0);
                    }
                }
                switchboard_domain::EventData::StatusChanged { status: switchboard_domain::Status::Resolved } => {
                    if let Some(agent) = owner_of.get(&conv) {
                        holding.get_mut(agent).map(|s| s.remove(&conv));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(owner.queues().await.unwrap().queues.iter().all(|q| q.length == 0), "the queue drained");
}

#[tokio::test]
async fn three_hundred_visitors_reach_ten_agents_each_chat_assigned_once_and_the_queue_empties() {
    const VISITORS: usize = 300;
    const AGENTS: usize = 10;
    const LIMIT: u32 = 30;
    let limits = switchboard_core::Limits { rates: switchboard_core::Rates::unlimited(), ..Default::default() };
    let app = TestApp::spawn_with(switchboard_server::ServerConfig::default(), limits).await;
    let seed = app.seed("crowd").await;
    let owner = app.owner(&seed).await;
    owner.update_workspace(&UpdateWorkspace { default_max_chats: Some(LIMIT), ..Default::default() }).await.unwrap();
    // A supervisor, in no team, watches the workspace's log live.
    let (_, _, mut watcher) = online(&app, &owner, "watch@crowd.example").await;
    let mut members = vec![];
    for i in 0..AGENTS {
        members.push(new_agent(&app, &owner, &format!("a{i}@crowd.example"), Role::Agent).await.0.id);
    }
    team_of(&owner, &seed, members.clone()).await;

    // Half the visitors arrive while nobody of the team is online: they queue.
    let arrive = |range: std::ops::Range<usize>| {
        let mut arrivals = tokio::task::JoinSet::new();
        for i in range {
            let (url, key) = (app.url(""), seed.site.public_key.clone());
            arrivals.spawn(async move {
                let mut v = switchboard_testkit::VisitorSocket::open(&url, &key, None, vec![]).await.expect("visitor");
                let id = v.say(None, &format!("c{i}"), "hello").await.expect("ack").conversation_id;
                (id, v)
            });
        }
        arrivals
    };
    let early = arrive(0..VISITORS / 2).join_all().await;
    // The rest arrive while the ten agents come online.
    let late = arrive(VISITORS / 2..VISITORS);
    let mut dashboards = vec![];
    for i in 0..AGENTS {
        let (cookie, _) = session_cookie(&app, &format!("a{i}@crowd.example"), AGENT_PASSWORD).await;
        dashboards.push(agent_socket_with_cookie(&app, &cookie).await);
    }
    let late = late.join_all().await;
    let chats: HashSet<Uuid> = early.iter().chain(&late).map(|(id, _)| *id).collect();
    assert_eq!(chats.len(), VISITORS);

    // Every chat is assigned once, to a member, as the supervisor sees it happen.
    let mut assignee: HashMap<Uuid, Uuid> = HashMap::new();
    while assignee.len() < VISITORS {
        let (id, agent) = expect_frame!(watcher, AgentOut::Event { event } if matches!(event.body, EventBody::Assigned { assignee_id: Some(_), .. }) => match event.body {
            EventBody::Assigned { assignee_id: Some(agent), .. } => (event.conversation_id, agent),
            _ => unreachable!(),
        })
        .unwrap_or_else(|e| panic!("only {} of {VISITORS} chats were assigned: {e:?}", assignee.len()));
        assert!(chats.contains(&id), "an assignment of a chat nobody started");
        assert!(members.contains(&agent), "assigned outside the team");
        assert!(assignee.insert(id, agent).is_none(), "{id} assigned twice");
    }
    let mut held: HashMap<Uuid, u32> = HashMap::new();
    for agent in assignee.values() {
        *held.entry(*agent).or_default() += 1;
    }
    assert!(held.values().all(|n| *n <= LIMIT), "an agent over their limit: {held:?}");
    assert_eq!(held.values().sum::<u32>(), VISITORS as u32);
    assert!(owner.queues().await.unwrap().queues.iter().all(|q| q.length == 0), "the queue emptied");
    for agent in &members {
        let open = owner.agent(*agent).await.unwrap().open_chats;
        assert_eq!(open, held.get(agent).copied().unwrap_or(0), "the store agrees with the log");
    }
}

/// A `send` that starts a conversation with a chosen team, answered with its ack or error.
async fn start_in_team(visitor: &mut switchboard_testkit::VisitorSocket, client_id: &str, team: Uuid) -> Result<Uuid, (ErrorCode, String)> {
    let frame = switchboard_testkit::proto::VisitorIn::Send {
        client_id: client_id.into(),
        conversation_id: None,
        body: "Which team is this?".into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        team_id: Some(team),
        invitation_id: None,
    };
    visitor.send(&frame).await.unwrap();
    expect_frame!(visitor, f @ (VisitorOut::Ack { .. } | VisitorOut::Error { .. }) => match f {
        VisitorOut::Ack { conversation_id, .. } => Ok(conversation_id),
        VisitorOut::Error { code, message, .. } => Err((code, message)),
        _ => unreachable!(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_visitor_picks_one_of_the_teams_the_site_offers_and_the_chat_goes_to_that_teams_queue() {
    let app = TestApp::spawn().await;
    let seed = app.seed("choice").await;
    let owner = app.owner(&seed).await;
    let team = |name: &str| TeamRequest { name: Some(name.into()), strategy: Some(RoutingStrategy::Manual), ..Default::default() };
    let sales = owner.create_team(&team("Satış")).await.unwrap();
    let support = owner.create_team(&team("Destek")).await.unwrap();
    let internal = owner.create_team(&team("Internal")).await.unwrap();
    let field = switchboard_testkit::proto::PrechatField {
        key: "team".into(),
        label: "Konu".into(),
        kind: switchboard_testkit::proto::PrechatFieldKind::Team,
        required: true,
        options: vec![sales.id.to_string(), support.id.to_string()],
    };
    let set = SiteRequest { prechat_form: Some(vec![field]), default_team_id: Some(Some(sales.id)), ..Default::default() };
    owner.update_site(seed.site.id.0, &set).await.unwrap();

    // The widget learns the offered teams' names, and only those.
    let offered = |teams: &[switchboard_testkit::proto::PublicTeam]| teams.iter().map(|t| (t.id, t.name.clone())).collect::<Vec<_>>();
    let expected = vec![(sales.id, "Satış".to_owned()), (support.id, "Destek".to_owned())];
    let launcher = Api::new(app.url("")).widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!(offered(&launcher.teams), expected);
    let mut visitor = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { site, .. }) = &visitor.welcome else { panic!("no welcome") };
    assert_eq!(offered(&site.teams), expected);

    // The chosen team takes the conversation (not the site's default), in its queue.
    let chat = start_in_team(&mut visitor, "p-1", support.id).await.expect("an offered team");
    let queued = expect_frame!(visitor, VisitorOut::Queue { conversation_id, position, .. } if conversation_id == chat => position);
    assert_eq!(queued.unwrap(), 1, "first in the support queue");
    let listed = owner.conversation(chat).await.unwrap();
    assert_eq!((listed.team_id, listed.queue_position), (Some(support.id), Some(1)));

    // A team the site does not offer, or a team named on a running conversation, is refused.
    let (code, message) = start_in_team(&mut visitor, "p-2", internal.id).await.unwrap_err();
    assert_eq!(code, ErrorCode::ValidationFailed);
    assert!(message.contains("team_id"), "{message}");
    let (code, _) = start_in_team(&mut visitor, "p-3", Uuid::now_v7()).await.unwrap_err();
    assert_eq!(code, ErrorCode::ValidationFailed);
    let onto_running = switchboard_testkit::proto::VisitorIn::Send {
        client_id: "p-4".into(),
        conversation_id: Some(chat),
        body: "and also".into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        team_id: Some(sales.id),
        invitation_id: None,
    };
    visitor.send(&onto_running).await.unwrap();
    let refused = expect_frame!(visitor, VisitorOut::Error { code, reference: Some(r), .. } if r == "p-4" => code);
    assert_eq!(refused.unwrap(), ErrorCode::ValidationFailed);
    assert_eq!(owner.queues().await.unwrap().queues.iter().map(|q| q.length).sum::<u64>(), 1, "nothing else was started");
}

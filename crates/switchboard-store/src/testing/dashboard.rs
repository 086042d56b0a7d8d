//! Contract cases for what the agent dashboard keeps: an agent's status, notification
//! preferences and activity, sessions kept across a password change, personal canned
//! responses, and managed labels.

use std::sync::Arc;

use switchboard_domain::*;

use super::{agent, fixture};
use crate::*;

pub async fn an_agent_keeps_status_notifications_and_activity(store: Arc<dyn Store>) {
    let f = fixture(&*store, "a").await;
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap(), f.agent, "a new agent is online, active, told of everything");
    let mut changed = f.agent.clone();
    changed.status = AgentStatus::Away;
    changed.notifications = NotificationPrefs { sound: false, desktop: true, new_conversation: false, new_message: true };
    changed.active = false;
    store.update_agent(&changed).await.unwrap();
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap(), changed);
    let (found, _) = store.agent_credentials(&f.agent.email).await.unwrap().unwrap();
    assert_eq!(found, changed, "sign-in sees the same agent, so it can refuse an inactive one");
}

pub async fn changing_a_password_can_keep_the_current_session(store: Arc<dyn Store>) {
    let f = fixture(&*store, "s").await;
    let other = agent(f.ws.id, "other@s.example");
    store.create_agent(&other, "h").await.unwrap();
    let session = |hash: &str, agent_id| Session {
        id: SessionId::new(),
        token_hash: hash.into(),
        agent_id,
        workspace_id: f.ws.id,
        csrf_token: "c".into(),
        created_at: Timestamp(100),
        expires_at: Timestamp(10_000),
        last_used_at: Timestamp(100),
        user_agent: None,
        ip: None,
        must_enrol: false,
    };
    for (hash, who) in [("laptop", f.agent.id), ("phone", f.agent.id), ("theirs", other.id)] {
        store.create_session(&session(hash, who)).await.unwrap();
    }
    store.delete_other_sessions(f.agent.id, "laptop").await.unwrap();
    assert!(store.session("laptop", Timestamp(200)).await.unwrap().is_some(), "the session that asked stays");
    assert!(store.session("phone", Timestamp(200)).await.unwrap().is_none(), "the agent's other sessions end");
    assert!(store.session("theirs", Timestamp(200)).await.unwrap().is_some(), "another agent's session is left alone");
}

fn canned(ws: WorkspaceId, owner: Option<AgentId>, shortcut: &str, body: &str) -> CannedResponse {
    CannedResponse {
        id: CannedResponseId::new(),
        workspace_id: ws,
        shortcut: shortcut.into(),
        body: body.into(),
        owner_id: owner,
        created_at: Timestamp(1),
    }
}

pub async fn personal_canned_responses_are_their_agents_own(store: Arc<dyn Store>) {
    let f = fixture(&*store, "c").await;
    let (ana, bo) = (f.agent.id, agent(f.ws.id, "bo@c.example"));
    store.create_agent(&bo, "h").await.unwrap();
    let shared = canned(f.ws.id, None, "hi", "Hello! How can I help?");
    let anas = canned(f.ws.id, Some(ana), "hi", "Merhaba, ben Ana.");
    let bos = canned(f.ws.id, Some(bo.id), "bye", "Goodbye!");
    for c in [&shared, &anas, &bos] {
        store.create_canned(c).await.unwrap();
    }
    let again = canned(f.ws.id, Some(ana), "hi", "twice");
    assert!(matches!(store.create_canned(&again).await, Err(StoreError::Conflict("shortcut"))), "unique among Ana's own");
    let shared_again = canned(f.ws.id, None, "hi", "twice");
    assert!(matches!(store.create_canned(&shared_again).await, Err(StoreError::Conflict("shortcut"))), "unique among the workspace's");

    assert_eq!(store.canned_responses(f.ws.id, Some(ana)).await.unwrap(), vec![shared.clone(), anas.clone()], "shared first");
    assert_eq!(store.canned_responses(f.ws.id, Some(bo.id)).await.unwrap(), vec![bos.clone(), shared.clone()]);
    assert_eq!(store.canned_responses(f.ws.id, None).await.unwrap(), vec![shared.clone()], "only the shared ones");

    let mut edited = anas.clone();
    edited.body = "سلام، من آنا هستم.".into();
    edited.owner_id = None;
    store.update_canned(&edited).await.unwrap();
    assert_eq!(store.canned(f.ws.id, anas.id).await.unwrap(), CannedResponse { owner_id: Some(ana), ..edited }, "the owner never changes");

    store.delete_agent(f.ws.id, bo.id).await.unwrap();
    assert!(matches!(store.canned(f.ws.id, bos.id).await, Err(StoreError::NotFound(Entity::CannedResponse))), "gone with its agent");
}

pub async fn managed_labels_are_unique_renamed_and_deleted(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let label = |ws, name: &str, color: &str| ManagedLabel {
        workspace_id: ws,
        name: Label::parse(name).unwrap(),
        color: Color::parse(color).unwrap(),
        description: format!("{name} questions"),
        created_at: Timestamp(1),
    };
    let billing = label(a.ws.id, "billing", "#d1242f");
    let vip = label(a.ws.id, "vip", "#8250df");
    store.create_label(&vip).await.unwrap();
    store.create_label(&billing).await.unwrap();
    assert!(matches!(store.create_label(&billing).await, Err(StoreError::Conflict("label"))));
    store.create_label(&label(b.ws.id, "billing", "#000")).await.unwrap();
    assert_eq!(store.labels(a.ws.id).await.unwrap(), vec![billing.clone(), vip.clone()], "by name, this workspace's only");

    let renamed = ManagedLabel { name: Label::parse("payments").unwrap(), color: Color::parse("#0a0").unwrap(), ..billing.clone() };
    store.update_label(&billing.name, &renamed).await.unwrap();
    assert_eq!(store.label(a.ws.id, &renamed.name).await.unwrap(), renamed);
    assert!(matches!(store.label(a.ws.id, &billing.name).await, Err(StoreError::NotFound(Entity::Label))));
    let onto_vip = ManagedLabel { name: vip.name.clone(), ..renamed.clone() };
    assert!(matches!(store.update_label(&renamed.name, &onto_vip).await, Err(StoreError::Conflict("label"))));
    assert!(matches!(store.update_label(&billing.name, &renamed).await, Err(StoreError::NotFound(Entity::Label))));

    assert!(matches!(store.delete_label(b.ws.id, &vip.name).await, Err(StoreError::NotFound(Entity::Label))), "not another's");
    store.delete_label(a.ws.id, &vip.name).await.unwrap();
    assert_eq!(store.labels(a.ws.id).await.unwrap(), vec![renamed]);
}

/// Starts a conversation at `at`, with a first message from the contact when `says`.
async fn started_at(store: &dyn Store, f: &super::Fixture, at: i64, says: Option<&str>) -> Conversation {
    let conversation = Conversation::new(f.ws.id, f.site.id, f.contact.id, Timestamp(at));
    let first_message = says.map(|b| super::text(Actor::Contact(f.contact.id), b, Some(&uuid::Uuid::new_v4().to_string())));
    store.commit(f.ws.id, Change::Start { conversation, first_message }).await.unwrap().conversation
}

async fn record(store: &dyn Store, f: &super::Fixture, id: ConversationId, actor: Actor, data: EventData, at: i64) -> Committed {
    store.commit(f.ws.id, Change::Record { conversation_id: id, actor, data, at: Timestamp(at) }).await.unwrap()
}

async fn post(store: &dyn Store, f: &super::Fixture, id: ConversationId, message: NewMessage, at: i64) -> Committed {
    store.commit(f.ws.id, Change::Post { conversation_id: id, message, at: Timestamp(at) }).await.unwrap()
}

fn message(actor: Actor, body: &str) -> NewMessage {
    super::text(actor, body, Some(&uuid::Uuid::new_v4().to_string()))
}

pub async fn the_waiting_sort_pages_longest_waiting_first(store: Arc<dyn Store>) {
    let f = fixture(&*store, "w").await;
    let agent = Actor::Agent(f.agent.id);
    let recent = started_at(&*store, &f, 100, Some("Is anyone there?")).await;
    let oldest = started_at(&*store, &f, 50, Some("My order never arrived.")).await;
    let answered = started_at(&*store, &f, 10, Some("Hello")).await;
    post(&*store, &f, answered.id, message(agent, "Hi! How can I help?"), 20).await;
    let silent = started_at(&*store, &f, 30, None).await;
    // Waiting since the first unanswered message: a second one does not move it.
    post(&*store, &f, recent.id, message(Actor::Contact(f.contact.id), "Hello?"), 120).await;

    let expected = vec![oldest.id, recent.id, answered.id, silent.id];
    let sort = ConversationSort::Waiting;
    let all = store.conversations(f.ws.id, &ConversationFilter { sort, limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), expected, "waiting oldest first, then the rest by id");
    assert_eq!(all[1].waiting_since, Some(Timestamp(100)));
    assert_eq!(all[2].waiting_since, None, "answered: not waiting");

    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = store.conversations(f.ws.id, &ConversationFilter { sort, after, limit: 1, ..Default::default() }).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(ConversationCursor::after(last, sort));
        seen.push(last.id);
    }
    assert_eq!(seen, expected, "paging one by one sees each once, in order");
}

pub async fn unread_counts_the_contacts_messages_after_the_teams_read_mark(store: Arc<dyn Store>) {
    let f = fixture(&*store, "u").await;
    let (agent, contact) = (Actor::Agent(f.agent.id), Actor::Contact(f.contact.id));
    let c = started_at(&*store, &f, 10, Some("Salam, sefarésham kojast?")).await;
    let unread = |store: Arc<dyn Store>| async move { store.conversation(f.ws.id, c.id).await.unwrap().unread };
    assert_eq!(unread(store.clone()).await, Some(1));
    let second = post(&*store, &f, c.id, message(contact, "Hanuz nareside."), 20).await;
    let note = NewMessage { kind: MessageKind::Note, ..super::text(agent, "customer is upset", None) };
    post(&*store, &f, c.id, note, 30).await;
    post(&*store, &f, c.id, message(agent, "Let me check."), 40).await;
    assert_eq!(unread(store.clone()).await, Some(2), "notes and the team's replies are not unread");

    let first_seq = second.events[0].seq - 1;
    let read = |up_to_seq| EventData::Receipt { side: Side::Agent, kind: ReceiptKind::Read, up_to_seq };
    record(&*store, &f, c.id, agent, read(first_seq), 50).await;
    assert_eq!(unread(store.clone()).await, Some(1), "read up to the first message");
    let listed = store.conversations(f.ws.id, &ConversationFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(listed[0].unread, Some(1), "lists count too");
    let head = store.conversation(f.ws.id, c.id).await.unwrap().last_message_seq;
    record(&*store, &f, c.id, agent, read(head), 60).await;
    assert_eq!(unread(store.clone()).await, Some(0));
}

pub async fn inbox_counts_are_per_view_and_per_workspace(store: Arc<dyn Store>) {
    let f = fixture(&*store, "n").await;
    let other = fixture(&*store, "o").await;
    started_at(&*store, &other, 1, Some("not ours")).await;
    let team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Support".into(),
        agent_ids: vec![f.agent.id],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    let system = Actor::System;
    let labels = |names: &[&str]| EventData::LabelsChanged { labels: parse_labels(names).unwrap() };

    let a = started_at(&*store, &f, 1, Some("a")).await;
    record(&*store, &f, a.id, system, labels(&["billing", "vip"]), 2).await;
    let b = started_at(&*store, &f, 3, Some("b")).await;
    record(&*store, &f, b.id, system, labels(&["billing"]), 4).await;
    let c = started_at(&*store, &f, 5, Some("c")).await;
    record(
        &*store,
        &f,
        c.id,
        system,
        EventData::Assigned { agent_id: Some(f.agent.id), team_id: Some(team.id), reason: AssignReason::Manual, note: None },
        6,
    )
    .await;
    let d = started_at(&*store, &f, 7, Some("d")).await;
    record(&*store, &f, d.id, system, labels(&["vip"]), 8).await;
    record(&*store, &f, d.id, system, EventData::StatusChanged { status: Status::Resolved }, 9).await;
    let e = started_at(&*store, &f, 10, None).await;
    record(&*store, &f, e.id, system, EventData::StatusChanged { status: Status::Snoozed { until: Timestamp(1_000) } }, 11).await;

    let counts = store.conversation_counts(f.ws.id, Some(f.agent.id), &ConversationScope::All).await.unwrap();
    let label = |n: &str| Label::parse(n).unwrap();
    assert_eq!(
        counts,
        ConversationCounts {
            mine: 1,
            unassigned: 2,
            all: 3,
            open: 3,
            pending: 0,
            snoozed: 1,
            resolved: 1,
            by_team: vec![(team.id, 1)],
            by_label: vec![(label("billing"), 2), (label("vip"), 1)],
        },
        "open conversations per view (the resolved one's label is not counted); every conversation per status"
    );
    assert_eq!(store.conversation_counts(f.ws.id, None, &ConversationScope::All).await.unwrap().mine, 0, "nobody's: no mine");
}

/// Restricted inboxes: a scope lists and counts only the conversations of the agent's
/// teams, theirs and those of no team.
pub async fn a_restricted_scope_lists_and_counts_only_what_the_agent_may_see(store: Arc<dyn Store>) {
    let f = fixture(&*store, "scoped").await;
    let colleague = super::agent(f.ws.id, &format!("{}@scoped.example", uuid::Uuid::new_v4().simple()));
    store.create_agent(&colleague, "hash").await.unwrap();
    let team = |name: &str, members: Vec<AgentId>| Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: name.into(),
        agent_ids: members,
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    let (sales, support) = (team("Sales", vec![f.agent.id]), team("Support", vec![colleague.id]));
    store.create_team(&sales).await.unwrap();
    store.create_team(&support).await.unwrap();
    let assign = |agent: Option<AgentId>, team: Option<TeamId>| EventData::Assigned {
        agent_id: agent,
        team_id: team,
        reason: AssignReason::Manual,
        note: None,
    };

    let nobodys = started_at(&*store, &f, 1, Some("no team")).await;
    let sales_queue = started_at(&*store, &f, 2, Some("sales")).await;
    record(&*store, &f, sales_queue.id, Actor::System, assign(None, Some(sales.id)), 3).await;
    let support_queue = started_at(&*store, &f, 4, Some("support")).await;
    record(&*store, &f, support_queue.id, Actor::System, assign(None, Some(support.id)), 5).await;
    let support_mine = started_at(&*store, &f, 6, Some("support, given to me")).await;
    record(&*store, &f, support_mine.id, Actor::System, assign(Some(f.agent.id), Some(support.id)), 7).await;
    let support_theirs = started_at(&*store, &f, 8, Some("support, the colleague's")).await;
    record(&*store, &f, support_theirs.id, Actor::System, assign(Some(colleague.id), Some(support.id)), 9).await;

    let scope = ConversationScope::Restricted { agent: Some(f.agent.id), teams: vec![sales.id] };
    let list = |scope: ConversationScope| {
        let store = store.clone();
        async move {
            let filter = ConversationFilter { limit: 50, scope, ..Default::default() };
            let mut ids: Vec<ConversationId> = store.conversations(f.ws.id, &filter).await.unwrap().iter().map(|c| c.id).collect();
            ids.sort();
            ids
        }
    };
    let mut expected = vec![nobodys.id, sales_queue.id, support_mine.id];
    expected.sort();
    assert_eq!(list(scope.clone()).await, expected, "no team, her team's, hers");
    assert_eq!(list(ConversationScope::All).await.len(), 5);
    let token = ConversationScope::Restricted { agent: None, teams: vec![] };
    assert_eq!(list(token.clone()).await, [nobodys.id], "a token with the agent role is nobody");

    let counts = store.conversation_counts(f.ws.id, Some(f.agent.id), &scope).await.unwrap();
    assert_eq!((counts.all, counts.mine, counts.unassigned), (3, 1, 2));
    let mut by_team = vec![(sales.id, 1), (support.id, 1)];
    by_team.sort();
    assert_eq!(counts.by_team, by_team, "her team's queue, and the support conversation that is hers");
    assert_eq!(store.conversation_counts(f.ws.id, None, &token).await.unwrap().all, 1);
    assert_eq!(store.conversation_counts(f.ws.id, Some(f.agent.id), &ConversationScope::All).await.unwrap().all, 5);
}

pub async fn ten_thousand_conversations_page_exactly_once_in_both_orders(store: Arc<dyn Store>) {
    let f = Arc::new(fixture(&*store, "t").await);
    // Many share a start time, so ties are broken by id; half wait for an answer.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10_000i64 {
        let (store, f) = (store.clone(), f.clone());
        tasks.spawn(async move {
            let says = (i % 2 == 0).then_some("Hello?");
            started_at(&*store, &f, 1_000 + i % 97, says).await.id
        });
    }
    let mut all = std::collections::HashSet::new();
    while let Some(id) = tasks.join_next().await {
        all.insert(id.unwrap());
    }
    assert_eq!(all.len(), 10_000);
    for sort in [ConversationSort::LastActivity, ConversationSort::Waiting] {
        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = store.conversations(f.ws.id, &ConversationFilter { sort, after, limit: 200, ..Default::default() }).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(ConversationCursor::after(last, sort));
            seen.extend(page);
        }
        let keys: Vec<_> = seen.iter().map(|c| (ConversationCursor::after(c, sort).key, c.id)).collect();
        let ordered = keys.windows(2).all(|w| match sort {
            ConversationSort::LastActivity => w[0] > w[1],
            ConversationSort::Waiting => w[0] < w[1],
        });
        assert!(ordered, "{sort:?}: strictly in order across pages");
        assert_eq!(seen.iter().map(|c| c.id).collect::<std::collections::HashSet<_>>(), all, "{sort:?}: every one, once");
        assert_eq!(seen.len(), 10_000);
        if sort == ConversationSort::Waiting {
            assert!(seen[..5_000].iter().all(|c| c.waiting_since.is_some()), "the waiting ones first");
        }
    }
}

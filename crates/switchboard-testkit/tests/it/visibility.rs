//! Restricted inboxes, tested the way tenant isolation is: with the workspace set to
//! `inbox_visibility: teams`, an agent (role agent) sees the conversations of their
//! teams, those assigned to them and those of no team, and nothing else anywhere —
//! lists, counts, search, every read endpoint (404, as for another workspace's ids)
//! and the socket's replay and live feed. Owners and admins still see everything.

use futures::FutureExt;
use futures::future::BoxFuture;
use switchboard_client::PageQuery;
use switchboard_testkit::proto::{
    AgentOut, AssignRequest, ConversationStatus, ErrorCode, InboxVisibility, LabelsRequest, Priority, PriorityRequest, ReadRequest, Reply,
    Role, StatusRequest, TeamRequest, UpdateContact, UpdateWorkspace,
};
use switchboard_testkit::{AgentSocket, Api, ClientError, ConversationFilter, HistoryFilter, TestApp, VisitorSocket};
use uuid::Uuid;

use crate::support::{AGENT_PASSWORD, api_token, new_agent, session_cookie, sorted, visitor_with_conversation};

struct Desk {
    app: TestApp,
    owner: Api,
    ana: Api,
    /// No team, unassigned.
    lobby: Uuid,
    /// Ana's team's queue.
    sales: Uuid,
    /// Another team's queue.
    support: Uuid,
    /// Another team's, assigned to Ana.
    support_for_ana: Uuid,
    /// The contact of `support`.
    support_contact: Uuid,
    _visitors: Vec<VisitorSocket>,
}

async fn desk() -> Desk {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (ana_agent, ana) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let team = |name: &str, member: Uuid| TeamRequest { name: Some(name.into()), agent_ids: Some(vec![member]), ..TeamRequest::default() };
    let sales_team = owner.create_team(&team("Sales", ana_agent.id)).await.unwrap().id;
    let support_team = owner.create_team(&team("Support", bo.id)).await.unwrap().id;

    let mut visitors = vec![];
    let mut start = async |n: &str, agent_id: Option<Uuid>, team_id: Option<Uuid>| {
        let (visitor, id) = visitor_with_conversation(&app, &seed, n, &format!("walrus question {n}")).await;
        let contact = visitor.contact_id();
        visitors.push(visitor);
        if agent_id.is_some() || team_id.is_some() {
            owner.assign(id, &AssignRequest { agent_id, team_id }).await.unwrap();
        }
        (id, contact)
    };
    let (lobby, _) = start("lobby", None, None).await;
    let (sales, _) = start("sales", None, Some(sales_team)).await;
    let (support, support_contact) = start("support", None, Some(support_team)).await;
    let (support_for_ana, _) = start("support-ana", Some(ana_agent.id), Some(support_team)).await;
    Desk { app, owner, ana, lobby, sales, support, support_for_ana, support_contact, _visitors: visitors }
}

async fn restrict(owner: &Api, to: InboxVisibility) {
    let set = UpdateWorkspace { inbox_visibility: Some(to), ..UpdateWorkspace::default() };
    assert_eq!(owner.update_workspace(&set).await.unwrap().inbox_visibility, to);
}

async fn listed(api: &Api) -> Vec<Uuid> {
    let page = api.conversations(&ConversationFilter { limit: Some(50), ..ConversationFilter::default() }).await.unwrap();
    sorted(page.items.iter().map(|c| c.id).collect())
}

type Call<'a> = (&'static str, ErrorCode, BoxFuture<'a, Result<(), ClientError>>);

/// Every endpoint that reads or changes one conversation or contact.
fn hidden_calls<'a>(api: &'a Api, c: Uuid, contact: Uuid) -> Vec<Call<'a>> {
    macro_rules! call {
        ($what:literal, $code:ident, $call:expr) => {
            ($what, ErrorCode::$code, async move { $call.await.map(drop) }.boxed())
        };
    }
    let (reply, note) = (Reply { body: "sneaky".into(), ..Reply::default() }, Reply { body: "sneaky".into(), ..Reply::default() });
    vec![
        call!("read a conversation", ConversationNotFound, api.conversation(c)),
        call!("read its history", ConversationNotFound, api.history(c, &HistoryFilter::default())),
        call!("reply", ConversationNotFound, api.reply(c, &reply)),
        call!("write a note", ConversationNotFound, api.note(c, &note)),
        call!("take it", ConversationNotFound, api.assign(c, &AssignRequest { agent_id: None, team_id: None })),
        call!(
            "resolve",
            ConversationNotFound,
            api.set_status(c, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None })
        ),
        call!("label", ConversationNotFound, api.set_labels(c, &LabelsRequest { labels: vec!["peek".into()] })),
        call!("prioritise", ConversationNotFound, api.set_priority(c, &PriorityRequest { priority: Priority::Urgent })),
        call!("mark read", ConversationNotFound, api.read(c, &ReadRequest { up_to_seq: 1 })),
        call!("read its contact", ContactNotFound, api.contact(contact)),
        call!(
            "rename its contact",
            ContactNotFound,
            api.update_contact(contact, &UpdateContact { name: Some(Some("Peeked".into())), ..UpdateContact::default() })
        ),
        call!("read its contact's pages", ContactNotFound, api.contact_pages(contact)),
        call!("read its contact's events", ContactNotFound, api.contact_events(contact, &PageQuery::default())),
    ]
}

#[tokio::test]
async fn a_restricted_agent_sees_their_teams_their_own_and_unteamed_conversations_and_nothing_else() {
    let d = desk().await;
    let everything = sorted(vec![d.lobby, d.sales, d.support, d.support_for_ana]);
    assert_eq!(listed(&d.ana).await, everything, "everyone sees everything until the workspace says otherwise");

    restrict(&d.owner, InboxVisibility::Teams).await;
    let hers = sorted(vec![d.lobby, d.sales, d.support_for_ana]);
    assert_eq!(listed(&d.ana).await, hers);
    assert_eq!(listed(&d.owner).await, everything, "owners see all");
    let counts = d.ana.conversation_counts().await.unwrap();
    assert_eq!((counts.all, counts.mine, counts.unassigned), (3, 1, 2), "{counts:?}");
    assert_eq!(d.owner.conversation_counts().await.unwrap().all, 4);

    let found = d.ana.search("walrus").await.unwrap();
    let found_in = sorted(found.messages.iter().map(|m| m.conversation_id).collect());
    assert_eq!(found_in, hers, "search finds only what she may see");
    assert!(found.contacts.iter().all(|c| c.id != d.support_contact));
    let by_id = d.ana.contacts_by_id(&[d.support_contact]).await.unwrap();
    assert!(by_id.is_empty(), "contacts read by id leave out those she may not see: {by_id:?}");
    assert_eq!(d.owner.contacts_by_id(&[d.support_contact]).await.unwrap().len(), 1);
    assert!(d.owner.search("walrus").await.unwrap().messages.len() >= 4);

    for (what, code, call) in hidden_calls(&d.ana, d.support, d.support_contact) {
        match call.await {
            Err(ClientError::Api { status: 404, body }) => assert_eq!(body.code, code, "{what}: {body:?}"),
            other => panic!("{what}: expected 404 {code}, got {other:?}"),
        }
    }
    let untouched = d.owner.conversation(d.support).await.unwrap();
    assert_eq!((untouched.status, untouched.priority, untouched.last_seq), (ConversationStatus::Open, Priority::None, 3));
    d.ana.conversation(d.support_for_ana).await.expect("another team's conversation that is hers");

    // An integration with the agent role is nobody: only conversations of no team.
    let bot = Api::with_token(d.app.url(""), &api_token(&d.owner, Role::Agent).await);
    assert_eq!(listed(&bot).await, [d.lobby]);

    restrict(&d.owner, InboxVisibility::All).await;
    assert_eq!(listed(&d.ana).await, everything, "and back");
}

#[tokio::test]
async fn a_restricted_agents_socket_replays_and_delivers_only_what_they_may_see() {
    let d = desk().await;
    restrict(&d.owner, InboxVisibility::Teams).await;
    let (cookie, _) = session_cookie(&d.app, "ana@acme.example", AGENT_PASSWORD).await;
    let mut socket = AgentSocket::connect_cookie(&d.app.url(""), &cookie, None).await.unwrap();
    socket.hello(Some(0)).await.unwrap();
    let mut replayed = vec![];
    let head = loop {
        match socket.next().await.unwrap() {
            AgentOut::Event { event } => replayed.push(event.conversation_id),
            AgentOut::CaughtUp { feed_seq } => break feed_seq,
            _ => {}
        }
    };
    assert!(!replayed.is_empty() && !replayed.contains(&d.support), "{replayed:?}");
    assert!(replayed.contains(&d.sales) && replayed.contains(&d.lobby) && replayed.contains(&d.support_for_ana));
    assert!(head > 0, "the cursor passes over what she may not see");

    // Live: a note in the other team's queue never arrives; one in hers does, next.
    let note = |body: &str| Reply { body: body.into(), ..Reply::default() };
    d.owner.note(d.support, &note("not for Ana")).await.unwrap();
    d.owner.note(d.sales, &note("for Ana")).await.unwrap();
    let next = loop {
        if let AgentOut::Event { event } = socket.next().await.unwrap() {
            break event;
        }
    };
    assert_eq!(next.conversation_id, d.sales);

    // Moving a conversation of hers to another team: she hears the move, then nothing.
    let support_team = d.owner.conversation(d.support).await.unwrap().team_id;
    d.owner.assign(d.lobby, &AssignRequest { agent_id: None, team_id: support_team }).await.unwrap();
    d.owner.note(d.lobby, &note("gone from Ana's inbox")).await.unwrap();
    d.owner.note(d.sales, &note("still hers")).await.unwrap();
    let mut heard = vec![];
    while heard.len() < 2 {
        if let AgentOut::Event { event } = socket.next().await.unwrap() {
            heard.push(event.conversation_id);
        }
    }
    assert_eq!(heard, [d.lobby, d.sales], "the move itself, then her own conversation's note, not the moved one's");
}

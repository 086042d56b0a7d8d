//! Workspaces are sealed from each other, and visitors from each other: an id that
//! belongs to someone else is "not found" on every endpoint and socket frame, lists
//! never show another tenant's data, and a visitor token only opens its own site.

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use switchboard_testkit::proto::{
    AgentOut, AssignRequest, CannedRequest, ConversationStatus, CreateApiToken, Cursor, ErrorCode, Event, LabelsRequest, Priority,
    PriorityRequest, ReadRequest, ReceiptKind, Reply, Role, SiteRequest, StatusRequest, TeamRequest, UpdateAgent, UpdateContact, VisitorIn,
    VisitorOut,
};
use switchboard_testkit::{AgentSocket, Api, ClientError, ConversationFilter, HistoryFilter, Seed, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{PNG_3X2, api_token, assert_refused, caught_up_agent, expect_error, list_ids, new_agent, visitor_with_conversation};

/// A workspace with one of everything that has an id.
struct Tenant {
    seed: Seed,
    owner: Api,
    token_secret: String,
    visitor: VisitorSocket,
    visitor_token: String,
    conversation: Uuid,
    contact: Uuid,
    agent: Uuid,
    team: Uuid,
    site: Uuid,
    canned: Uuid,
    token: Uuid,
    attachment: Uuid,
}

fn reply(body: &str) -> Reply {
    Reply { body: body.into(), ..Reply::default() }
}

async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let seed = app.seed(name).await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conversation) = visitor_with_conversation(app, &seed, "v-1", &format!("{name}: zebracorn question")).await;
    let page =
        VisitorIn::Page { url: format!("https://{name}.example/pricing"), title: Some("Pricing".into()), referrer: None, again: false };
    visitor.send(&page).await.unwrap();
    let (agent, _) = new_agent(app, &owner, &format!("agent@{name}.example"), Role::Agent).await;
    let team = owner
        .create_team(&TeamRequest { name: Some("Support".into()), agent_ids: Some(vec![agent.id]), ..Default::default() })
        .await
        .unwrap();

    let canned = CannedRequest { shortcut: Some("hi".into()), body: Some("Hello! How can I help?".into()), scope: None };
    let canned = owner.create_canned_response(&canned).await.unwrap();
    let token = owner.create_api_token(&CreateApiToken { name: "crm".into(), role: Some(Role::Admin), expires_at: None }).await.unwrap();
    let attachment = owner.upload("receipt.png", PNG_3X2.to_vec()).await.unwrap().id;
    owner.reply(conversation, &Reply { attachment_ids: vec![attachment], ..reply("Here is your receipt") }).await.unwrap();
    let sent = expect_frame!(visitor, VisitorOut::Event { event } => event).unwrap();
    assert_eq!(sent.body.message().expect("a message event").attachments[0].id, attachment);
    Tenant {
        visitor_token: visitor.token().to_owned(),
        contact: visitor.contact_id(),
        site: seed.site.id.0,
        seed,
        owner,
        token_secret: token.secret,
        visitor,
        conversation,
        agent: agent.id,
        team: team.id,
        canned: canned.id,
        token: token.token.id,
        attachment,
    }
}

/// One call of [`foreign_calls`]: what it does, the code it must be refused with, and the call.
type Call<'a> = (&'static str, ErrorCode, BoxFuture<'a, Result<(), ClientError>>);

/// Every endpoint that takes an id, called by `api` with `other`'s ids.
fn foreign_calls<'a>(api: &'a Api, other: &'a Tenant) -> Vec<Call<'a>> {
    macro_rules! call {
        ($what:literal, $code:ident, $call:expr) => {
            ($what, ErrorCode::$code, async move { $call.await.map(drop) }.boxed())
        };
    }
    let (c, contact, agent, owner) = (other.conversation, other.contact, other.agent, other.seed.owner.id.0);
    let (team, site, canned) = (other.team, other.site, other.canned);
    let after_0 = HistoryFilter { after_seq: Some(0), ..HistoryFilter::default() };
    vec![
        call!("read a conversation", ConversationNotFound, api.conversation(c)),
        call!("read its history", ConversationNotFound, api.history(c, &HistoryFilter::default())),
        call!("read its history from the start", ConversationNotFound, api.history(c, &after_0)),
        call!("reply", ConversationNotFound, api.reply(c, &reply("hijacked reply"))),
        call!("write a note", ConversationNotFound, api.note(c, &reply("hijacked note"))),
        call!("unassign", ConversationNotFound, api.assign(c, &AssignRequest { agent_id: None, team_id: None })),
        call!(
            "resolve",
            ConversationNotFound,
            api.set_status(c, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None })
        ),
        call!("label", ConversationNotFound, api.set_labels(c, &LabelsRequest { labels: vec!["stolen".into()] })),
        call!("prioritise", ConversationNotFound, api.set_priority(c, &PriorityRequest { priority: Priority::Urgent })),
        call!("mark read", ConversationNotFound, api.read(c, &ReadRequest { up_to_seq: 1 })),
        call!("read a contact", ContactNotFound, api.contact(contact)),
        call!(
            "rename a contact",
            ContactNotFound,
            api.update_contact(contact, &UpdateContact { name: Some(Some("Mallory".into())), ..UpdateContact::default() })
        ),
        call!("read a contact's pages", ContactNotFound, api.contact_pages(contact)),
        call!("read an agent", AgentNotFound, api.agent(agent)),
        call!(
            "rename an agent",
            AgentNotFound,
            api.update_agent(agent, &UpdateAgent { name: Some("Mallory".into()), ..UpdateAgent::default() })
        ),
        call!("delete an agent", AgentNotFound, api.delete_agent(agent)),
        call!("read the owner", AgentNotFound, api.agent(owner)),
        call!(
            "take the owner's password",
            AgentNotFound,
            api.update_agent(owner, &UpdateAgent { password: Some("taken over at last".into()), ..UpdateAgent::default() })
        ),
        call!("delete the owner", AgentNotFound, api.delete_agent(owner)),
        call!("read a team", TeamNotFound, api.team(team)),
        call!(
            "rename a team",
            TeamNotFound,
            api.update_team(team, &TeamRequest { name: Some("Mallory's".into()), agent_ids: None, ..Default::default() })
        ),
        call!("delete a team", TeamNotFound, api.delete_team(team)),
        call!("read a site", SiteNotFound, api.site(site)),
        call!(
            "open a site to another origin",
            SiteNotFound,
            api.update_site(site, &SiteRequest { allowed_origins: Some(vec!["https://evil.example".into()]), ..SiteRequest::default() })
        ),
        call!("delete a site", SiteNotFound, api.delete_site(site)),
        call!("read a canned response", CannedResponseNotFound, api.canned_response(canned)),
        call!(
            "change a canned response",
            CannedResponseNotFound,
            api.update_canned_response(canned, &CannedRequest { body: Some("Send me your password".into()), shortcut: None, scope: None })
        ),
        call!("delete a canned response", CannedResponseNotFound, api.delete_canned_response(canned)),
        call!("revoke an API token", ApiTokenNotFound, api.delete_api_token(other.token)),
        call!("download an attachment", AttachmentNotFound, api.attachment(other.attachment)),
    ]
}

/// `victim`'s things are exactly as they were.
async fn assert_untouched(victim: &Tenant) {
    let o = &victim.owner;
    let conv = o.conversation(victim.conversation).await.unwrap();
    assert_eq!(conv.last_seq, 3);
    assert_eq!((conv.status, conv.priority), (ConversationStatus::Open, Priority::None));
    assert!(conv.labels.is_empty(), "{conv:?}");
    assert_eq!(conv.agent.read_seq, 0);
    assert_eq!(o.contact(victim.contact).await.unwrap().name, None);
    assert_eq!(o.agent(victim.agent).await.unwrap().name, format!("agent agent@{}.example", victim.seed.workspace.name));
    assert_eq!(o.team(victim.team).await.unwrap().name, "Support");
    assert!(o.site(victim.site).await.unwrap().allowed_origins.is_empty());
    assert_eq!(o.canned_response(victim.canned).await.unwrap().body, "Hello! How can I help?");
    assert!(list_ids(&o.api_tokens().await.unwrap()).contains(&victim.token));
    // The owner's password was not changed: they can still sign in with it.
    let mut again = Api::new(o.base.clone());
    again.login(victim.seed.owner.email.as_str(), &victim.seed.password).await.expect("the owner can still sign in");
}

#[tokio::test]
async fn every_endpoint_that_takes_an_id_answers_not_found_for_another_workspaces_ids() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let a_bot = Api::with_token(app.url(""), &a.token_secret);

    // As A's owner (cookie session) and as A's admin integration (bearer token).
    for caller in [&a.owner, &a_bot] {
        for (what, code, call) in foreign_calls(caller, &b) {
            match call.await {
                Err(ClientError::Api { status: 404, body }) => assert_eq!(body.code, code, "{what}: {body:?}"),
                other => panic!("{what}: expected 404 {code}, got {other:?}"),
            }
        }
    }
    assert_untouched(&b).await;
    // And B's integration token still works.
    let b_bot = Api::with_token(app.url(""), &b.token_secret);
    b_bot.conversations(&ConversationFilter::default()).await.expect("B's token still works");
}

#[tokio::test]
async fn another_workspaces_agents_teams_and_files_cannot_be_pulled_into_ours() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let c = a.conversation;
    let not_found = StatusCode::NOT_FOUND;

    let to_agent = |agent_id| AssignRequest { agent_id: Some(agent_id), team_id: None };
    assert_refused(a.owner.assign(c, &to_agent(b.agent)).await, not_found, ErrorCode::AgentNotFound);
    assert_refused(a.owner.assign(c, &to_agent(b.seed.owner.id.0)).await, not_found, ErrorCode::AgentNotFound);
    let to_team = AssignRequest { agent_id: None, team_id: Some(b.team) };
    assert_refused(a.owner.assign(c, &to_team).await, not_found, ErrorCode::TeamNotFound);
    let attached = Reply { attachment_ids: vec![b.attachment], ..reply("see attached") };
    assert_refused(a.owner.reply(c, &attached).await, not_found, ErrorCode::AttachmentNotFound);
    let conv = a.owner.conversation(c).await.unwrap();
    assert_eq!((conv.assignee_id, conv.team_id, conv.last_seq), (None, None, 3));

    let mixed = TeamRequest { name: Some("Mixed".into()), agent_ids: Some(vec![a.agent, b.agent]), ..Default::default() };
    assert_refused(a.owner.create_team(&mixed).await, not_found, ErrorCode::AgentNotFound);
    let theirs = TeamRequest { name: None, agent_ids: Some(vec![b.agent]), ..Default::default() };
    assert_refused(a.owner.update_team(a.team, &theirs).await, not_found, ErrorCode::AgentNotFound);
    let teams = a.owner.teams().await.unwrap();
    assert_eq!(teams.len(), 1, "the rejected team was not created: {teams:?}");
    assert_eq!(teams[0].agent_ids, [a.agent], "the rejected change left the members as they were");
}

#[tokio::test]
async fn lists_never_show_another_workspaces_data() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let o = &a.owner;

    assert_eq!(list_ids(&o.conversations(&ConversationFilter::default()).await.unwrap().items), [a.conversation]);
    assert_eq!(list_ids(&o.contacts("").await.unwrap()), [a.contact]);
    // Asked by id, another workspace's contact is left out as if it did not exist.
    assert_eq!(list_ids(&o.contacts_by_id(&[b.contact, a.contact]).await.unwrap()), [a.contact]);
    let mut agents = list_ids(&o.agents().await.unwrap());
    agents.sort();
    let mut expected = vec![a.agent, a.seed.owner.id.0];
    expected.sort();
    assert_eq!(agents, expected);
    assert_eq!(list_ids(&o.teams().await.unwrap()), [a.team]);
    assert_eq!(list_ids(&o.sites().await.unwrap()), [a.site]);
    assert_eq!(list_ids(&o.canned_responses().await.unwrap()), [a.canned]);
    assert_eq!(list_ids(&o.api_tokens().await.unwrap()), [a.token]);

    // Filters naming B's things find nothing rather than B's data.
    let filters = [
        ConversationFilter { contact_id: Some(b.contact), ..ConversationFilter::default() },
        ConversationFilter { site_id: Some(b.site), ..ConversationFilter::default() },
        ConversationFilter { assignee: Some(b.agent.to_string()), ..ConversationFilter::default() },
        ConversationFilter { team_id: Some(b.team), ..ConversationFilter::default() },
    ];
    for filter in filters {
        let page = o.conversations(&filter).await.unwrap();
        assert!(page.items.is_empty(), "{filter:?}: {page:?}");
    }

    // Both workspaces have a message with "zebracorn"; each finds only its own.
    let found: Vec<_> = o.search("zebracorn").await.unwrap().messages.iter().map(|m| m.conversation_id).collect();
    assert_eq!(found, [a.conversation]);
    let found: Vec<_> = b.owner.search("zebracorn").await.unwrap().messages.iter().map(|m| m.conversation_id).collect();
    assert_eq!(found, [b.conversation]);
}

#[tokio::test]
async fn an_agent_feed_carries_only_its_own_workspace() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let secret = api_token(&a.owner, Role::Agent).await;
    let mut feed = caught_up_agent(&app, &secret).await;

    b.owner.reply(b.conversation, &reply("for B only")).await.unwrap();
    let mut b_visitor = b.visitor;
    expect_frame!(b_visitor, VisitorOut::Event { .. }).unwrap();
    a.owner.reply(a.conversation, &reply("for A")).await.unwrap();
    let first: Event = expect_frame!(feed, AgentOut::Event { event } => event).unwrap();
    assert_eq!(first.conversation_id, a.conversation, "B's event reached A's feed: {first:?}");

    // A replay of A's whole feed holds only A's conversation.
    let mut replay = AgentSocket::open(&app.url(""), &secret, Some(0)).await.unwrap();
    loop {
        match replay.next().await.expect("closed") {
            AgentOut::Event { event } => assert_eq!(event.conversation_id, a.conversation, "{event:?}"),
            AgentOut::CaughtUp { .. } => break,
            _ => {}
        }
    }
}

/// The frames a visitor could use to reach a conversation by id, each with the error it must get.
async fn poke(ws: &mut VisitorSocket, conversation: Uuid) {
    let send = VisitorIn::Send {
        client_id: "poke-send".into(),
        conversation_id: Some(conversation),
        body: "let me in".into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        invitation_id: None,
        team_id: None,
    };
    ws.send(&send).await.unwrap();
    assert_eq!(expect_error(ws, ErrorCode::ConversationNotFound).await.as_deref(), Some("poke-send"));
    ws.send(&VisitorIn::History { conversation_id: conversation, after_seq: 0, limit: None }).await.unwrap();
    assert_eq!(expect_error(ws, ErrorCode::ConversationNotFound).await, Some(conversation.to_string()));
    ws.send(&VisitorIn::Typing { conversation_id: conversation, typing: true }).await.unwrap();
    expect_error(ws, ErrorCode::ConversationNotFound).await;
    ws.send(&VisitorIn::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, up_to_seq: 1 }).await.unwrap();
    expect_error(ws, ErrorCode::ConversationNotFound).await;
}

#[tokio::test]
async fn a_visitor_cannot_reach_another_visitors_conversation_by_id() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let (mut neighbour, neighbours) = visitor_with_conversation(&app, &a.seed, "n-1", "my private question").await;
    let mut b_visitor = b.visitor;
    let (mut me, mine) = visitor_with_conversation(&app, &a.seed, "m-1", "hello").await;

    // Another workspace's conversation, and another visitor's on the same site.
    for target in [b.conversation, neighbours] {
        poke(&mut me, target).await;
    }

    // Resume cursors for them are refused one by one; my own conversation still works.
    let token = me.token().to_owned();
    let cursors = [b.conversation, neighbours, mine].map(|conversation_id| Cursor { conversation_id, after_seq: 0 }).to_vec();
    let mut again = VisitorSocket::open(&app.url(""), &a.seed.site.public_key, Some(&token), cursors).await.unwrap();
    let Some(VisitorOut::Welcome { conversations, .. }) = &again.welcome else { panic!("no welcome") };
    assert_eq!(conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [mine]);
    assert_eq!(expect_error(&mut again, ErrorCode::ConversationNotFound).await, Some(b.conversation.to_string()));
    assert_eq!(expect_error(&mut again, ErrorCode::ConversationNotFound).await, Some(neighbours.to_string()));
    let mut replayed = vec![];
    loop {
        match again.next().await.expect("closed") {
            VisitorOut::Event { event } => {
                assert_eq!(event.conversation_id, mine);
                replayed.push(event.seq);
            }
            VisitorOut::CaughtUp { conversation_id, .. } => {
                assert_eq!(conversation_id, mine);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(replayed, [1, 2]);

    // Nothing was written to the other conversations, and their visitors heard nothing.
    let theirs = b.owner.conversation(b.conversation).await.unwrap();
    assert_eq!((theirs.last_seq, theirs.visitor.read_seq), (3, 0));
    let n = a.owner.conversation(neighbours).await.unwrap();
    assert_eq!((n.last_seq, n.visitor.read_seq), (2, 0));
    a.owner.reply(neighbours, &reply("for the neighbour")).await.unwrap();
    let next = neighbour.next().await.expect("neighbour socket closed");
    let VisitorOut::Event { event } = &next else { panic!("the neighbour heard something else first: {next:?}") };
    assert_eq!(event.body.message().map(|m| m.body.as_str()), Some("for the neighbour"), "{next:?}");
    b.owner.reply(b.conversation, &reply("for B's visitor")).await.unwrap();
    let next = b_visitor.next().await.expect("B's visitor socket closed");
    let VisitorOut::Event { event } = &next else { panic!("B's visitor heard something else first: {next:?}") };
    assert_eq!(event.body.message().map(|m| m.body.as_str()), Some("for B's visitor"), "{next:?}");
}

#[tokio::test]
async fn a_visitor_token_opens_only_its_own_site() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let hello = VisitorIn::Hello { token: Some(a.visitor_token.clone()), resume: vec![] };

    // On B's socket: refused with `invalid_token`, then closed.
    let mut ws = VisitorSocket::connect_site(&app.url(""), &b.seed.site.public_key, None).await.unwrap();
    ws.send(&hello).await.unwrap();
    let refused = ws.next().await.expect("an error frame before the close");
    assert!(matches!(refused, VisitorOut::Error { code: ErrorCode::InvalidToken, .. }), "{refused:?}");
    assert_eq!(ws.closed_with().await.unwrap(), Some(1008));

    // A second site of the same workspace is another site too.
    let other_site = a.owner.create_site(&SiteRequest { name: Some("acme blog".into()), ..SiteRequest::default() }).await.unwrap();
    let mut ws = VisitorSocket::connect_site(&app.url(""), &other_site.public_key, None).await.unwrap();
    ws.send(&hello).await.unwrap();
    let refused = ws.next().await.expect("an error frame");
    assert!(matches!(refused, VisitorOut::Error { code: ErrorCode::InvalidToken, .. }), "{refused:?}");

    // Over the widget's HTTP endpoints as well.
    let anon = Api::new(app.url(""));
    let got = anon.widget_attachment(&b.seed.site.public_key, b.attachment, &a.visitor_token).await;
    assert_refused(got, StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken);
    let got = anon.widget_attachment(&a.seed.site.public_key, b.attachment, &a.visitor_token).await;
    assert_refused(got, StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound);
    let file = anon.widget_attachment(&b.seed.site.public_key, b.attachment, &b.visitor_token).await;
    assert_eq!(file.expect("B's visitor may fetch the file B's team sent").as_ref(), PNG_3X2);
}

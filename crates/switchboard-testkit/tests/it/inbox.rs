//! What the inbox shows live and in its lists: a colleague away, who else has a
//! conversation open (and is typing in it), lists sorted by waiting time with their
//! counts and unread messages, and search hits that open a conversation at the hit.

use switchboard_testkit::proto::{
    AgentIn, AgentOut, AgentStatus, AssignRequest, ConversationSort, ErrorCode, LabelsRequest, PresenceStatus, ReadRequest, Role, UpdateMe,
};
use switchboard_testkit::{AgentSocket, Api, ClientError, TestApp, expect_frame};
use uuid::Uuid;

use crate::support::raw::assert_error;
use crate::support::{agent_socket_with_cookie, api_token, new_agent, session_cookie, visitor_with_conversation};

async fn viewers(ws: &mut AgentSocket, conversation: Uuid) -> Vec<Uuid> {
    expect_frame!(ws, AgentOut::Viewers { conversation_id, agent_ids } if conversation_id == conversation => agent_ids).expect("viewers")
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[tokio::test]
async fn the_team_sees_an_agent_go_away_and_come_back() {
    // No presence grace period here: closing the last tab is offline at once (the grace
    // period has its own story in presence.rs).
    let limits = switchboard_core::Limits { presence_grace_ms: 0, ..Default::default() };
    let app = TestApp::spawn_with(switchboard_server::ServerConfig::default(), limits).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut dashboard = agent_socket_with_cookie(&app, &cookie).await;
    let (bo, bo_api) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id: Uuid = bo.id;

    let Some(AgentOut::Welcome { agents, .. }) = &dashboard.welcome else { panic!("no welcome") };
    let bo_before = agents.iter().find(|a| a.agent_id == bo_id).map(|a| a.status);
    assert_eq!(bo_before, None, "Bo did not exist yet when the dashboard connected");

    // Away while offline stays offline for the team, and is shown once Bo connects.
    bo_api.update_me(&UpdateMe { status: Some(AgentStatus::Away), ..Default::default() }).await.unwrap();
    let (bo_cookie, _) = session_cookie(&app, "bo@acme.example", "another good password").await;
    let mut bo_socket = agent_socket_with_cookie(&app, &bo_cookie).await;
    let got = expect_frame!(dashboard, AgentOut::Presence { agent_id, status } if agent_id == bo_id => status).unwrap();
    assert_eq!(got, PresenceStatus::Away, "Bo connects away, as they chose");
    let Some(AgentOut::Welcome { agents, online_agent_ids, .. }) = &bo_socket.welcome else { panic!("no welcome") };
    let status_of = |id| agents.iter().find(|a| a.agent_id == id).map(|a| a.status);
    assert_eq!((status_of(bo_id), status_of(seed.owner.id.0)), (Some(PresenceStatus::Away), Some(PresenceStatus::Online)));
    assert_eq!(sorted(online_agent_ids.clone()), sorted(vec![bo_id, seed.owner.id.0]), "online_agent_ids is kept");

    bo_api.update_me(&UpdateMe { status: Some(AgentStatus::Online), ..Default::default() }).await.unwrap();
    let got = expect_frame!(dashboard, AgentOut::Presence { agent_id, status } if agent_id == bo_id => status).unwrap();
    assert_eq!(got, PresenceStatus::Online);
    bo_socket.send(&AgentIn::Ping).await.unwrap();
    expect_frame!(bo_socket, AgentOut::Pong => ()).unwrap();
    drop(bo_socket);
    let got = expect_frame!(dashboard, AgentOut::Presence { agent_id, status } if agent_id == bo_id => status).unwrap();
    assert_eq!(got, PresenceStatus::Offline);
}

#[tokio::test]
async fn agents_see_who_else_is_viewing_and_typing_in_a_conversation() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let owner_id = seed.owner.id.0;
    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id: Uuid = bo.id;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut ana = agent_socket_with_cookie(&app, &cookie).await;
    let (bo_cookie, _) = session_cookie(&app, "bo@acme.example", "another good password").await;
    let mut bo = agent_socket_with_cookie(&app, &bo_cookie).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello, is my order shipped?").await;

    ana.send(&AgentIn::View { conversation_id: Some(conv) }).await.unwrap();
    assert_eq!(viewers(&mut bo, conv).await, [owner_id], "Bo sees Ana open it");
    assert_eq!(viewers(&mut ana, conv).await, [owner_id]);
    bo.send(&AgentIn::View { conversation_id: Some(conv) }).await.unwrap();
    assert_eq!(viewers(&mut ana, conv).await, sorted(vec![owner_id, bo_id]), "Ana sees the collision");
    assert_eq!(viewers(&mut bo, conv).await, sorted(vec![owner_id, bo_id]));

    // Typing in the same conversation reaches the other agent.
    bo.send(&AgentIn::Typing { conversation_id: conv, typing: true }).await.unwrap();
    let typist =
        expect_frame!(ana, AgentOut::Typing { conversation_id, actor, typing } if conversation_id == conv => (actor.id, typing)).unwrap();
    assert_eq!(typist, (Some(bo_id), true));

    // Ana moves on; then Bo's socket closes, which leaves every set it was in.
    ana.send(&AgentIn::View { conversation_id: None }).await.unwrap();
    assert_eq!(viewers(&mut bo, conv).await, [bo_id]);
    assert_eq!(viewers(&mut ana, conv).await, [bo_id], "every agent socket hears it, the one that left too");
    drop(bo);
    assert_eq!(viewers(&mut ana, conv).await, Vec::<Uuid>::new(), "nobody has it open");

    // Unknown, another workspace's, or an integration's view: a clear error, and nobody hears of it.
    let unknown = Uuid::new_v4();
    ana.send(&AgentIn::View { conversation_id: Some(unknown) }).await.unwrap();
    let (code, reference) = expect_frame!(ana, AgentOut::Error { code, reference, .. } => (code, reference)).unwrap();
    assert_eq!((code, reference), (ErrorCode::ConversationNotFound, Some(unknown.to_string())));
    let other = app.seed("other").await;
    let (_v, theirs) = visitor_with_conversation(&app, &other, "v-2", "not yours").await;
    ana.send(&AgentIn::View { conversation_id: Some(theirs) }).await.unwrap();
    let code = expect_frame!(ana, AgentOut::Error { code, .. } => code).unwrap();
    assert_eq!(code, ErrorCode::ConversationNotFound);
    let mut bot = app.agent_socket(&api_token(&owner, Role::Agent).await).await;
    bot.send(&AgentIn::View { conversation_id: Some(conv) }).await.unwrap();
    let code = expect_frame!(bot, AgentOut::Error { code, .. } => code).unwrap();
    assert_eq!(code, ErrorCode::Forbidden);
    ana.send(&AgentIn::Ping).await.unwrap();
    let next = ana.expect(|f| matches!(f, AgentOut::Pong | AgentOut::Viewers { .. })).await.unwrap();
    assert!(matches!(next, AgentOut::Pong), "no viewers frame came from the refused views: {next:?}");
}

#[tokio::test]
async fn the_inbox_lists_longest_waiting_first_with_counts_and_unread() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let owner_id = seed.owner.id.0;
    let (_, ana) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;

    // Three visitors write, oldest first; the team answers the second.
    let (_v1, first) = visitor_with_conversation(&app, &seed, "v-1", "Where is my parcel?").await;
    let (mut v2, second) = visitor_with_conversation(&app, &seed, "v-2", "Do you ship to Izmir?").await;
    let (mut v3, third) = visitor_with_conversation(&app, &seed, "v-3", "I need an invoice.").await;
    owner.reply(second, &switchboard_testkit::proto::Reply { body: "Yes, we do.".into(), ..Default::default() }).await.unwrap();
    v3.say(Some(third), "v-3b", "For order 1234, please.").await.unwrap();
    v2.say(Some(second), "v-2b", "Great, thanks!").await.unwrap();

    let page = |sort, cursor| switchboard_testkit::ConversationFilter { sort, cursor, limit: Some(1), ..Default::default() };
    let mut order = vec![];
    let mut cursor = None;
    loop {
        let got = owner.conversations(&page(Some(ConversationSort::Waiting), cursor)).await.unwrap();
        order.extend(got.items.iter().map(|c| c.id));
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(order, [first, third, second], "the second waits only since its last message");
    let by_activity = owner.conversations(&Default::default()).await.unwrap().items;
    assert_eq!(by_activity.len(), 3);
    assert!(by_activity.windows(2).all(|w| w[0].updated_at >= w[1].updated_at), "the default is newest activity first");
    assert_eq!(by_activity.last().unwrap().id, first);

    // A cursor of one order is refused in the other.
    let waiting = owner.conversations(&page(Some(ConversationSort::Waiting), None)).await.unwrap();
    let mixed = page(None, waiting.next_cursor.clone());
    let e = owner.conversations(&mixed).await.expect_err("a waiting cursor in the default order");
    assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::ValidationFailed)));
    assert_error(&owner.get("/api/v1/conversations?sort=loudest").await, reqwest::StatusCode::BAD_REQUEST, "invalid_query");

    // Unread: the visitor's messages after the team's read mark.
    let third_now = owner.conversation(third).await.unwrap();
    assert_eq!(third_now.unread, Some(2));
    owner.read(third, &ReadRequest { up_to_seq: third_now.last_message_seq }).await.unwrap();
    assert_eq!(owner.conversation(third).await.unwrap().unread, Some(0));
    let listed = owner.conversations(&Default::default()).await.unwrap().items;
    assert_eq!(listed.iter().find(|c| c.id == second).unwrap().unread, Some(2), "the reply does not read the conversation");

    // Counts per view, for whoever asks.
    owner.assign(first, &AssignRequest { agent_id: Some(owner_id), team_id: None }).await.unwrap();
    owner.set_labels(third, &LabelsRequest { labels: vec!["billing".into()] }).await.unwrap();
    let counts = owner.conversation_counts().await.unwrap();
    assert_eq!((counts.mine, counts.unassigned, counts.all), (1, 2, 3));
    assert_eq!((counts.by_status.open, counts.by_status.resolved), (3, 0));
    assert_eq!(counts.by_label.get("billing"), Some(&1));
    let theirs = ana.conversation_counts().await.unwrap();
    assert_eq!((theirs.mine, theirs.all), (0, 3), "mine is the caller's");
    let other = app.owner(&app.seed("other").await).await;
    assert_eq!(other.conversation_counts().await.unwrap().all, 0, "another workspace counts its own");
}

#[tokio::test]
async fn a_search_hit_says_where_it_is_and_marks_the_words_found() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner: Api = app.owner(&seed).await;
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v-1", "Merhaba, siparişim nerede? Sipariş numaram 1234.").await;

    let found = owner.search("siparis").await.unwrap();
    assert_eq!(found.hits.len(), 1);
    let hit = &found.hits[0];
    assert_eq!((hit.conversation_id, hit.seq), (conv, hit.message.seq));
    assert_eq!(hit.seq, 2, "the first message comes after conversation_started");
    assert_eq!(hit.snippet, "Merhaba, \u{1}siparişim\u{2} nerede? \u{1}Sipariş\u{2} numaram 1234.");
    assert_eq!(found.messages.len(), 1, "messages are kept for older clients");

    let other = app.owner(&app.seed("other").await).await;
    assert!(other.search("siparis").await.unwrap().hits.is_empty(), "another workspace finds nothing");
    let e: ClientError = owner.search("   ").await.expect_err("no word to search");
    assert_eq!(e.code(), Some(ErrorCode::ValidationFailed));
}

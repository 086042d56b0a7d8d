//! Who is there and who is typing: typing reaches the other side at once, and agent
//! sockets hear when a colleague comes online or leaves (their last tab closes).

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_core::{JobKind, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{Actor, ActorKind, AgentIn, AgentOut, ErrorCode, PresenceStatus, Role, VisitorIn, VisitorOut};
use switchboard_testkit::{AgentSocket, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{
    AGENT_PASSWORD, agent_socket_with_cookie, api_token, assert_upgrade_refused as assert_refused, new_agent, session_cookie,
    visitor_with_conversation,
};

const GRACE_MS: i64 = 60_000;
const MINUTE: i64 = 60_000;

async fn presence(ws: &mut AgentSocket) -> (Uuid, PresenceStatus) {
    expect_frame!(ws, AgentOut::Presence { agent_id, status } => (agent_id, status)).expect("presence")
}

fn online_ids(ws: &AgentSocket) -> Vec<Uuid> {
    let Some(AgentOut::Welcome { online_agent_ids, .. }) = &ws.welcome else { panic!("no welcome") };
    let mut ids = online_agent_ids.clone();
    ids.sort();
    ids
}

fn agents_online(ws: &VisitorSocket) -> u32 {
    let Some(VisitorOut::Welcome { agents_online, .. }) = &ws.welcome else { panic!("no welcome") };
    *agents_online
}

#[tokio::test]
async fn typing_goes_from_visitor_to_agents_and_back() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let owner_id = seed.owner.id.0;
    let mut dashboard = agent_socket_with_cookie(&app, &cookie).await;
    expect_frame!(dashboard, AgentOut::CaughtUp { .. }).unwrap();
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let contact = visitor.contact_id();

    for typing in [true, false] {
        visitor.send(&VisitorIn::Typing { conversation_id: conv, typing }).await.unwrap();
        // The exact frame is part of the public protocol: read as the server wrote it.
        let f = loop {
            let f: Value = serde_json::from_str(&dashboard.next_text().await.unwrap()).unwrap();
            if f["type"] == "typing" {
                break f;
            }
        };
        assert_eq!(f, json!({"type": "typing", "conversation_id": conv, "actor": {"kind": "contact", "id": contact}, "typing": typing}));
    }
    for typing in [true, false] {
        dashboard.send(&AgentIn::Typing { conversation_id: conv, typing }).await.unwrap();
        let got = expect_frame!(visitor, VisitorOut::Typing { conversation_id, actor, typing } => (conversation_id, actor.kind, actor.id, typing))
            .unwrap();
        assert_eq!(got, (conv, ActorKind::Agent, Some(owner_id), typing));
    }

    // An integration typing reaches the visitor and the dashboard as itself.
    let owner = app.owner(&seed).await;
    let mut bot = app.agent_socket(&api_token(&owner, Role::Agent).await).await;
    expect_frame!(bot, AgentOut::CaughtUp { .. }).unwrap();
    bot.send(&AgentIn::Typing { conversation_id: conv, typing: true }).await.unwrap();
    let to_visitor: Actor = expect_frame!(visitor, VisitorOut::Typing { actor, .. } => actor).unwrap();
    assert_eq!(to_visitor.kind, ActorKind::Integration);
    let to_dashboard: Actor = expect_frame!(dashboard, AgentOut::Typing { actor, .. } => actor).unwrap();
    assert_eq!((to_dashboard.kind, to_dashboard.id), (to_visitor.kind, to_visitor.id));

    // Typing is not stored: the conversation did not move.
    assert_eq!(owner.conversation(conv).await.unwrap().last_seq, 2);
    let unknown = Uuid::new_v4();
    dashboard.send(&AgentIn::Typing { conversation_id: unknown, typing: true }).await.unwrap();
    let (code, reference) = expect_frame!(dashboard, AgentOut::Error { code, reference, .. } => (code, reference)).unwrap();
    assert_eq!((code, reference), (ErrorCode::ConversationNotFound, Some(unknown.to_string())));
}

/// Moves the server's clock past the presence grace period until an offline timer has
/// run: the server handles a closed socket on its own time, so the timer may not be
/// stored yet the first time round (at most 10 s).
async fn run_offline_timer(app: &TestApp, clock: &ManualClock) {
    let ran = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            clock.advance(GRACE_MS);
            if app.run_pending_jobs().await.iter().any(|j| matches!(j.kind, Some(JobKind::AgentOffline { .. }))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    ran.await.expect("an offline timer within 10 s");
}

#[tokio::test]
async fn agents_see_colleagues_come_online_and_leave_when_their_last_tab_closes() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let owner_id = seed.owner.id.0;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut dashboard = agent_socket_with_cookie(&app, &cookie).await;
    assert_eq!(dashboard.agent_id(), owner_id);
    assert_eq!(online_ids(&dashboard), [owner_id]);
    assert_eq!(presence(&mut dashboard).await, (owner_id, PresenceStatus::Online), "the socket hears its own agent come online");

    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id = bo.id;
    let (bo_cookie, _) = session_cookie(&app, "bo@acme.example", AGENT_PASSWORD).await;
    let tab1 = agent_socket_with_cookie(&app, &bo_cookie).await;
    let mut both = vec![owner_id, bo_id];
    both.sort();
    assert_eq!(online_ids(&tab1), both);
    assert_eq!(presence(&mut dashboard).await, (bo_id, PresenceStatus::Online));
    let tab2 = agent_socket_with_cookie(&app, &bo_cookie).await;
    assert_eq!(online_ids(&tab2), both);

    // Visitors see how many agents are online when they connect.
    let visitor = app.visitor_socket(&seed.site).await;
    assert_eq!(agents_online(&visitor), 2);

    // An integration's socket is not a person coming online.
    let mut bot = app.agent_socket(&api_token(&owner, Role::Agent).await).await;
    expect_frame!(bot, AgentOut::CaughtUp { .. }).unwrap();
    assert_eq!(online_ids(&bot), both);

    // Closing one of two tabs changes nothing; closing the last one is going offline
    // once the grace period has passed with no tab open again.
    drop(tab1);
    drop(tab2);
    run_offline_timer(&app, &clock).await;
    assert_eq!(presence(&mut dashboard).await, (bo_id, PresenceStatus::Offline));
    new_agent(&app, &owner, "cy@acme.example", Role::Admin).await;
    let (cy_cookie, _) = session_cookie(&app, "cy@acme.example", AGENT_PASSWORD).await;
    let cy_socket = agent_socket_with_cookie(&app, &cy_cookie).await;
    assert_eq!(
        presence(&mut dashboard).await,
        (cy_socket.agent_id(), PresenceStatus::Online),
        "bo went offline once, and the bot never came online"
    );

    let later = app.visitor_socket(&seed.site).await;
    assert_eq!(agents_online(&later), 2);

    // A dashboard socket needs a session, and a page of another site may not use one.
    let base = app.url("");
    let refused = AgentSocket::connect(&format!("ws://{}/ws/agent", app.addr), &[]).await.err().expect("no session, no socket");
    assert_refused(refused, StatusCode::UNAUTHORIZED, "unauthenticated");
    let refused = AgentSocket::connect_cookie(&base, &cookie, Some("https://evil.example"))
        .await
        .err()
        .expect("a foreign page may not use the cookie");
    assert_refused(refused, StatusCode::FORBIDDEN, "csrf_mismatch");
    // The dashboard's own pages are served from the server itself: that origin is fine.
    let mut own = AgentSocket::connect_cookie(&base, &cookie, Some(&base)).await.expect("same-origin dashboard socket");
    own.hello(None).await.unwrap();
    assert_eq!(own.agent_id(), owner_id);
}

#[tokio::test]
async fn an_idle_dashboard_shows_away_until_it_reports_activity_and_visitors_count_only_available_agents() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner_id = seed.owner.id.0;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut dashboard = agent_socket_with_cookie(&app, &cookie).await;
    assert_eq!(presence(&mut dashboard).await, (owner_id, PresenceStatus::Online));
    assert_eq!(agents_online(&app.visitor_socket(&seed.site).await), 1);

    // The workspace's default: away after fifteen minutes without activity.
    clock.advance(15 * MINUTE);
    app.run_pending_jobs().await;
    assert_eq!(presence(&mut dashboard).await, (owner_id, PresenceStatus::Away));
    assert_eq!(agents_online(&app.visitor_socket(&seed.site).await), 0, "the widget shows the team offline");

    dashboard.send(&AgentIn::Activity).await.unwrap();
    assert_eq!(presence(&mut dashboard).await, (owner_id, PresenceStatus::Online));
    assert_eq!(agents_online(&app.visitor_socket(&seed.site).await), 1);
}

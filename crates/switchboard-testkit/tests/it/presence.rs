//! Who is there and who is typing: typing reaches the other side at once, and agent
//! sockets hear when a colleague comes online or leaves (their last tab closes).

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_testkit::{TestApp, Ws};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use crate::support::{agent_ws_with_cookie, api_token, expect_error, new_agent, session_cookie, visitor_with_conversation};

fn assert_refused(e: tungstenite::Error, status: StatusCode, code: &str) {
    let tungstenite::Error::Http(res) = e else { panic!("expected an HTTP refusal, got {e}") };
    assert_eq!(res.status().as_u16(), status.as_u16());
    let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or_default()).expect("json error body");
    assert_eq!(body["code"], code, "{body}");
}

async fn presence(ws: &mut Ws) -> (String, String) {
    let f = ws.expect("presence").await;
    (f["agent_id"].as_str().unwrap().to_owned(), f["status"].as_str().unwrap().to_owned())
}

fn online_ids(welcome: &Value) -> Vec<String> {
    let mut ids: Vec<_> = welcome["online_agent_ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn typing_goes_from_visitor_to_agents_and_back() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let owner_id = seed.owner.id.to_string();
    let mut dashboard = agent_ws_with_cookie(&app, &cookie).await;
    dashboard.expect("caught_up").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let contact = visitor.welcome["contact_id"].clone();

    for typing in [true, false] {
        visitor.send(json!({"type": "typing", "conversation_id": conv, "typing": typing})).await;
        let f = dashboard.expect("typing").await;
        assert_eq!(f, json!({"type": "typing", "conversation_id": conv, "actor": {"kind": "contact", "id": contact}, "typing": typing}));
    }
    for typing in [true, false] {
        dashboard.send(json!({"type": "typing", "conversation_id": conv, "typing": typing})).await;
        let f = visitor.expect("typing").await;
        assert_eq!(f, json!({"type": "typing", "conversation_id": conv, "actor": {"kind": "agent", "id": owner_id}, "typing": typing}));
    }

    // An integration typing reaches the visitor and the dashboard as itself.
    let owner = app.owner(&seed).await;
    let mut bot = Ws::agent(app.addr, &api_token(&owner, "agent").await, None).await;
    bot.expect("caught_up").await;
    bot.send(json!({"type": "typing", "conversation_id": conv, "typing": true})).await;
    let to_visitor = visitor.expect("typing").await;
    assert_eq!(to_visitor["actor"]["kind"], "integration");
    let to_dashboard = dashboard.expect("typing").await;
    assert_eq!(to_dashboard["actor"], to_visitor["actor"]);

    // Typing is not stored: the conversation did not move.
    let c = owner.ok(reqwest::Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!(c["last_seq"], 2);
    let unknown = uuid::Uuid::new_v4().to_string();
    dashboard.send(json!({"type": "typing", "conversation_id": unknown, "typing": true})).await;
    assert_eq!(expect_error(&mut dashboard, "conversation_not_found").await["ref"], unknown.as_str());
}

#[tokio::test]
async fn agents_see_colleagues_come_online_and_leave_when_their_last_tab_closes() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let owner_id = seed.owner.id.to_string();
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut dashboard = agent_ws_with_cookie(&app, &cookie).await;
    assert_eq!(dashboard.welcome["agent_id"], owner_id.as_str());
    assert_eq!(online_ids(&dashboard.welcome), [owner_id.as_str()]);
    assert_eq!(presence(&mut dashboard).await, (owner_id.clone(), "online".to_owned()), "the socket hears its own agent come online");

    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", "agent").await;
    let bo_id = bo["id"].as_str().unwrap().to_owned();
    let (bo_cookie, _) = session_cookie(&app, "bo@acme.example", "another good password").await;
    let tab1 = agent_ws_with_cookie(&app, &bo_cookie).await;
    let mut both = vec![owner_id.clone(), bo_id.clone()];
    both.sort();
    assert_eq!(online_ids(&tab1.welcome), both);
    assert_eq!(presence(&mut dashboard).await, (bo_id.clone(), "online".to_owned()));
    let tab2 = agent_ws_with_cookie(&app, &bo_cookie).await;
    assert_eq!(online_ids(&tab2.welcome), both);

    // Visitors see how many agents are online when they connect.
    let visitor = app.visitor(&seed.site).await;
    assert_eq!(visitor.welcome["agents_online"], 2);

    // An integration's socket is not a person coming online.
    let mut bot = Ws::agent(app.addr, &api_token(&owner, "agent").await, None).await;
    bot.expect("caught_up").await;
    assert_eq!(online_ids(&bot.welcome), both);

    // Closing one of two tabs changes nothing; closing the last one is going offline.
    drop(tab1);
    drop(tab2);
    assert_eq!(presence(&mut dashboard).await, (bo_id.clone(), "offline".to_owned()));
    new_agent(&app, &owner, "cy@acme.example", "admin").await;
    let (cy_cookie, _) = session_cookie(&app, "cy@acme.example", "another good password").await;
    let cy_socket = agent_ws_with_cookie(&app, &cy_cookie).await;
    let cy_id = cy_socket.welcome["agent_id"].as_str().unwrap().to_owned();
    assert_eq!(presence(&mut dashboard).await, (cy_id, "online".to_owned()), "bo went offline once, and the bot never came online");

    let later = app.visitor(&seed.site).await;
    assert_eq!(later.welcome["agents_online"], 2);

    // A dashboard socket needs a session, and a page of another site may not use one.
    let refused = Ws::connect(&format!("ws://{}/ws/agent", app.addr), None).await.err().expect("no session, no socket");
    assert_refused(refused, StatusCode::UNAUTHORIZED, "unauthenticated");
    let mut req = format!("ws://{}/ws/agent", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await.expect_err("a foreign page may not use the cookie");
    assert_refused(refused, StatusCode::FORBIDDEN, "csrf_mismatch");
    // The dashboard's own pages are served from the server itself: that origin is fine.
    let mut req = format!("ws://{}/ws/agent", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut().insert("origin", format!("http://{}", app.addr).parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(req).await.expect("same-origin dashboard socket");
    let mut own = Ws { stream, welcome: Value::Null };
    own.send(json!({"type": "hello"})).await;
    assert_eq!(own.expect("welcome").await["agent_id"], owner_id.as_str());
}

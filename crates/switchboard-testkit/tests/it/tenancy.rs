//! Workspaces are sealed from each other, and visitors from each other: an id that
//! belongs to someone else is "not found" on every endpoint and socket frame, lists
//! never show another tenant's data, and a visitor token only opens its own site.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_testkit::{Api, Seed, TestApp, Ws};

use crate::support::{PNG_3X2, api_token, assert_error, expect_error, new_agent, upload, visitor_with_conversation};

/// A workspace with one of everything that has an id.
struct Tenant {
    seed: Seed,
    owner: Api,
    token_secret: String,
    visitor: Ws,
    visitor_token: String,
    conversation: String,
    contact: String,
    agent: String,
    team: String,
    site: String,
    canned: String,
    token: String,
    attachment: String,
}

async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let seed = app.seed(name).await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conversation) = visitor_with_conversation(app, &seed, "v-1", &format!("{name}: zebracorn question")).await;
    visitor.send(json!({"type": "page", "url": format!("https://{name}.example/pricing"), "title": "Pricing"})).await;
    let (agent, _) = new_agent(app, &owner, &format!("agent@{name}.example"), "agent").await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    let (status, team) = owner.post("/api/v1/teams", json!({"name": "Support", "agent_ids": [agent]})).await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let (status, canned) = owner.post("/api/v1/canned-responses", json!({"shortcut": "hi", "body": "Hello! How can I help?"})).await;
    assert_eq!(status, StatusCode::CREATED, "{canned}");
    let (status, token) = owner.post("/api/v1/api-tokens", json!({"name": "crm", "role": "admin"})).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let (status, attachment) = upload(&owner, "receipt.png", PNG_3X2.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{attachment}");
    let attachment = attachment["id"].as_str().unwrap().to_owned();
    owner
        .ok(
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"body": "Here is your receipt", "attachment_ids": [attachment]})),
        )
        .await;
    let reply = visitor.expect("event").await;
    assert_eq!(reply["event"]["message"]["attachments"][0]["id"], attachment.as_str());
    Tenant {
        visitor_token: visitor.welcome["token"].as_str().unwrap().to_owned(),
        contact: visitor.welcome["contact_id"].as_str().unwrap().to_owned(),
        site: seed.site.id.to_string(),
        seed,
        owner,
        token_secret: token["secret"].as_str().unwrap().to_owned(),
        visitor,
        conversation,
        agent,
        team: team["id"].as_str().unwrap().to_owned(),
        canned: canned["id"].as_str().unwrap().to_owned(),
        token: token["token"]["id"].as_str().unwrap().to_owned(),
        attachment,
    }
}

#[track_caller]
fn assert_not_found(method: &Method, path: &str, got: &(StatusCode, Value), code: &str) {
    assert_eq!(got.0, StatusCode::NOT_FOUND, "{method} {path} answered {} {}", got.0, got.1);
    assert_eq!(got.1["code"], code, "{method} {path} answered {}", got.1);
}

/// Every endpoint that takes an id, called with `other`'s ids.
fn foreign_calls(other: &Tenant) -> Vec<(Method, String, Option<Value>, &'static str)> {
    let c = format!("/api/v1/conversations/{}", other.conversation);
    let contact = format!("/api/v1/contacts/{}", other.contact);
    let agent = format!("/api/v1/agents/{}", other.agent);
    let owner = format!("/api/v1/agents/{}", other.seed.owner.id);
    let team = format!("/api/v1/teams/{}", other.team);
    let site = format!("/api/v1/sites/{}", other.site);
    let canned = format!("/api/v1/canned-responses/{}", other.canned);
    let conv = "conversation_not_found";
    vec![
        (Method::GET, c.clone(), None, conv),
        (Method::GET, format!("{c}/messages"), None, conv),
        (Method::GET, format!("{c}/messages?after_seq=0"), None, conv),
        (Method::POST, format!("{c}/messages"), Some(json!({"body": "hijacked reply"})), conv),
        (Method::POST, format!("{c}/notes"), Some(json!({"body": "hijacked note"})), conv),
        (Method::PUT, format!("{c}/assignee"), Some(json!({"agent_id": null})), conv),
        (Method::PUT, format!("{c}/status"), Some(json!({"status": "resolved"})), conv),
        (Method::PUT, format!("{c}/labels"), Some(json!({"labels": ["stolen"]})), conv),
        (Method::PUT, format!("{c}/priority"), Some(json!({"priority": "urgent"})), conv),
        (Method::POST, format!("{c}/read"), Some(json!({"up_to_seq": 1})), conv),
        (Method::GET, contact.clone(), None, "contact_not_found"),
        (Method::PATCH, contact.clone(), Some(json!({"name": "Mallory"})), "contact_not_found"),
        (Method::GET, format!("{contact}/pages"), None, "contact_not_found"),
        (Method::GET, agent.clone(), None, "agent_not_found"),
        (Method::PATCH, agent.clone(), Some(json!({"name": "Mallory"})), "agent_not_found"),
        (Method::DELETE, agent, None, "agent_not_found"),
        (Method::GET, owner.clone(), None, "agent_not_found"),
        (Method::PATCH, owner.clone(), Some(json!({"password": "taken over at last"})), "agent_not_found"),
        (Method::DELETE, owner, None, "agent_not_found"),
        (Method::GET, team.clone(), None, "team_not_found"),
        (Method::PATCH, team.clone(), Some(json!({"name": "Mallory's"})), "team_not_found"),
        (Method::DELETE, team, None, "team_not_found"),
        (Method::GET, site.clone(), None, "site_not_found"),
        (Method::PATCH, site.clone(), Some(json!({"allowed_origins": ["https://evil.example"]})), "site_not_found"),
        (Method::DELETE, site, None, "site_not_found"),
        (Method::GET, canned.clone(), None, "canned_response_not_found"),
        (Method::PATCH, canned.clone(), Some(json!({"body": "Send me your password"})), "canned_response_not_found"),
        (Method::DELETE, canned, None, "canned_response_not_found"),
        (Method::DELETE, format!("/api/v1/api-tokens/{}", other.token), None, "api_token_not_found"),
        (Method::GET, format!("/api/v1/attachments/{}", other.attachment), None, "attachment_not_found"),
    ]
}

/// `victim`'s things are exactly as they were.
async fn assert_untouched(victim: &Tenant) {
    let o = &victim.owner;
    let conv = o.ok(Method::GET, &format!("/api/v1/conversations/{}", victim.conversation), None).await;
    assert_eq!(conv["last_seq"], 3);
    assert_eq!((conv["status"].as_str(), conv["priority"].as_str()), (Some("open"), Some("none")));
    assert_eq!(conv["labels"], json!([]));
    assert_eq!(conv["agent"]["read_seq"], 0);
    let contact = o.ok(Method::GET, &format!("/api/v1/contacts/{}", victim.contact), None).await;
    assert_eq!(contact["name"], Value::Null);
    let agent = o.ok(Method::GET, &format!("/api/v1/agents/{}", victim.agent), None).await;
    assert_eq!(agent["name"], format!("agent agent@{}.example", victim.seed.workspace.name));
    let team = o.ok(Method::GET, &format!("/api/v1/teams/{}", victim.team), None).await;
    assert_eq!(team["name"], "Support");
    let site = o.ok(Method::GET, &format!("/api/v1/sites/{}", victim.site), None).await;
    assert_eq!(site["allowed_origins"], json!([]));
    let canned = o.ok(Method::GET, &format!("/api/v1/canned-responses/{}", victim.canned), None).await;
    assert_eq!(canned["body"], "Hello! How can I help?");
    let tokens = o.ok(Method::GET, "/api/v1/api-tokens", None).await;
    assert!(tokens.as_array().unwrap().iter().any(|t| t["id"] == victim.token.as_str()));
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
        for (method, path, body, code) in foreign_calls(&b) {
            let got = caller.call(method.clone(), &path, body).await;
            assert_not_found(&method, &path, &got, code);
        }
    }
    assert_untouched(&b).await;
    // And B's integration token still works.
    let b_bot = Api::with_token(app.url(""), &b.token_secret);
    assert_eq!(b_bot.get("/api/v1/conversations").await.0, StatusCode::OK);
}

#[tokio::test]
async fn another_workspaces_agents_teams_and_files_cannot_be_pulled_into_ours() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let c = format!("/api/v1/conversations/{}", a.conversation);

    let got = a.owner.put(&format!("{c}/assignee"), json!({"agent_id": b.agent})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "agent_not_found");
    let got = a.owner.put(&format!("{c}/assignee"), json!({"agent_id": b.seed.owner.id.to_string()})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "agent_not_found");
    let got = a.owner.put(&format!("{c}/assignee"), json!({"agent_id": null, "team_id": b.team})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "team_not_found");
    let got = a.owner.post(&format!("{c}/messages"), json!({"body": "see attached", "attachment_ids": [b.attachment]})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "attachment_not_found");
    let conv = a.owner.ok(Method::GET, &c, None).await;
    assert_eq!((conv["assignee_id"].clone(), conv["team_id"].clone(), conv["last_seq"].clone()), (Value::Null, Value::Null, json!(3)));

    let got = a.owner.post("/api/v1/teams", json!({"name": "Mixed", "agent_ids": [a.agent, b.agent]})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "agent_not_found");
    let got = a.owner.patch(&format!("/api/v1/teams/{}", a.team), json!({"agent_ids": [b.agent]})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "agent_not_found");
    let teams = a.owner.ok(Method::GET, "/api/v1/teams", None).await;
    assert_eq!(teams.as_array().unwrap().len(), 1, "the rejected team was not created: {teams}");
    assert_eq!(teams[0]["agent_ids"], json!([a.agent]), "the rejected change left the members as they were");
}

#[tokio::test]
async fn lists_never_show_another_workspaces_data() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let ids = |v: &Value| -> Vec<String> { v.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect() };
    let get = |path: &'static str| a.owner.ok(Method::GET, path, None);

    assert_eq!(ids(&get("/api/v1/conversations").await["items"]), [a.conversation.as_str()]);
    assert_eq!(ids(&get("/api/v1/contacts").await), [a.contact.as_str()]);
    let mut agents = ids(&get("/api/v1/agents").await);
    agents.sort();
    let mut expected = vec![a.agent.clone(), a.seed.owner.id.to_string()];
    expected.sort();
    assert_eq!(agents, expected);
    assert_eq!(ids(&get("/api/v1/teams").await), [a.team.as_str()]);
    assert_eq!(ids(&get("/api/v1/sites").await), [a.site.as_str()]);
    assert_eq!(ids(&get("/api/v1/canned-responses").await), [a.canned.as_str()]);
    let tokens = ids(&get("/api/v1/api-tokens").await);
    assert_eq!(tokens, [a.token.as_str()]);

    // Filters naming B's things find nothing rather than B's data.
    for filter in
        [format!("contact_id={}", b.contact), format!("site_id={}", b.site), format!("assignee={}", b.agent), format!("team_id={}", b.team)]
    {
        let page = a.owner.ok(Method::GET, &format!("/api/v1/conversations?{filter}"), None).await;
        assert_eq!(page["items"], json!([]), "{filter}");
    }

    // Both workspaces have a message with "zebracorn"; each finds only its own.
    let found = a.owner.ok(Method::GET, "/api/v1/search?q=zebracorn", None).await;
    let convs: Vec<_> = found["messages"].as_array().unwrap().iter().map(|m| m["conversation_id"].clone()).collect();
    assert_eq!(convs, [json!(a.conversation)]);
    let found = b.owner.ok(Method::GET, "/api/v1/search?q=zebracorn", None).await;
    let convs: Vec<_> = found["messages"].as_array().unwrap().iter().map(|m| m["conversation_id"].clone()).collect();
    assert_eq!(convs, [json!(b.conversation)]);
}

#[tokio::test]
async fn an_agent_feed_carries_only_its_own_workspace() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;
    let secret = api_token(&a.owner, "agent").await;
    let mut feed = Ws::agent(app.addr, &secret, None).await;
    feed.expect("caught_up").await;

    b.owner.ok(Method::POST, &format!("/api/v1/conversations/{}/messages", b.conversation), Some(json!({"body": "for B only"}))).await;
    let mut b_visitor = b.visitor;
    b_visitor.expect("event").await;
    a.owner.ok(Method::POST, &format!("/api/v1/conversations/{}/messages", a.conversation), Some(json!({"body": "for A"}))).await;
    let first = feed.expect("event").await;
    assert_eq!(first["event"]["conversation_id"], a.conversation.as_str(), "B's event reached A's feed: {first}");

    // A replay of A's whole feed holds only A's conversation.
    let mut replay = Ws::agent(app.addr, &secret, Some(0)).await;
    loop {
        let f = replay.next().await.expect("closed");
        match f["type"].as_str().unwrap() {
            "event" => assert_eq!(f["event"]["conversation_id"], a.conversation.as_str(), "{f}"),
            "caught_up" => break,
            _ => {}
        }
    }
}

/// The frames a visitor could use to reach a conversation by id, each with the error it must get.
async fn poke(ws: &mut Ws, conversation: &str) {
    ws.send(json!({"type": "send", "client_id": "poke-send", "conversation_id": conversation, "body": "let me in"})).await;
    let e = expect_error(ws, "conversation_not_found").await;
    assert_eq!(e["ref"], "poke-send");
    ws.send(json!({"type": "history", "conversation_id": conversation, "after_seq": 0})).await;
    let e = expect_error(ws, "conversation_not_found").await;
    assert_eq!(e["ref"], conversation);
    ws.send(json!({"type": "typing", "conversation_id": conversation, "typing": true})).await;
    expect_error(ws, "conversation_not_found").await;
    ws.send(json!({"type": "receipt", "conversation_id": conversation, "kind": "read", "up_to_seq": 1})).await;
    expect_error(ws, "conversation_not_found").await;
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
    for target in [&b.conversation, &neighbours] {
        poke(&mut me, target).await;
    }

    // Resume cursors for them are refused one by one; my own conversation still works.
    let token = me.welcome["token"].as_str().unwrap().to_owned();
    let cursors = json!([
        {"conversation_id": b.conversation, "after_seq": 0},
        {"conversation_id": neighbours, "after_seq": 0},
        {"conversation_id": mine, "after_seq": 0},
    ]);
    let mut again = Ws::visitor(app.addr, &a.seed.site.public_key, Some(&token), Some(cursors)).await;
    let ids: Vec<_> = again.welcome["conversations"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, [json!(mine)]);
    assert_eq!(expect_error(&mut again, "conversation_not_found").await["ref"], b.conversation.as_str());
    assert_eq!(expect_error(&mut again, "conversation_not_found").await["ref"], neighbours.as_str());
    let mut replayed = vec![];
    loop {
        let f = again.next().await.expect("closed");
        match f["type"].as_str().unwrap() {
            "event" => {
                assert_eq!(f["event"]["conversation_id"], mine.as_str());
                replayed.push(f["event"]["seq"].as_i64().unwrap());
            }
            "caught_up" => {
                assert_eq!(f["conversation_id"], mine.as_str());
                break;
            }
            _ => panic!("unexpected {f}"),
        }
    }
    assert_eq!(replayed, [1, 2]);

    // Nothing was written to the other conversations, and their visitors heard nothing.
    let theirs = b.owner.ok(Method::GET, &format!("/api/v1/conversations/{}", b.conversation), None).await;
    assert_eq!((theirs["last_seq"].clone(), theirs["visitor"]["read_seq"].clone()), (json!(3), json!(0)));
    let n = a.owner.ok(Method::GET, &format!("/api/v1/conversations/{neighbours}"), None).await;
    assert_eq!((n["last_seq"].clone(), n["visitor"]["read_seq"].clone()), (json!(2), json!(0)));
    a.owner.ok(Method::POST, &format!("/api/v1/conversations/{neighbours}/messages"), Some(json!({"body": "for the neighbour"}))).await;
    let next = neighbour.next().await.expect("neighbour socket closed");
    assert_eq!((next["type"].as_str(), next["event"]["message"]["body"].as_str()), (Some("event"), Some("for the neighbour")), "{next}");
    b.owner.ok(Method::POST, &format!("/api/v1/conversations/{}/messages", b.conversation), Some(json!({"body": "for B's visitor"}))).await;
    let next = b_visitor.next().await.expect("B's visitor socket closed");
    assert_eq!((next["type"].as_str(), next["event"]["message"]["body"].as_str()), (Some("event"), Some("for B's visitor")), "{next}");
}

#[tokio::test]
async fn a_visitor_token_opens_only_its_own_site() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "acme").await;
    let b = tenant(&app, "globex").await;

    // On B's socket: refused with `invalid_token`, then closed.
    let mut ws = Ws::connect(&format!("ws://{}/ws/visitor?site={}", app.addr, b.seed.site.public_key), None).await.unwrap();
    ws.send(json!({"type": "hello", "token": a.visitor_token, "resume": []})).await;
    let refused = ws.next().await.expect("an error frame before the close");
    assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("invalid_token")), "{refused}");
    assert_eq!(ws.closed_with().await, Some(1008));

    // A second site of the same workspace is another site too.
    let (status, other_site) = a.owner.post("/api/v1/sites", json!({"name": "acme blog"})).await;
    assert_eq!(status, StatusCode::CREATED, "{other_site}");
    let mut ws =
        Ws::connect(&format!("ws://{}/ws/visitor?site={}", app.addr, other_site["public_key"].as_str().unwrap()), None).await.unwrap();
    ws.send(json!({"type": "hello", "token": a.visitor_token, "resume": []})).await;
    assert_eq!(ws.next().await.expect("error frame")["code"], "invalid_token");

    // Over the widget's HTTP endpoints as well.
    let widget = |site: &str, attachment: &str, token: &str| format!("/api/v1/widget/{site}/attachments/{attachment}?token={token}");
    let anon = Api::new(app.url(""));
    let got = anon.get(&widget(&b.seed.site.public_key, &b.attachment, &a.visitor_token)).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_token");
    let got = anon.get(&widget(&a.seed.site.public_key, &b.attachment, &a.visitor_token)).await;
    assert_error(&got, StatusCode::NOT_FOUND, "attachment_not_found");
    let res = reqwest::get(app.url(&widget(&b.seed.site.public_key, &b.attachment, &b.visitor_token))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "B's visitor may fetch the file B's team sent");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG_3X2);
}

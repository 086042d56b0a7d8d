//! The REST API as integrations and the dashboard use it: actions that reach both
//! sockets, inbox filters and cursors, the OpenAPI document, health and metrics,
//! search across Persian and Arabic spellings, attachments, and sessions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_testkit::{Api, TestApp, Ws};

use crate::support::{PNG_3X2, api_token, as_visitor_sees, assert_error, ids, session_cookie, sorted, upload, visitor_with_conversation};

#[tokio::test]
async fn rest_actions_reach_the_agent_feed_and_the_visitor_as_the_same_events() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "My parcel never came").await;
    let mut feed = Ws::agent(app.addr, &secret, None).await;
    feed.expect("caught_up").await;
    let c = format!("/api/v1/conversations/{conv}");
    let owner_id = seed.owner.id.to_string();

    let actions = [
        (Method::POST, format!("{c}/messages"), json!({"body": "Sorry! Checking now."}), "message", true),
        (Method::POST, format!("{c}/notes"), json!({"body": "courier lost it again"}), "note", false),
        (Method::PUT, format!("{c}/assignee"), json!({"agent_id": owner_id}), "assigned", true),
        (Method::PUT, format!("{c}/labels"), json!({"labels": ["Shipping", "vip", "vip"]}), "labels_changed", false),
        (Method::PUT, format!("{c}/priority"), json!({"priority": "high"}), "priority_changed", false),
        (Method::PUT, format!("{c}/status"), json!({"status": "resolved"}), "status_changed", true),
    ];
    let mut visible = vec![];
    for (i, (method, path, body, kind, for_visitor)) in actions.into_iter().enumerate() {
        let done = owner.ok(method, &path, Some(body)).await;
        let events = done["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{done}");
        let event = &events[0];
        assert_eq!(event["kind"], kind);
        assert_eq!(event["seq"], 3 + i as i64);
        assert_eq!(event["feed_seq"], 3 + i as i64);
        assert_eq!(event["actor"], json!({"kind": "agent", "id": owner_id}));
        assert_eq!(done["conversation"]["last_seq"], event["seq"]);
        let live = feed.expect("event").await;
        assert_eq!(live["event"], *event, "the feed carries exactly what REST answered");
        if for_visitor {
            visible.push(as_visitor_sees(event));
        }
    }

    // The visitor gets the visible ones, identical but for the feed cursor.
    let mut seen = vec![];
    while seen.len() < visible.len() {
        let f = visitor.next().await.expect("visitor socket closed");
        if f["type"] == "event" {
            seen.push(f["event"].clone());
        }
    }
    assert_eq!(seen, visible);

    let conversation = owner.ok(Method::GET, &c, None).await;
    assert_eq!(conversation["status"], "resolved");
    assert_eq!(conversation["assignee_id"], owner_id.as_str());
    assert_eq!(conversation["labels"], json!(["shipping", "vip"]));
    assert_eq!(conversation["priority"], "high");
    assert!(conversation["first_reply_at"].is_i64() && conversation["resolved_at"].is_i64(), "{conversation}");

    // A change that changes nothing appends nothing and reaches no one.
    let same = owner.ok(Method::PUT, &format!("{c}/priority"), Some(json!({"priority": "high"}))).await;
    assert_eq!(same["events"], json!([]));
    let next = owner.ok(Method::POST, &format!("{c}/messages"), Some(json!({"body": "It is on its way."}))).await;
    assert_eq!(next["events"][0]["seq"], 9);
    assert_eq!(feed.expect("event").await["event"], next["events"][0]);
    // A reply reopens nothing (only visitors do), and the visitor hears it.
    assert_eq!(next["conversation"]["status"], "resolved");
    assert_eq!(visitor.expect("event").await["event"], as_visitor_sees(&next["events"][0]));
}

#[tokio::test]
async fn the_inbox_filters_by_status_assignee_and_label_and_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut convs = vec![];
    for i in 0..5 {
        convs.push(visitor_with_conversation(&app, &seed, "v-1", &format!("question {i}")).await.1);
    }
    let [mine, labelled, resolved, other, plain] = convs.clone().try_into().unwrap();
    let (teammate, _) = crate::support::new_agent(&app, &owner, "bo@acme.example", "agent").await;
    let teammate = teammate["id"].as_str().unwrap().to_owned();
    let c = |id: &str, p: &str| format!("/api/v1/conversations/{id}/{p}");
    owner.ok(Method::PUT, &c(&mine, "assignee"), Some(json!({"agent_id": seed.owner.id.to_string()}))).await;
    owner.ok(Method::PUT, &c(&labelled, "labels"), Some(json!({"labels": ["vip", "billing"]}))).await;
    owner.ok(Method::PUT, &c(&resolved, "status"), Some(json!({"status": "resolved"}))).await;
    owner.ok(Method::PUT, &c(&other, "assignee"), Some(json!({"agent_id": teammate}))).await;
    owner.ok(Method::PUT, &c(&other, "labels"), Some(json!({"labels": ["vip-later"]}))).await;

    let list = |query: &str| {
        let path = format!("/api/v1/conversations?{query}");
        let owner = owner.clone();
        async move { owner.ok(Method::GET, &path, None).await }
    };
    assert_eq!(ids(&list("status=resolved").await), [resolved.as_str()]);
    assert_eq!(sorted(ids(&list("status=open").await)), sorted(vec![mine.clone(), labelled.clone(), other.clone(), plain.clone()]));
    assert_eq!(ids(&list("status=pending").await), Vec::<String>::new());
    assert_eq!(ids(&list("assignee=me").await), [mine.as_str()]);
    assert_eq!(ids(&list(&format!("assignee={teammate}")).await), [other.as_str()]);
    assert_eq!(sorted(ids(&list("assignee=none").await)), sorted(vec![labelled.clone(), resolved.clone(), plain.clone()]));
    assert_eq!(ids(&list("label=vip").await), [labelled.as_str()], "`vip` does not match `vip-later`");
    assert_eq!(ids(&list("label=VIP").await), [labelled.as_str()]);
    assert_eq!(ids(&list("label=billing&status=open").await), [labelled.as_str()]);
    assert_eq!(ids(&list("label=billing&status=resolved").await), Vec::<String>::new());
    assert_eq!(sorted(ids(&list("assignee=none&status=open").await)), sorted(vec![labelled.clone(), plain.clone()]));

    // Most recent activity first; pages of two follow each other without gaps or repeats.
    let all = list("limit=50").await;
    let newest_first = ids(&all);
    assert_eq!(sorted(newest_first.clone()), sorted(convs.clone()));
    let updated: Vec<i64> = all["items"].as_array().unwrap().iter().map(|c| c["updated_at"].as_i64().unwrap()).collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "{updated:?}");
    assert_eq!(all["next_cursor"], Value::Null);
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = list(&query).await;
        pages += 1;
        assert!(page["items"].as_array().unwrap().len() <= 2);
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(paged, newest_first);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = res.json().await.expect("valid JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Switchboard API");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/conversations"), "{:?}", paths.keys().collect::<Vec<_>>());
    let messages = &paths["/api/v1/conversations/{id}/messages"];
    assert!(messages["get"].is_object() && messages["post"].is_object(), "{messages}");
    for path in ["/api/v1/sessions", "/api/v1/attachments", "/api/v1/search", "/api/v1/widget/{site_key}"] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let text = |path: &'static str| {
        let url = app.url(path);
        async move {
            let res = reqwest::get(url).await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    assert_eq!(text("/healthz").await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(text("/readyz").await, (StatusCode::OK, "ready".to_owned()));

    let (visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    owner.ok(Method::POST, &path, Some(json!({"client_id": "m-1", "body": "Hello!"}))).await;
    owner.ok(Method::POST, &path, Some(json!({"client_id": "m-1", "body": "Hello!"}))).await; // a retry is not a new message
    owner.ok(Method::POST, &format!("/api/v1/conversations/{conv}/notes"), Some(json!({"body": "regular"}))).await;
    owner.ok(Method::PUT, &format!("/api/v1/conversations/{conv}/priority"), Some(json!({"priority": "low"}))).await;

    let (status, metrics) = text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let line = |name: &str| metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in\n{metrics}")).to_owned();
    assert_eq!(line("switchboard_open_sockets{kind=\"visitor\"}"), "switchboard_open_sockets{kind=\"visitor\"} 1");
    assert_eq!(line("switchboard_messages_stored"), "switchboard_messages_stored_total 3", "the visitor's message, the reply and the note");
    assert!(metrics.contains("switchboard_store_commit_seconds"), "{metrics}");
    drop(visitor);
}

#[tokio::test]
async fn search_finds_a_persian_message_typed_with_arabic_letters() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    // Persian keheh (ک) and Farsi yeh (ی), with a zero-width non-joiner in می‌خواهم.
    let (_v1, persian) = visitor_with_conversation(&app, &seed, "v-1", "سلام، یک کتاب فارسی می‌خواهم").await;
    let (_v2, _other) = visitor_with_conversation(&app, &seed, "v-1", "Do you sell English books?").await;

    let search = |q: &str| {
        let path = format!("/api/v1/search?q={}", urlencode(q));
        let owner = owner.clone();
        async move { owner.ok(Method::GET, &path, None).await }
    };
    for query in ["كتاب", "يك كتاب", "ميخواهم", "فارسي"] {
        let found = search(query).await;
        let hits = found["messages"].as_array().unwrap();
        assert_eq!(hits.len(), 1, "{query}: {found}");
        assert_eq!(hits[0]["conversation_id"], persian.as_str(), "{query}");
        assert_eq!(hits[0]["body"], "سلام، یک کتاب فارسی می‌خواهم");
    }
    assert_eq!(search("books").await["messages"].as_array().unwrap().len(), 1);
    assert_eq!(search("كتاب books").await["messages"], json!([]), "every word must match");
    assert_eq!(search("دفتر").await["messages"], json!([]));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn an_image_is_uploaded_measured_attached_to_a_reply_and_downloaded() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Which colour is it?").await;

    let (status, attachment) = upload(&owner, "../../swatch.png", PNG_3X2.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{attachment}");
    let id = attachment["id"].as_str().unwrap().to_owned();
    assert_eq!(attachment["filename"], "swatch.png", "paths are stripped from names");
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!((attachment["width"].as_u64(), attachment["height"].as_u64()), (Some(3), Some(2)));
    assert_eq!(attachment["size"], PNG_3X2.len());
    assert_eq!(attachment["url"], format!("/api/v1/attachments/{id}"));

    let reply = owner
        .ok(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(json!({"body": "This red:", "attachment_ids": [id]})))
        .await;
    assert_eq!(reply["events"][0]["message"]["attachments"], json!([attachment]));
    // The visitor gets the same file, with the widget's download path.
    let event = visitor.expect("event").await;
    let mut for_visitor = attachment.clone();
    for_visitor["url"] = json!(format!("/api/v1/widget/{}/attachments/{id}", seed.site.public_key));
    assert_eq!(event["event"]["message"]["attachments"], json!([for_visitor]));

    let res = owner.http.get(app.url(&format!("/api/v1/attachments/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG_3X2);

    // Only signed-in callers may fetch it through the team's endpoint.
    assert_error(&Api::new(app.url("")).get(&format!("/api/v1/attachments/{id}")).await, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_visitor_downloads_the_teams_file_and_sends_their_own() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Can I see it?").await;
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let key = &seed.site.public_key;

    let (_, attachment) = upload(&owner, "swatch.png", PNG_3X2.to_vec()).await;
    let id = attachment["id"].as_str().unwrap().to_owned();
    owner.ok(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(json!({"body": "Here", "attachment_ids": [id]}))).await;
    visitor.expect("event").await;

    // `<img src>` cannot send headers, so the token rides in the query.
    let res = reqwest::get(app.url(&format!("/api/v1/widget/{key}/attachments/{id}?token={token}"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG_3X2);

    // The visitor uploads a file with `Authorization: Visitor <token>` and attaches it.
    let part = reqwest::multipart::Part::bytes(b"order #1234, blue".to_vec()).file_name("order.txt");
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/widget/{key}/attachments")))
        .header("authorization", format!("Visitor {token}"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine["content_type"], "text/plain; charset=utf-8");
    visitor
        .send(json!({"type": "send", "client_id": "v-3", "conversation_id": conv, "body": "see file", "attachment_ids": [mine["id"]]}))
        .await;
    let ack = loop {
        let f = visitor.next().await.expect("visitor socket closed");
        assert_ne!(f["type"], "error", "{f}");
        if f["type"] == "ack" {
            break f;
        }
    };
    assert_eq!(ack["message"]["attachments"][0]["id"], mine["id"]);

    // The team can open it; another visitor of the same site cannot.
    let mine_id = mine["id"].as_str().unwrap();
    let res = owner.http.get(app.url(&format!("/api/v1/attachments/{mine_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"order #1234, blue");
    let stranger = app.visitor(&seed.site).await;
    let stranger_token = stranger.welcome["token"].as_str().unwrap();
    let got = Api::new(app.url("")).get(&format!("/api/v1/widget/{key}/attachments/{mine_id}?token={stranger_token}")).await;
    assert_error(&got, StatusCode::NOT_FOUND, "attachment_not_found");
}

#[tokio::test]
async fn signing_in_and_out() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let email = seed.owner.email.as_str();

    let mut api = Api::new(app.url(""));
    let me = api.login(email, &seed.password).await.unwrap();
    assert_eq!((me.agent.email.as_str(), me.workspace.name.as_str()), (email, "acme"));
    let current = api.me().await.unwrap();
    assert_eq!(current.agent.id, seed.owner.id.0);
    assert!(me.csrf_token.is_some());
    assert_eq!(current.csrf_token, me.csrf_token);
    let (status, _) = api.delete("/api/v1/sessions/current").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(&api.get("/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated");

    // The server forgot the session: replaying the old cookie does not work either.
    let (cookie, csrf) = session_cookie(&app, email, &seed.password).await;
    let with_cookie = |method: Method, path: &str| {
        reqwest::Client::new().request(method, app.url(path)).header("cookie", cookie.clone()).header("x-csrf-token", csrf.clone()).send()
    };
    assert_eq!(with_cookie(Method::GET, "/api/v1/me").await.unwrap().status(), StatusCode::OK);
    assert_eq!(with_cookie(Method::DELETE, "/api/v1/sessions/current").await.unwrap().status(), StatusCode::NO_CONTENT);
    let res = with_cookie(Method::GET, "/api/v1/me").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "unauthenticated");

    // An API token has no "me".
    let owner = app.owner(&seed).await;
    let bot = Api::with_token(app.url(""), &api_token(&owner, "agent").await);
    assert_error(&bot.get("/api/v1/me").await, StatusCode::NOT_FOUND, "agent_not_found");
}

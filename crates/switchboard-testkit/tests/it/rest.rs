//! The REST API as integrations and the dashboard use it: actions that reach both
//! sockets, inbox filters and cursors, the OpenAPI document, health and metrics,
//! search across Persian and Arabic spellings, attachments, and sessions.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use switchboard_testkit::proto::{
    ActorKind, AgentOut, AssignRequest, ConversationStatus, ErrorBody, ErrorCode, LabelsRequest, Priority, PriorityRequest, Reply, Role,
    StatusRequest, VisitorIn, VisitorOut,
};
use switchboard_testkit::{Api, ConversationFilter, TestApp, expect_frame};
use uuid::Uuid;

use crate::support::{
    PNG_3X2, api_token, as_visitor_sees, assert_refused, assert_same, caught_up_agent, ids, kind, new_agent, session_cookie, sorted,
    visitor_with_conversation,
};

fn reply(body: &str) -> Reply {
    Reply { body: body.into(), ..Reply::default() }
}

#[tokio::test]
async fn rest_actions_reach_the_agent_feed_and_the_visitor_as_the_same_events() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "My parcel never came").await;
    let mut feed = caught_up_agent(&app, &secret).await;
    let owner_id = seed.owner.id.0;

    let kinds = [
        ("message", true),
        ("note", false),
        ("assigned", true),
        ("labels_changed", false),
        ("priority_changed", false),
        ("status_changed", true),
    ];
    let mut visible = vec![];
    for (i, (expected, for_visitor)) in kinds.into_iter().enumerate() {
        let done = match i {
            0 => owner.reply(conv, &reply("Sorry! Checking now.")).await,
            1 => owner.note(conv, &reply("courier lost it again")).await,
            2 => owner.assign(conv, &AssignRequest { agent_id: Some(owner_id), team_id: None }).await,
            3 => owner.set_labels(conv, &LabelsRequest { labels: vec!["Shipping".into(), "vip".into(), "vip".into()] }).await,
            4 => owner.set_priority(conv, &PriorityRequest { priority: Priority::High }).await,
            _ => owner.set_status(conv, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await,
        }
        .unwrap();
        assert_eq!(done.events.len(), 1, "{done:?}");
        let event = &done.events[0];
        assert_eq!(kind(&event.body), expected);
        assert_eq!(event.seq, 3 + i as i64);
        assert_eq!(event.feed_seq, Some(3 + i as i64));
        assert_eq!((event.actor.kind, event.actor.id), (ActorKind::Agent, Some(owner_id)));
        assert_eq!(done.conversation.last_seq, event.seq);
        let live = expect_frame!(feed, AgentOut::Event { event } => event).unwrap();
        assert_same(&live, event, "the feed carries exactly what REST answered");
        if for_visitor {
            visible.push(as_visitor_sees(event));
        }
    }

    // The visitor gets the visible ones, identical but for the feed cursor.
    let mut seen = vec![];
    while seen.len() < visible.len() {
        seen.push(expect_frame!(visitor, VisitorOut::Event { event } => event).unwrap());
    }
    assert_same(&seen, &visible, "the visitor sees the visible events");

    let conversation = owner.conversation(conv).await.unwrap();
    assert_eq!(conversation.status, ConversationStatus::Resolved);
    assert_eq!(conversation.assignee_id, Some(owner_id));
    assert_eq!(conversation.labels, ["shipping", "vip"]);
    assert_eq!(conversation.priority, Priority::High);
    assert!(conversation.first_reply_at.is_some() && conversation.resolved_at.is_some(), "{conversation:?}");

    // A change that changes nothing appends nothing and reaches no one.
    let same = owner.set_priority(conv, &PriorityRequest { priority: Priority::High }).await.unwrap();
    assert!(same.events.is_empty(), "{same:?}");
    let next = owner.reply(conv, &reply("It is on its way.")).await.unwrap();
    assert_eq!(next.events[0].seq, 9);
    assert_same(&expect_frame!(feed, AgentOut::Event { event } => event).unwrap(), &next.events[0], "the feed hears the reply");
    // A reply reopens nothing (only visitors do), and the visitor hears it.
    assert_eq!(next.conversation.status, ConversationStatus::Resolved);
    let heard = expect_frame!(visitor, VisitorOut::Event { event } => event).unwrap();
    assert_same(&heard, &as_visitor_sees(&next.events[0]), "the visitor hears the reply");
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
    let (teammate, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let assign = |agent_id| AssignRequest { agent_id: Some(agent_id), team_id: None };
    let labels = |l: &[&str]| LabelsRequest { labels: l.iter().map(|s| s.to_string()).collect() };
    owner.assign(mine, &assign(seed.owner.id.0)).await.unwrap();
    owner.set_labels(labelled, &labels(&["vip", "billing"])).await.unwrap();
    owner.set_status(resolved, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await.unwrap();
    owner.assign(other, &assign(teammate.id)).await.unwrap();
    owner.set_labels(other, &labels(&["vip-later"])).await.unwrap();

    let list = |filter: ConversationFilter| {
        let owner = owner.clone();
        async move { owner.conversations(&filter).await.unwrap() }
    };
    let status = |s| ConversationFilter { status: Some(s), ..ConversationFilter::default() };
    let assignee = |a: &str| ConversationFilter { assignee: Some(a.to_owned()), ..ConversationFilter::default() };
    let label = |l: &str| ConversationFilter { label: Some(l.to_owned()), ..ConversationFilter::default() };
    assert_eq!(ids(&list(status(ConversationStatus::Resolved)).await), [resolved]);
    assert_eq!(sorted(ids(&list(status(ConversationStatus::Open)).await)), sorted(vec![mine, labelled, other, plain]));
    assert_eq!(ids(&list(status(ConversationStatus::Pending)).await), Vec::<Uuid>::new());
    assert_eq!(ids(&list(assignee("me")).await), [mine]);
    assert_eq!(ids(&list(assignee(&teammate.id.to_string())).await), [other]);
    assert_eq!(sorted(ids(&list(assignee("none")).await)), sorted(vec![labelled, resolved, plain]));
    assert_eq!(ids(&list(label("vip")).await), [labelled], "`vip` does not match `vip-later`");
    assert_eq!(ids(&list(label("VIP")).await), [labelled]);
    assert_eq!(ids(&list(ConversationFilter { status: Some(ConversationStatus::Open), ..label("billing") }).await), [labelled]);
    assert_eq!(ids(&list(ConversationFilter { status: Some(ConversationStatus::Resolved), ..label("billing") }).await), Vec::<Uuid>::new());
    let unassigned_open = ConversationFilter { status: Some(ConversationStatus::Open), ..assignee("none") };
    assert_eq!(sorted(ids(&list(unassigned_open).await)), sorted(vec![labelled, plain]));

    // Most recent activity first; pages of two follow each other without gaps or repeats.
    let all = list(ConversationFilter { limit: Some(50), ..ConversationFilter::default() }).await;
    let newest_first = ids(&all);
    assert_eq!(sorted(newest_first.clone()), sorted(convs.clone()));
    let updated: Vec<i64> = all.items.iter().map(|c| c.updated_at).collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "{updated:?}");
    assert_eq!(all.next_cursor, None);
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = list(ConversationFilter { limit: Some(2), cursor: cursor.clone(), ..ConversationFilter::default() }).await;
        pages += 1;
        assert!(page.items.len() <= 2);
        paged.extend(ids(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
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
    assert_eq!(
        text("/readyz").await,
        (StatusCode::OK, "ready\ndatabase: ok\nbus: local\n".to_owned()),
        "one node: the bus is in the process"
    );

    let (visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    let hello = Reply { client_id: Some("m-1".into()), ..reply("Hello!") };
    owner.reply(conv, &hello).await.unwrap();
    owner.reply(conv, &hello).await.unwrap(); // a retry is not a new message
    owner.note(conv, &reply("regular")).await.unwrap();
    owner.set_priority(conv, &PriorityRequest { priority: Priority::Low }).await.unwrap();

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

    for query in ["كتاب", "يك كتاب", "ميخواهم", "فارسي"] {
        let found = owner.search(query).await.unwrap();
        assert_eq!(found.messages.len(), 1, "{query}: {found:?}");
        assert_eq!(found.messages[0].conversation_id, persian, "{query}");
        assert_eq!(found.messages[0].body, "سلام، یک کتاب فارسی می‌خواهم");
    }
    assert_eq!(owner.search("books").await.unwrap().messages.len(), 1);
    assert!(owner.search("كتاب books").await.unwrap().messages.is_empty(), "every word must match");
    assert!(owner.search("دفتر").await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn an_image_is_uploaded_measured_attached_to_a_reply_and_downloaded() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Which colour is it?").await;

    let attachment = owner.upload("../../swatch.png", PNG_3X2.to_vec()).await.unwrap();
    let id = attachment.id;
    assert_eq!(attachment.filename, "swatch.png", "paths are stripped from names");
    assert_eq!(attachment.content_type, "image/png");
    assert_eq!((attachment.width, attachment.height), (Some(3), Some(2)));
    assert_eq!(attachment.size, PNG_3X2.len() as u64);
    assert_eq!(attachment.url, format!("/api/v1/attachments/{id}"));

    let done = owner.reply(conv, &Reply { attachment_ids: vec![id], ..reply("This red:") }).await.unwrap();
    let sent = done.events[0].body.message().expect("a message event");
    assert_same(&sent.attachments, &[&attachment], "the reply carries the file as uploaded");
    // The visitor gets the same file, with the widget's download path.
    let event = expect_frame!(visitor, VisitorOut::Event { event } => event).unwrap();
    let mut for_visitor = attachment.clone();
    for_visitor.url = format!("/api/v1/widget/{}/attachments/{id}", seed.site.public_key);
    assert_same(&event.body.message().expect("a message event").attachments, &[for_visitor], "the visitor's copy");

    let res = owner.http.get(app.url(&format!("/api/v1/attachments/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG_3X2);
    assert_eq!(owner.attachment(id).await.unwrap().as_ref(), PNG_3X2);

    // Only signed-in callers may fetch it through the team's endpoint.
    assert_refused(Api::new(app.url("")).attachment(id).await, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn a_visitor_downloads_the_teams_file_and_sends_their_own() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Can I see it?").await;
    let token = visitor.token().to_owned();
    let key = &seed.site.public_key;
    let anon = Api::new(app.url(""));

    let attachment = owner.upload("swatch.png", PNG_3X2.to_vec()).await.unwrap();
    owner.reply(conv, &Reply { attachment_ids: vec![attachment.id], ..reply("Here") }).await.unwrap();
    expect_frame!(visitor, VisitorOut::Event { .. }).unwrap();

    // `<img src>` cannot send headers, so the token rides in the query.
    assert_eq!(anon.widget_attachment(key, attachment.id, &token).await.unwrap().as_ref(), PNG_3X2);

    // The visitor uploads a file with `Authorization: Visitor <token>` and attaches it.
    let mine = anon.widget_upload(key, &token, "order.txt", b"order #1234, blue".to_vec()).await.unwrap();
    assert_eq!(mine.content_type, "text/plain; charset=utf-8");
    let send = VisitorIn::Send {
        client_id: "v-3".into(),
        conversation_id: Some(conv),
        body: "see file".into(),
        format: None,
        attachment_ids: vec![mine.id],
        pow: None,
        invitation_id: None,
        team_id: None,
    };
    visitor.send(&send).await.unwrap();
    let message = visitor
        .find(|f| match f {
            VisitorOut::Ack { message, .. } => Ok(message),
            VisitorOut::Error { code, message, .. } => panic!("{code}: {message}"),
            _ => Err(()),
        })
        .await
        .unwrap();
    assert_eq!(message.attachments[0].id, mine.id);

    // The team can open it; another visitor of the same site cannot.
    assert_eq!(owner.attachment(mine.id).await.unwrap().as_ref(), b"order #1234, blue");
    let stranger = app.visitor_socket(&seed.site).await;
    let got = anon.widget_attachment(key, mine.id, stranger.token()).await;
    assert_refused(got, StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound);
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
    api.logout().await.unwrap();
    assert_refused(api.me().await, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);

    // The server forgot the session: replaying the old cookie does not work either.
    let (cookie, csrf) = session_cookie(&app, email, &seed.password).await;
    let with_cookie = |method: Method, path: &str| {
        reqwest::Client::new().request(method, app.url(path)).header("cookie", cookie.clone()).header("x-csrf-token", csrf.clone()).send()
    };
    assert_eq!(with_cookie(Method::GET, "/api/v1/me").await.unwrap().status(), StatusCode::OK);
    assert_eq!(with_cookie(Method::DELETE, "/api/v1/sessions/current").await.unwrap().status(), StatusCode::NO_CONTENT);
    let res = with_cookie(Method::GET, "/api/v1/me").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<ErrorBody>().await.unwrap().code, ErrorCode::Unauthenticated);

    // An API token has no "me".
    let owner = app.owner(&seed).await;
    let bot = Api::with_token(app.url(""), &api_token(&owner, Role::Agent).await);
    assert_refused(bot.me().await, StatusCode::NOT_FOUND, ErrorCode::AgentNotFound);
}

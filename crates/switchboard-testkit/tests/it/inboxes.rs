//! Inboxes and the workspace's time zone over the REST API: a site is a website inbox,
//! conversations say which inbox they came in through and can be listed by it (the
//! `site_id` filter keeps working), and owners and admins set an IANA time zone.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_testkit::TestApp;

use crate::support::{assert_error, assert_invalid_field, ids, new_agent, visitor_with_conversation};

#[tokio::test]
async fn a_conversation_names_its_website_inbox_and_lists_filter_by_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("inboxes").await;
    let owner = app.owner(&seed).await;
    let site = seed.site.id.to_string();
    let (_visitor, conversation) = visitor_with_conversation(&app, &seed, "c-1", "Hello from the shop").await;
    let (_, agent) = new_agent(&app, &owner, "ana@inboxes.example", "agent").await;

    let (status, inboxes) = agent.get("/api/v1/inboxes").await;
    assert_eq!(status, StatusCode::OK, "{inboxes}");
    assert_eq!(inboxes.as_array().unwrap().len(), 1, "{inboxes}");
    assert_eq!((inboxes[0]["id"].as_str(), inboxes[0]["kind"].as_str()), (Some(site.as_str()), Some("website")));
    assert_eq!(inboxes[0]["name"], seed.site.name.as_str());

    let (status, read) = agent.get(&format!("/api/v1/conversations/{conversation}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!((read["inbox_id"].as_str(), read["inbox_kind"].as_str()), (Some(site.as_str()), Some("website")));
    assert_eq!(read["site_id"], site.as_str(), "site_id stays");

    let by_inbox = agent.get(&format!("/api/v1/conversations?inbox_id={site}")).await.1;
    assert_eq!(ids(&by_inbox), std::slice::from_ref(&conversation));
    let by_site = agent.get(&format!("/api/v1/conversations?site_id={site}")).await.1;
    assert_eq!(ids(&by_site), [conversation]);

    let (_, blog) = owner.post("/api/v1/sites", json!({"name": "Blog"})).await;
    let elsewhere = agent.get(&format!("/api/v1/conversations?inbox_id={}", blog["id"].as_str().unwrap())).await.1;
    assert!(ids(&elsewhere).is_empty(), "{elsewhere}");
}

#[tokio::test]
async fn only_website_inboxes_can_be_created_and_only_by_admins() {
    let app = TestApp::spawn().await;
    let seed = app.seed("creating").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@creating.example", "agent").await;

    assert_error(&agent.post("/api/v1/inboxes", json!({"name": "Blog", "kind": "website"})).await, StatusCode::FORBIDDEN, "forbidden");
    for kind in ["email", "telegram", "api"] {
        let refused = owner.post("/api/v1/inboxes", json!({"name": "Support", "kind": kind})).await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "inbox_kind_unsupported");
    }
    let (status, blog) = owner.post("/api/v1/inboxes", json!({"name": "Blog", "kind": "website"})).await;
    assert_eq!(status, StatusCode::CREATED, "{blog}");
    assert_eq!(blog["kind"], "website");
    let (status, site) = owner.get(&format!("/api/v1/sites/{}", blog["id"].as_str().unwrap())).await;
    assert_eq!((status, site["name"].as_str()), (StatusCode::OK, Some("Blog")), "a website inbox is a site: {site}");
    assert_eq!(owner.get("/api/v1/inboxes").await.1.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admins_set_the_workspace_time_zone_from_the_iana_database() {
    let app = TestApp::spawn().await;
    let seed = app.seed("zoned").await;
    let owner = app.owner(&seed).await;
    let (_, admin) = new_agent(&app, &owner, "adam@zoned.example", "admin").await;
    let (_, agent) = new_agent(&app, &owner, "ana@zoned.example", "agent").await;

    assert_eq!(agent.get("/api/v1/workspace").await.1["time_zone"], "UTC");
    assert_error(&agent.patch("/api/v1/workspace", json!({"time_zone": "Asia/Tehran"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_invalid_field(&admin.patch("/api/v1/workspace", json!({"time_zone": "Mars/Olympus_Mons"})).await, "time_zone");

    let (status, ws) = admin.patch("/api/v1/workspace", json!({"time_zone": "asia/tehran"})).await;
    assert_eq!(status, StatusCode::OK, "{ws}");
    assert_eq!((ws["time_zone"].as_str(), ws["name"].as_str()), (Some("Asia/Tehran"), Some(seed.workspace.name.as_str())));
    let me = agent.get("/api/v1/me").await.1;
    assert_eq!(me["workspace"]["time_zone"], "Asia/Tehran", "everyone sees it: {me}");
}

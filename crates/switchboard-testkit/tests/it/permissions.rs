//! Who may see and change a workspace's settings, over HTTP: agents see sites but
//! not their identity secrets, only owners manage owners, and a workspace keeps
//! at least one owner. Core enforces these; here they are proved as clients meet them.

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchboard_testkit::{Api, TestApp};

use crate::support::{api_token, assert_error, new_agent};

#[tokio::test]
async fn an_agent_sees_the_sites_but_never_their_identity_secrets() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@acme.example", "agent").await;
    let site = format!("/api/v1/sites/{}", seed.site.id);

    let listed = agent.ok(Method::GET, "/api/v1/sites", None).await;
    assert_eq!(listed[0]["public_key"], seed.site.public_key.as_str());
    assert!(listed[0].get("identity_secret").is_none(), "an agent gets no secret: {listed}");
    let read = agent.ok(Method::GET, &site, None).await;
    assert_eq!(read["name"], "acme site");
    assert!(read.get("identity_secret").is_none(), "an agent gets no secret: {read}");
    let rotate = json!({"rotate_identity_secret": true});
    assert_error(&agent.patch(&site, rotate).await, StatusCode::FORBIDDEN, "forbidden");

    let as_owner = owner.ok(Method::GET, &site, None).await;
    assert_eq!(as_owner["identity_secret"], seed.site.identity_secret.as_str(), "the secret did not change");
    let (_, admin) = new_agent(&app, &owner, "adam@acme.example", "admin").await;
    assert_eq!(admin.ok(Method::GET, "/api/v1/sites", None).await[0]["identity_secret"], seed.site.identity_secret.as_str());
}

#[tokio::test]
async fn an_owner_token_can_neither_demote_nor_delete_the_last_owner() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let token = Api::with_token(app.url(""), &api_token(&owner, "owner").await);
    let me = format!("/api/v1/agents/{}", seed.owner.id);

    assert_error(&token.patch(&me, json!({"role": "admin"})).await, StatusCode::CONFLICT, "last_owner");
    assert_error(&token.delete(&me).await, StatusCode::CONFLICT, "last_owner");

    // The owner can still sign in and is still the owner.
    let again = app.owner(&seed).await;
    assert_eq!(again.ok(Method::GET, &me, None).await["role"], "owner");
}

#[tokio::test]
async fn of_two_owners_one_can_demote_the_other() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (otto, otto_api) = new_agent(&app, &owner, "otto@acme.example", "owner").await;
    let first = format!("/api/v1/agents/{}", seed.owner.id);

    let demoted = otto_api.ok(Method::PATCH, &first, Some(json!({"role": "admin"}))).await;
    assert_eq!(demoted["role"], "admin");
    // Otto is the last owner now.
    let otto = format!("/api/v1/agents/{}", otto["id"].as_str().unwrap());
    let token = Api::with_token(app.url(""), &api_token(&otto_api, "owner").await);
    assert_error(&token.patch(&otto, json!({"role": "agent"})).await, StatusCode::CONFLICT, "last_owner");
}

#[tokio::test]
async fn an_admin_cannot_make_or_change_an_owner() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, admin) = new_agent(&app, &owner, "adam@acme.example", "admin").await;
    let (ana, _) = new_agent(&app, &owner, "ana@acme.example", "agent").await;
    let ana = format!("/api/v1/agents/{}", ana["id"].as_str().unwrap());
    let first = format!("/api/v1/agents/{}", seed.owner.id);

    assert_error(&admin.patch(&ana, json!({"role": "owner"})).await, StatusCode::FORBIDDEN, "forbidden");
    let takeover = json!({"email": "adam+owner@acme.example", "password": "the admin's own choice"});
    assert_error(&admin.patch(&first, takeover).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&admin.delete(&first).await, StatusCode::FORBIDDEN, "forbidden");

    // The owner's sign-in still works and Ana is still an agent.
    let again = app.owner(&seed).await;
    assert_eq!(again.ok(Method::GET, &ana, None).await["role"], "agent");
    // An admin still manages agents.
    assert_eq!(admin.ok(Method::PATCH, &ana, Some(json!({"role": "admin"}))).await["role"], "admin");
}

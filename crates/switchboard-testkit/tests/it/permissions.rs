//! Who may see and change a workspace's settings, over HTTP: agents see sites but
//! not their identity secrets, only owners manage owners, and a workspace keeps
//! at least one owner. Core enforces these; here they are proved as clients meet them.

use reqwest::StatusCode;
use switchboard_testkit::proto::{ErrorCode, Role, SiteRequest, UpdateAgent};
use switchboard_testkit::{Api, TestApp};

use crate::support::{api_token, assert_refused, new_agent};

fn role(role: Role) -> UpdateAgent {
    UpdateAgent { role: Some(role), ..UpdateAgent::default() }
}

#[tokio::test]
async fn an_agent_sees_the_sites_but_never_their_identity_secrets() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let site = seed.site.id.0;

    let listed = agent.sites().await.unwrap();
    assert_eq!(listed[0].public_key, seed.site.public_key);
    assert_eq!(listed[0].identity_secret, None, "an agent gets no secret: {listed:?}");
    let read = agent.site(site).await.unwrap();
    assert_eq!(read.name, "acme site");
    assert_eq!(read.identity_secret, None, "an agent gets no secret: {read:?}");
    let rotate = SiteRequest { rotate_identity_secret: true, ..SiteRequest::default() };
    assert_refused(agent.update_site(site, &rotate).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);

    let as_owner = owner.site(site).await.unwrap();
    assert_eq!(as_owner.identity_secret.as_deref(), Some(seed.site.identity_secret.as_str()), "the secret did not change");
    let (_, admin) = new_agent(&app, &owner, "adam@acme.example", Role::Admin).await;
    assert_eq!(admin.sites().await.unwrap()[0].identity_secret.as_deref(), Some(seed.site.identity_secret.as_str()));
}

#[tokio::test]
async fn an_owner_token_can_neither_demote_nor_delete_the_last_owner() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let token = Api::with_token(app.url(""), &api_token(&owner, Role::Owner).await);
    let me = seed.owner.id.0;

    assert_refused(token.update_agent(me, &role(Role::Admin)).await, StatusCode::CONFLICT, ErrorCode::LastOwner);
    assert_refused(token.delete_agent(me).await, StatusCode::CONFLICT, ErrorCode::LastOwner);

    // The owner can still sign in and is still the owner.
    let again = app.owner(&seed).await;
    assert_eq!(again.agent(me).await.unwrap().role, Role::Owner);
}

#[tokio::test]
async fn of_two_owners_one_can_demote_the_other() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (otto, otto_api) = new_agent(&app, &owner, "otto@acme.example", Role::Owner).await;

    let demoted = otto_api.update_agent(seed.owner.id.0, &role(Role::Admin)).await.unwrap();
    assert_eq!(demoted.role, Role::Admin);
    // Otto is the last owner now.
    let token = Api::with_token(app.url(""), &api_token(&otto_api, Role::Owner).await);
    assert_refused(token.update_agent(otto.id, &role(Role::Agent)).await, StatusCode::CONFLICT, ErrorCode::LastOwner);
}

#[tokio::test]
async fn an_admin_cannot_make_or_change_an_owner() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, admin) = new_agent(&app, &owner, "adam@acme.example", Role::Admin).await;
    let (ana, _) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let first = seed.owner.id.0;

    assert_refused(admin.update_agent(ana.id, &role(Role::Owner)).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    let takeover = UpdateAgent {
        email: Some("adam+owner@acme.example".into()),
        password: Some("the admin's own choice".into()),
        ..UpdateAgent::default()
    };
    assert_refused(admin.update_agent(first, &takeover).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(admin.delete_agent(first).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);

    // The owner's sign-in still works and Ana is still an agent.
    let again = app.owner(&seed).await;
    assert_eq!(again.agent(ana.id).await.unwrap().role, Role::Agent);
    // An admin still manages agents.
    assert_eq!(admin.update_agent(ana.id, &role(Role::Admin)).await.unwrap().role, Role::Admin);
}

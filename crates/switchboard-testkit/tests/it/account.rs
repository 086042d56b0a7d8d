//! What an agent does with their own account from the dashboard (profile, language,
//! notifications, password, signing out everywhere), and what admins do to agents
//! (deactivating, resetting a password), labels and canned responses. Each story
//! tries the wrong role and another workspace too.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_testkit::proto::{
    AgentStatus, AssignRequest, CannedRequest, CannedScope, ChangePassword, ErrorCode, EventBody, LabelRequest, NotificationPrefs, Role,
    UiLocale, UpdateAgent, UpdateMe,
};
use switchboard_testkit::{Api, ClientError, TestApp};
use uuid::Uuid;

use crate::support::raw::assert_invalid_field;
use crate::support::{api_token, new_agent, visitor_with_conversation};

/// The status and code of a refused request.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    let e = r.expect_err("the server should refuse this");
    (e.status().expect("an HTTP answer"), e.code().expect("an error code"))
}

#[tokio::test]
async fn an_agent_edits_their_profile_language_notifications_and_status() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, ana) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;

    let me = ana.me().await.unwrap().agent;
    assert_eq!((me.status, me.active), (AgentStatus::Online, true));
    assert!(me.notifications.sound && me.notifications.desktop && me.notifications.new_conversation && me.notifications.new_message);

    let quiet = NotificationPrefs { sound: false, desktop: true, new_conversation: true, new_message: false };
    let change = UpdateMe {
        name: Some("Ana Yılmaz".into()),
        avatar_url: Some(Some("https://example.com/ana.png".into())),
        locale: Some(UiLocale::Tr),
        notifications: Some(quiet),
        status: Some(AgentStatus::Away),
    };
    let updated = ana.update_me(&change).await.unwrap();
    let me = ana.me().await.unwrap().agent;
    assert_eq!((me.name.as_str(), me.locale.as_str(), me.status), ("Ana Yılmaz", "tr", AgentStatus::Away));
    assert_eq!(me.avatar_url.as_deref(), Some("https://example.com/ana.png"));
    assert!(!me.notifications.sound && !me.notifications.new_message && me.notifications.desktop);
    assert_eq!(updated.id, me.id);

    // Leaving a field out keeps it; null removes the avatar.
    ana.update_me(&UpdateMe { avatar_url: Some(None), ..Default::default() }).await.unwrap();
    let me = ana.me().await.unwrap().agent;
    assert_eq!((me.avatar_url, me.locale.as_str(), me.status), (None, "tr", AgentStatus::Away));

    // Bad input names its field; a language the dashboard lacks is not an option.
    assert_invalid_field(&ana.patch("/api/v1/me", json!({"locale": "de"})).await, "locale");
    assert_invalid_field(&ana.patch("/api/v1/me", json!({"status": "offline"})).await, "status");
    assert_invalid_field(&ana.patch("/api/v1/me", json!({"name": "  "})).await, "name");
    assert_invalid_field(&ana.patch("/api/v1/me", json!({"avatar_url": "javascript:alert(1)"})).await, "avatar_url");

    // An integration is nobody: it has no account to edit.
    let bot = Api::with_token(app.url(""), &api_token(&owner, Role::Admin).await);
    assert_eq!(refused(bot.update_me(&UpdateMe::default()).await), (404, ErrorCode::AgentNotFound));
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, laptop) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let phone = app.login("ana@acme.example", "another good password").await;

    let wrong = ChangePassword { current_password: "not my password".into(), new_password: "a brand new secret".into() };
    assert_eq!(refused(laptop.change_password(&wrong).await), (401, ErrorCode::InvalidCredentials));
    let got = laptop.post("/api/v1/me/password", json!({"current_password": "another good password", "new_password": "short"})).await;
    assert_invalid_field(&got, "new_password");
    phone.me().await.expect("nothing changed yet");

    let change = ChangePassword { current_password: "another good password".into(), new_password: "a brand new secret".into() };
    laptop.change_password(&change).await.unwrap();
    laptop.me().await.expect("the session that changed it stays");
    assert_eq!(refused(phone.me().await), (401, ErrorCode::Unauthenticated), "the other session ended");
    let mut again = switchboard_testkit::Client::new(&app.url(""));
    assert_eq!(refused(again.login("ana@acme.example", "another good password").await), (401, ErrorCode::InvalidCredentials));
    again.login("ana@acme.example", "a brand new secret").await.expect("the new password signs in");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_including_this_one() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, laptop) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let phone = app.login("ana@acme.example", "another good password").await;

    laptop.revoke_sessions().await.unwrap();
    assert_eq!(refused(laptop.me().await), (401, ErrorCode::Unauthenticated));
    assert_eq!(refused(phone.me().await), (401, ErrorCode::Unauthenticated));
    owner.me().await.expect("another agent's session is left alone");
}

#[tokio::test]
async fn a_deactivated_agents_open_conversations_go_back_to_their_teams_queue() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (bo, bo_api) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id: Uuid = bo.id;
    let (_, colleague) = new_agent(&app, &owner, "cem@acme.example", Role::Agent).await;
    let (_, team) = owner.post("/api/v1/teams", json!({"name": "Billing", "agent_ids": [bo_id]})).await;
    let team_id: Uuid = team["id"].as_str().unwrap().parse().unwrap();

    let (_v1, open) = visitor_with_conversation(&app, &seed, "v-1", "My card was charged twice.").await;
    let (_v2, done) = visitor_with_conversation(&app, &seed, "v-2", "Thanks, all good now.").await;
    for conv in [open, done] {
        owner.assign(conv, &AssignRequest { agent_id: Some(bo_id), team_id: Some(team_id) }).await.unwrap();
    }
    let resolved =
        switchboard_testkit::proto::StatusRequest { status: switchboard_testkit::proto::ConversationStatus::Resolved, snoozed_until: None };
    owner.set_status(done, &resolved).await.unwrap();

    // Nobody but an admin deactivates, and nobody themselves.
    let off = UpdateAgent { active: Some(false), ..Default::default() };
    assert_eq!(refused(colleague.update_agent(bo_id, &off).await), (403, ErrorCode::Forbidden));
    assert_eq!(refused(owner.update_agent(seed.owner.id.0, &off).await), (403, ErrorCode::Forbidden));
    let other = app.seed("other").await;
    let other_owner = app.owner(&other).await;
    assert_eq!(refused(other_owner.update_agent(bo_id, &off).await), (404, ErrorCode::AgentNotFound), "another workspace's agent");

    let deactivated = owner.update_agent(bo_id, &off).await.unwrap();
    assert!(!deactivated.active);
    let released = owner.conversation(open).await.unwrap();
    assert_eq!((released.assignee_id, released.team_id), (None, Some(team_id)), "back in the team's unassigned queue");
    let history = owner.history(open, &Default::default()).await.unwrap().items;
    // Released, then routed again: nobody of the team is online, so it waits in its queue.
    let kinds: Vec<&str> = history.iter().rev().take(2).map(|e| crate::support::kind(&e.body)).collect();
    assert_eq!(kinds, ["queued", "assigned"]);
    let last = &history[history.len() - 2];
    assert!(
        matches!(last.body, EventBody::Assigned { assignee_id: None, team_id: Some(t), reason: switchboard_testkit::proto::AssignReason::Released, .. } if t == team_id),
        "{last:?}"
    );
    assert_eq!(last.actor.kind, switchboard_testkit::proto::ActorKind::System);
    assert_eq!(owner.conversation(done).await.unwrap().assignee_id, Some(bo_id), "a resolved one keeps its history");

    assert_eq!(refused(bo_api.me().await), (401, ErrorCode::Unauthenticated), "signed out");
    let mut again = switchboard_testkit::Client::new(&app.url(""));
    assert_eq!(refused(again.login("bo@acme.example", "another good password").await), (401, ErrorCode::InvalidCredentials));
    assert!(!owner.agent(bo_id).await.unwrap().active, "the list shows who is inactive");
    let to_bo = AssignRequest { agent_id: Some(bo_id), team_id: None };
    assert_invalid_field(
        &owner.put(&format!("/api/v1/conversations/{open}/assignee"), serde_json::to_value(&to_bo).unwrap()).await,
        "agent_id",
    );

    owner.update_agent(bo_id, &UpdateAgent { active: Some(true), ..Default::default() }).await.unwrap();
    again.login("bo@acme.example", "another good password").await.expect("reactivated");
}

#[tokio::test]
async fn deleting_an_agent_also_releases_their_conversations_with_a_system_event() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id: Uuid = bo.id;
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    owner.assign(conv, &AssignRequest { agent_id: Some(bo_id), team_id: None }).await.unwrap();
    owner.delete_agent(bo_id).await.unwrap();
    let history = owner.history(conv, &Default::default()).await.unwrap().items;
    assert!(matches!(history.last().unwrap().body, EventBody::Assigned { assignee_id: None, .. }));
    assert_eq!(owner.conversation(conv).await.unwrap().assignee_id, None);
}

#[tokio::test]
async fn an_admin_resets_an_agents_password_which_signs_them_out() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (bo, bo_api) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let bo_id: Uuid = bo.id;
    let (_, admin) = new_agent(&app, &owner, "ada@acme.example", Role::Admin).await;

    assert_eq!(refused(bo_api.reset_agent_password(seed.owner.id.0, "taking over now").await), (403, ErrorCode::Forbidden));
    assert_eq!(
        refused(admin.reset_agent_password(seed.owner.id.0, "taking over now").await),
        (403, ErrorCode::Forbidden),
        "only owners for an owner"
    );
    assert_invalid_field(&admin.post(&format!("/api/v1/agents/{bo_id}/password"), json!({"new_password": "short"})).await, "new_password");
    assert_eq!(refused(admin.reset_agent_password(Uuid::new_v4(), "a fine password").await), (404, ErrorCode::AgentNotFound));

    admin.reset_agent_password(bo_id, "reset by the admin").await.unwrap();
    assert_eq!(refused(bo_api.me().await), (401, ErrorCode::Unauthenticated));
    app.login("bo@acme.example", "reset by the admin").await.me().await.expect("the new password works");
}

#[tokio::test]
async fn owners_and_admins_manage_labels_that_everyone_lists() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;

    let billing =
        LabelRequest { name: Some("Billing".into()), color: Some("#D1242F".into()), description: Some("Payments and refunds".into()) };
    let created = owner.create_label(&billing).await.unwrap();
    assert_eq!((created.name.as_str(), created.color.as_str()), ("billing", "#d1242f"), "names and colours in lower case");
    owner.create_label(&LabelRequest { name: Some("vip".into()), ..Default::default() }).await.unwrap();
    let listed = agent.labels().await.unwrap();
    assert_eq!(listed.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["billing", "vip"], "every role lists them");
    assert_eq!(listed[1].color, "#6e7781", "a default colour");

    assert_eq!(
        refused(agent.create_label(&LabelRequest { name: Some("mine".into()), ..Default::default() }).await),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(refused(agent.delete_label("vip").await), (403, ErrorCode::Forbidden));
    assert_eq!(refused(owner.create_label(&billing).await), (409, ErrorCode::LabelTaken));
    assert_invalid_field(&owner.post("/api/v1/labels", json!({"name": "no spaces"})).await, "name");
    assert_invalid_field(&owner.post("/api/v1/labels", json!({"name": "x", "color": "red"})).await, "color");
    assert_invalid_field(&owner.post("/api/v1/labels", json!({"color": "#fff"})).await, "name");

    let renamed = owner.update_label("billing", &LabelRequest { name: Some("payments".into()), ..Default::default() }).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.description.as_str()), ("payments", "Payments and refunds"));
    assert_eq!(refused(owner.update_label("billing", &LabelRequest::default()).await), (404, ErrorCode::LabelNotFound));
    assert_eq!(
        refused(owner.update_label("payments", &LabelRequest { name: Some("vip".into()), ..Default::default() }).await),
        (409, ErrorCode::LabelTaken)
    );

    let other = app.owner(&app.seed("other").await).await;
    assert!(other.labels().await.unwrap().is_empty(), "another workspace has its own");
    assert_eq!(refused(other.delete_label("vip").await), (404, ErrorCode::LabelNotFound));

    // A conversation keeps a label whether or not it is managed.
    let (_v, conv) = visitor_with_conversation(&app, &seed, "v-1", "Refund please").await;
    let labels = switchboard_testkit::proto::LabelsRequest { labels: vec!["vip".into(), "unmanaged".into()] };
    owner.set_labels(conv, &labels).await.unwrap();
    owner.delete_label("vip").await.unwrap();
    assert_eq!(owner.conversation(conv).await.unwrap().labels, ["unmanaged", "vip"]);
}

#[tokio::test]
async fn agents_keep_personal_canned_responses_beside_the_workspaces() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, ana) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let (_, bo) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let canned = |scope, shortcut: &str, body: &str| CannedRequest { shortcut: Some(shortcut.into()), body: Some(body.into()), scope };

    let shared =
        owner.create_canned_response(&canned(None, "hi", "Hello {{contact.name}}, I am {{agent.name}} from {{site.name}}.")).await.unwrap();
    assert_eq!((shared.scope, shared.owner_id), (CannedScope::Workspace, None), "workspace by default");
    let mine = ana.create_canned_response(&canned(Some(CannedScope::Personal), "hi", "Merhaba! Ben Ana.")).await.unwrap();
    assert_eq!((mine.scope, mine.owner_id), (CannedScope::Personal, Some(ana.me().await.unwrap().agent.id)));
    assert_eq!(refused(ana.create_canned_response(&canned(Some(CannedScope::Workspace), "bye", "Bye")).await), (403, ErrorCode::Forbidden));
    assert_eq!(
        refused(ana.create_canned_response(&canned(Some(CannedScope::Personal), "hi", "again")).await),
        (409, ErrorCode::ShortcutTaken)
    );

    let ids = |list: Vec<switchboard_testkit::proto::CannedResponse>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(ana.canned_responses().await.unwrap()), [shared.id, mine.id], "the workspace's and her own");
    assert_eq!(ids(bo.canned_responses().await.unwrap()), [shared.id], "not another agent's");
    assert_eq!(ids(owner.canned_responses().await.unwrap()), [shared.id], "not even an owner sees them");

    let edited =
        ana.update_canned_response(mine.id, &CannedRequest { body: Some("سلام! من آنا هستم.".into()), ..Default::default() }).await.unwrap();
    assert_eq!(edited.scope, CannedScope::Personal);
    assert_eq!(refused(bo.update_canned_response(mine.id, &CannedRequest::default()).await), (404, ErrorCode::CannedResponseNotFound));
    assert_eq!(refused(bo.delete_canned_response(mine.id).await), (404, ErrorCode::CannedResponseNotFound));
    assert_eq!(refused(ana.delete_canned_response(shared.id).await), (403, ErrorCode::Forbidden));
    ana.delete_canned_response(mine.id).await.unwrap();
    assert_eq!(ids(ana.canned_responses().await.unwrap()), [shared.id]);

    let bot = Api::with_token(app.url(""), &api_token(&owner, Role::Admin).await);
    assert_invalid_field(&bot.post("/api/v1/canned-responses", json!({"shortcut": "x", "body": "y", "scope": "personal"})).await, "scope");
}

#[tokio::test]
async fn the_root_sends_signed_in_agents_to_the_dashboard_and_others_to_its_login() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |res: &reqwest::Response| res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);

    let anonymous = no_redirects.get(app.url("/")).send().await.unwrap();
    assert_eq!((anonymous.status(), location(&anonymous).as_deref()), (StatusCode::SEE_OTHER, Some("/app/login")));
    let stale = no_redirects.get(app.url("/")).header("cookie", "sb_session=not-a-session").send().await.unwrap();
    assert_eq!(location(&stale).as_deref(), Some("/app/login"));

    let (cookie, _) = crate::support::session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let signed_in = no_redirects.get(app.url("/")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!((signed_in.status(), location(&signed_in).as_deref()), (StatusCode::SEE_OTHER, Some("/app")));
}

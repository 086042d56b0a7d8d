//! Account security (issue 17), as agents and owners meet it: two-factor sign-in with
//! an authenticator app (codes computed here as the app would), recovery codes, the
//! workspace's requirement; sessions listed and revoked (their sockets close); API
//! tokens that expire and show their last use; and the audit log owners read and export.
//! Time rules run on a manual clock, never on sleeps.

use std::sync::Arc;

use reqwest::StatusCode;
use switchboard_core::{Clock, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{
    ActorKind, AgentOut, AuditAction, AuditEntry, AuditTargetKind, CreateApiToken, ErrorCode, Role, SiteRequest, TeamRequest, UpdateAgent,
    UpdateWorkspace,
};
use switchboard_testkit::{Api, AuditFilter, SignedIn, TestApp, expect_frame};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use crate::support::{AGENT_PASSWORD, agent_socket_with_cookie, assert_invalid, assert_refused, new_agent, visitor_with_conversation};

/// The start of a 30-second step, so a story knows which codes are current.
const T0: i64 = 1_800_000_000_000;

/// The code an authenticator app shows for `secret` at `at`.
fn code(secret: &str, at: Timestamp) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().expect("a base32 secret");
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes).generate((at.0 / 1000) as u64)
}

async fn clocked() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    (TestApp::spawn_at(clock.clone()).await, clock)
}

/// Turns two-factor sign-in on for `api`'s agent at the clock's time; the secret and recovery codes.
async fn enrol(api: &Api, clock: &ManualClock) -> (String, Vec<String>) {
    let setup = api.begin_two_factor().await.expect("setup");
    let codes = api.enable_two_factor(&code(&setup.secret, clock.now())).await.expect("enable").recovery_codes;
    (setup.secret, codes)
}

async fn challenge(app: &TestApp, email: &str, password: &str) -> (Api, String) {
    let mut api = Api::new(app.url(""));
    match api.sign_in(email, password).await.expect("password step") {
        SignedIn::TwoFactor(c) => (api, c.challenge),
        SignedIn::Me(me) => panic!("expected a second step, got a session for {}", me.agent.id),
    }
}

#[tokio::test]
async fn an_agent_enrols_signs_in_with_a_code_or_a_recovery_code_and_turns_it_off() {
    let (app, clock) = clocked().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (ana, ana_api) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let email = "ana@acme.example";

    let status = ana_api.two_factor_status().await.unwrap();
    assert!(!status.enabled && !status.required);
    let setup = ana_api.begin_two_factor().await.unwrap();
    assert!(setup.otpauth_uri.starts_with("otpauth://totp/") && setup.otpauth_uri.contains(&format!("secret={}", setup.secret)));
    assert!(setup.qr_svg.contains("<svg"), "the QR code is an SVG");
    // Until a code confirms it, sign-in is unchanged.
    assert!(matches!(Api::new(app.url("")).sign_in(email, AGENT_PASSWORD).await.unwrap(), SignedIn::Me(_)));
    assert_refused(ana_api.enable_two_factor("000000").await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    let recovery = ana_api.enable_two_factor(&code(&setup.secret, clock.now())).await.unwrap().recovery_codes;
    assert_eq!(recovery.len(), 10);
    assert_eq!(ana_api.two_factor_status().await.unwrap().recovery_codes_left, 10);
    assert_refused(ana_api.begin_two_factor().await, StatusCode::CONFLICT, ErrorCode::TwoFactorEnabled);

    // The password alone is not enough any more.
    let (mut phone, c) = challenge(&app, email, AGENT_PASSWORD).await;
    assert_refused(phone.conversations(&Default::default()).await, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);
    assert_refused(phone.login_two_factor(&c, "123456").await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    let enrolment_code = code(&setup.secret, clock.now());
    assert_refused(phone.login_two_factor(&c, &enrolment_code).await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    assert_refused(phone.login_two_factor("c1.forged.challenge", "123456").await, StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken);
    clock.advance(30_000);
    let me = phone.login_two_factor(&c, &code(&setup.secret, clock.now())).await.unwrap();
    assert_eq!(me.agent.id, ana.id);
    phone.conversations(&Default::default()).await.expect("the session works");
    let replay = code(&setup.secret, clock.now());
    let (mut tablet, c) = challenge(&app, email, AGENT_PASSWORD).await;
    assert_refused(tablet.login_two_factor(&c, &replay).await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);

    // A recovery code works once, typed loosely.
    tablet.login_two_factor(&c, &recovery[0].to_uppercase().replace('-', " ")).await.expect("a recovery code");
    let (mut laptop, c) = challenge(&app, email, AGENT_PASSWORD).await;
    assert_refused(laptop.login_two_factor(&c, &recovery[0]).await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    assert_eq!(tablet.two_factor_status().await.unwrap().recovery_codes_left, 9);

    // A challenge lasts five minutes.
    clock.advance(5 * 60_000 + 1);
    assert_refused(laptop.login_two_factor(&c, &code(&setup.secret, clock.now())).await, StatusCode::UNAUTHORIZED, ErrorCode::TokenExpired);

    // Turning it off needs a code too.
    assert_refused(phone.disable_two_factor("000000").await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    phone.disable_two_factor(&code(&setup.secret, clock.now())).await.unwrap();
    assert!(!phone.two_factor_status().await.unwrap().enabled);
    assert_refused(phone.disable_two_factor("000000").await, StatusCode::CONFLICT, ErrorCode::TwoFactorNotEnabled);
    assert!(matches!(Api::new(app.url("")).sign_in(email, AGENT_PASSWORD).await.unwrap(), SignedIn::Me(_)));
    // A wrong password still says nothing about a second factor.
    let wrong = Api::new(app.url("")).sign_in(email, "not the password").await;
    assert_refused(wrong, StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn an_owner_requires_two_factor_and_agents_enrol_before_using_the_dashboard() {
    let (app, clock) = clocked().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, admin) = new_agent(&app, &owner, "root@acme.example", Role::Admin).await;
    let require = UpdateWorkspace { require_two_factor: Some(true), ..Default::default() };
    assert_refused(admin.update_workspace(&require).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert!(owner.update_workspace(&require).await.unwrap().require_two_factor);
    owner.create_agent(&new_agent_body("bo@acme.example")).await.unwrap();

    let mut bo = Api::new(app.url(""));
    let me = match bo.sign_in("bo@acme.example", AGENT_PASSWORD).await.unwrap() {
        SignedIn::Me(me) => me,
        SignedIn::TwoFactor(_) => panic!("bo has no second factor yet"),
    };
    assert!(me.two_factor_setup_required);
    assert_refused(bo.conversations(&Default::default()).await, StatusCode::FORBIDDEN, ErrorCode::TwoFactorSetupRequired);
    assert_refused(bo.agents().await, StatusCode::FORBIDDEN, ErrorCode::TwoFactorSetupRequired);
    assert!(bo.me().await.unwrap().two_factor_setup_required, "the dashboard can read who is signed in");
    assert!(bo.two_factor_status().await.unwrap().required);

    let (secret, _) = enrol(&bo, &clock).await;
    assert!(!bo.me().await.unwrap().two_factor_setup_required);
    bo.conversations(&Default::default()).await.expect("enrolled: the same session now works");
    clock.advance(30_000);
    assert_refused(bo.disable_two_factor(&code(&secret, clock.now())).await, StatusCode::CONFLICT, ErrorCode::TwoFactorRequired);
    // The next sign-in asks for a code.
    let (_, _challenge) = challenge(&app, "bo@acme.example", AGENT_PASSWORD).await;
}

fn new_agent_body(email: &str) -> switchboard_testkit::proto::CreateAgent {
    switchboard_testkit::proto::CreateAgent {
        email: email.into(),
        name: "Bo".into(),
        role: Role::Agent,
        password: AGENT_PASSWORD.into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    }
}

/// Signs in with a browser's user agent; the cookie pair.
async fn browser_session(app: &TestApp, email: &str, user_agent: &str) -> String {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/sessions"))
        .header("user-agent", user_agent)
        .json(&serde_json::json!({"email": email, "password": AGENT_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|v| v.starts_with("sb_session="));
    cookie.expect("a session cookie").split(';').next().unwrap().to_owned()
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

#[tokio::test]
async fn an_agent_sees_where_they_are_signed_in_and_a_revoked_session_closes_its_socket() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (ana, laptop) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let phone_cookie = browser_session(&app, "ana@acme.example", IPHONE).await;
    let mut phone_socket = agent_socket_with_cookie(&app, &phone_cookie).await;

    let sessions = laptop.my_sessions().await.unwrap();
    assert_eq!(sessions.len(), 2);
    let (current, phone): (Vec<_>, Vec<_>) = sessions.into_iter().partition(|s| s.current);
    let (current, phone) = (&current[0], &phone[0]);
    assert_eq!((phone.browser.as_deref(), phone.os.as_deref(), phone.device.as_deref()), (Some("Safari"), Some("iOS"), Some("mobile")));
    assert_eq!(phone.ip.as_deref(), Some("127.0.0.1"));
    assert!(phone.created_at >= current.created_at && phone.last_used_at >= phone.created_at && phone.expires_at > phone.created_at);

    laptop.end_my_session(phone.id).await.unwrap();
    let code = expect_frame!(phone_socket, AgentOut::Error { code, .. } => code).expect("told why");
    assert_eq!(code, ErrorCode::Unauthenticated);
    assert!(phone_socket.next().await.is_err(), "the socket closes at once");
    let res = reqwest::Client::new().get(app.url("/api/v1/me")).header("cookie", &phone_cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_refused(laptop.end_my_session(phone.id).await, StatusCode::NOT_FOUND, ErrorCode::SessionNotFound);
    assert_eq!(laptop.my_sessions().await.unwrap().len(), 1);

    // Admins see and end another agent's sessions; agents do not, nor admins an owner's.
    let (bo, bo_api) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let (_, admin) = new_agent(&app, &owner, "root@acme.example", Role::Admin).await;
    assert_refused(bo_api.agent_sessions(ana.id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(admin.agent_sessions(seed.owner.id.0).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    let bo_sessions = admin.agent_sessions(bo.id).await.unwrap();
    assert_eq!(bo_sessions.len(), 1);
    assert!(!bo_sessions[0].current, "the admin's own session is not bo's");
    admin.end_agent_session(bo.id, bo_sessions[0].id).await.unwrap();
    assert_refused(bo_api.me().await, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);

    // Another workspace's owner knows no such agent.
    let other = app.seed("globex").await;
    let stranger = app.owner(&other).await;
    assert_refused(stranger.agent_sessions(ana.id).await, StatusCode::NOT_FOUND, ErrorCode::AgentNotFound);
    assert_refused(stranger.end_agent_session(ana.id, current.id).await, StatusCode::NOT_FOUND, ErrorCode::AgentNotFound);
    laptop.me().await.expect("ana's own session is untouched");
}

#[tokio::test]
async fn api_tokens_expire_and_record_their_last_use_once_a_minute() {
    let (app, clock) = clocked().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let past = CreateApiToken { name: "old".into(), role: Some(Role::Agent), expires_at: Some(T0 - 1) };
    assert_invalid(owner.create_api_token(&past).await, "expires_at");
    let hour = CreateApiToken { name: "crm".into(), role: Some(Role::Agent), expires_at: Some(T0 + 3_600_000) };
    let created = owner.create_api_token(&hour).await.unwrap();
    assert_eq!((created.token.expires_at, created.token.last_used_at), (Some(T0 + 3_600_000), None));
    let crm = Api::with_token(app.url(""), &created.secret);
    let last_used = || async { owner.api_tokens().await.unwrap().into_iter().find(|t| t.id == created.token.id).unwrap().last_used_at };

    crm.conversations(&Default::default()).await.unwrap();
    assert_eq!(last_used().await, Some(T0));
    clock.advance(30_000);
    crm.conversations(&Default::default()).await.unwrap();
    assert_eq!(last_used().await, Some(T0), "within the minute nothing is written");
    clock.advance(31_000);
    crm.conversations(&Default::default()).await.unwrap();
    assert_eq!(last_used().await, Some(T0 + 61_000));

    clock.set(Timestamp(T0 + 3_600_000));
    assert_refused(crm.conversations(&Default::default()).await, StatusCode::UNAUTHORIZED, ErrorCode::TokenExpired);
    let socket = switchboard_testkit::AgentSocket::open(&app.url(""), &created.secret, None).await;
    assert!(socket.is_err(), "nor may it open a socket");
}

fn actions(entries: &[AuditEntry]) -> Vec<AuditAction> {
    entries.iter().map(|e| e.action).collect()
}

async fn everything(api: &Api, filter: AuditFilter) -> Vec<AuditEntry> {
    api.audit(&AuditFilter { limit: Some(200), ..filter }).await.expect("the audit log").entries
}

#[tokio::test]
async fn owners_read_an_audit_log_of_administrative_acts_and_reads_and_export_it() {
    let (app, clock) = clocked().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let owner_id = seed.owner.id.0;

    clock.advance(1);
    let (ana, ana_api) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    clock.advance(1);
    owner.update_agent(ana.id, &UpdateAgent { role: Some(Role::Admin), ..Default::default() }).await.unwrap();
    clock.advance(1);
    owner.reset_agent_password(ana.id, "a brand new password").await.unwrap();
    clock.advance(1);
    owner.update_agent(ana.id, &UpdateAgent { active: Some(false), ..Default::default() }).await.unwrap();
    clock.advance(1);
    let team = owner.create_team(&TeamRequest { name: Some("Sales".into()), ..TeamRequest::default() }).await.unwrap();
    clock.advance(1);
    owner.update_team(team.id, &TeamRequest { name: Some("Sales EU".into()), ..TeamRequest::default() }).await.unwrap();
    clock.advance(1);
    owner.delete_team(team.id).await.unwrap();
    clock.advance(1);
    let site = owner.create_site(&SiteRequest { name: Some("Shop".into()), ..Default::default() }).await.unwrap();
    clock.advance(1);
    owner.update_site(site.id, &SiteRequest { name: Some("Shop 2".into()), ..Default::default() }).await.unwrap();
    clock.advance(1);
    owner.delete_site(site.id).await.unwrap();
    clock.advance(1);
    owner.update_workspace(&UpdateWorkspace { name: Some("Acme Ltd".into()), ..Default::default() }).await.unwrap();
    clock.advance(1);
    owner.update_workspace(&UpdateWorkspace { require_two_factor: Some(true), ..Default::default() }).await.unwrap();
    clock.advance(1);
    owner.update_workspace(&UpdateWorkspace { require_two_factor: Some(false), ..Default::default() }).await.unwrap();
    clock.advance(1);
    let token = owner.create_api_token(&CreateApiToken { name: "crm".into(), role: Some(Role::Agent), expires_at: None }).await.unwrap();
    clock.advance(1);
    app.core.reset_password(&seed.owner.email, "reset by the command line").await.unwrap();
    // The reset signed the owner out everywhere.
    assert_refused(owner.me().await, StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);
    let owner = app.login(seed.owner.email.as_str(), "reset by the command line").await;

    let log = everything(&owner, AuditFilter::default()).await;
    use AuditAction as A;
    let expected = [
        A::PasswordReset,
        A::TokenCreated,
        A::TwoFactorNotRequired,
        A::TwoFactorRequired,
        A::WorkspaceChanged,
        A::SiteDeleted,
        A::SiteChanged,
        A::SiteCreated,
        A::TeamDeleted,
        A::TeamChanged,
        A::TeamCreated,
        A::AgentDeactivated,
        A::PasswordReset,
        A::AgentRoleChanged,
        A::AgentInvited,
        A::SiteCreated, // the seed's site
    ];
    assert_eq!(actions(&log), expected, "newest first");
    assert_eq!(log[0].actor.kind, ActorKind::System, "the command line acts as the system");
    assert!(log[1..].iter().all(|e| e.actor.id == Some(owner_id)));
    let role = log.iter().find(|e| e.action == A::AgentRoleChanged).unwrap();
    assert_eq!((role.target_kind, role.target_id, role.detail.as_deref()), (Some(AuditTargetKind::Agent), Some(ana.id), Some("admin")));
    assert_eq!(log[1].target_id, Some(token.token.id));
    drop(ana_api);

    // Reads.
    clock.advance(1);
    let (_visitor, conversation) = visitor_with_conversation(&app, &seed, "c1", "Hello").await;
    let contact = owner.conversation(conversation).await.unwrap().contact_id;
    owner.conversation(conversation).await.unwrap();
    owner.history(conversation, &Default::default()).await.unwrap();
    owner.contact(contact).await.unwrap();
    let crm = Api::with_token(app.url(""), &token.secret);
    crm.conversation(conversation).await.unwrap();
    let reads = |log: &[AuditEntry]| log.iter().filter(|e| matches!(e.action, A::ConversationRead | A::ContactRead)).count();
    let log = everything(&owner, AuditFilter::default()).await;
    assert_eq!(reads(&log), 3, "one per reader and target: the owner's conversation and contact, the token's conversation");
    let by_token =
        everything(&owner, AuditFilter { actor_kind: Some(ActorKind::Integration), actor_id: Some(token.token.id), ..Default::default() })
            .await;
    assert_eq!(actions(&by_token), [A::ConversationRead]);
    clock.advance(10 * 60_000);
    owner.conversation(conversation).await.unwrap();
    owner.conversation(conversation).await.unwrap();
    let about = AuditFilter { target_kind: Some(AuditTargetKind::Conversation), target_id: Some(conversation), ..Default::default() };
    assert_eq!(everything(&owner, about).await.len(), 3, "ten minutes later the read counts again");

    // Filters and pages.
    let sites = everything(&owner, AuditFilter { action: Some(A::SiteCreated), ..Default::default() }).await;
    assert_eq!(sites.len(), 2);
    let at = |action| log.iter().find(|e| e.action == action).unwrap().at;
    let window = AuditFilter { from: Some(at(A::TeamCreated)), to: Some(at(A::SiteDeleted) + 1), ..Default::default() };
    let expected = [A::SiteDeleted, A::SiteChanged, A::SiteCreated, A::TeamDeleted, A::TeamChanged, A::TeamCreated];
    assert_eq!(actions(&everything(&owner, window).await), expected, "from is inclusive, to exclusive");
    let all = everything(&owner, AuditFilter::default()).await;
    let (mut paged, mut before) = (vec![], None);
    loop {
        let page = owner.audit(&AuditFilter { limit: Some(4), before: before.clone(), ..Default::default() }).await.unwrap();
        paged.extend(page.entries.into_iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all.iter().map(|e| e.id).collect::<Vec<_>>(), "every entry once, in order");
    assert_invalid(owner.audit(&AuditFilter { actor_id: Some(Uuid::new_v4()), ..Default::default() }).await, "actor_id");
    assert_invalid(owner.audit(&AuditFilter { before: Some("nonsense".into()), ..Default::default() }).await, "before");

    // CSV: the same entries, a header row, one line each.
    let (content_type, csv) = owner.audit_csv(&AuditFilter::default()).await.unwrap();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "at,actor_kind,actor_id,action,target_kind,target_id,detail");
    assert_eq!(lines.len(), all.len() + 1);
    assert!(lines[1].ends_with(&format!(",agent,{owner_id},conversation_read,conversation,{conversation},")), "{}", lines[1]);
    let (_, only_sites) = owner.audit_csv(&AuditFilter { action: Some(A::SiteCreated), ..Default::default() }).await.unwrap();
    assert_eq!(only_sites.split("\r\n").filter(|l| !l.is_empty()).count(), 3);

    // Owners only: an admin, an agent, an admin-role token and another workspace get nothing.
    let (_, admin) = new_agent(&app, &owner, "root@acme.example", Role::Admin).await;
    let (_, agent) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let admin_token =
        owner.create_api_token(&CreateApiToken { name: "ops".into(), role: Some(Role::Admin), expires_at: None }).await.unwrap();
    let ops = Api::with_token(app.url(""), &admin_token.secret);
    for who in [&admin, &agent, &ops] {
        assert_refused(who.audit(&AuditFilter::default()).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
        assert_refused(who.audit_csv(&AuditFilter::default()).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    }
    let other = app.seed("globex").await;
    let stranger = app.owner(&other).await;
    let theirs = everything(&stranger, AuditFilter::default()).await;
    assert_eq!(actions(&theirs), [A::SiteCreated], "another workspace sees only its own");
}

/// A copy of the database does not give away anyone's second factor: the secret is
/// stored sealed with a server key (and bound to its agent), and a secret stored in the
/// clear before sealing existed still signs its agent in.
#[tokio::test]
async fn a_second_factor_secret_is_stored_sealed_and_one_stored_before_still_works() {
    let (app, clock) = clocked().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (ana, ana_api) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let (secret, _) = enrol(&ana_api, &clock).await;

    let ws = seed.workspace.id;
    let stored = app.core.store.two_factor(ws, switchboard_domain::AgentId(ana.id)).await.unwrap().expect("a second factor");
    assert!(!stored.secret.contains(&secret), "the secret is not in the row: {}", stored.secret);
    assert!(stored.secret.starts_with("sealed1:"), "{}", stored.secret);
    clock.advance(30_000);
    let (mut phone, c) = challenge(&app, "ana@acme.example", AGENT_PASSWORD).await;
    phone.login_two_factor(&c, &code(&secret, clock.now())).await.expect("the sealed secret checks codes");

    // Bo enrolled before secrets were sealed: his row holds the secret as it is.
    let (bo, _) = new_agent(&app, &owner, "bo@acme.example", Role::Agent).await;
    let plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let before = switchboard_store::TwoFactor { secret: plain.into(), enabled_at: Some(clock.now()), last_step: 0 };
    app.core.store.set_two_factor(ws, switchboard_domain::AgentId(bo.id), Some(&before), &[]).await.unwrap();
    let (mut laptop, c) = challenge(&app, "bo@acme.example", AGENT_PASSWORD).await;
    assert_refused(laptop.login_two_factor(&c, "000000").await, StatusCode::UNAUTHORIZED, ErrorCode::TwoFactorCodeInvalid);
    let me = laptop.login_two_factor(&c, &code(plain, clock.now())).await.expect("an unsealed secret from before still works");
    assert_eq!(me.agent.id, bo.id);
}

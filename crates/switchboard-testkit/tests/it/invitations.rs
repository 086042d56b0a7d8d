//! Inviting agents by e-mail, as an admin and the person invited meet it: the admin
//! invites over REST, the server mails the link from its job table to a real SMTP
//! server (aiosmtpd, started per story), the invitee follows the link, chooses a
//! password and is signed in. Links work once, die when revoked, replaced or expired
//! (the clock is moved, never slept on), and a mail server that refuses is retried
//! without losing the mail.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use switchboard_core::{JobKind, JobOutcome, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::mail::ReceivedMail;
use switchboard_testkit::proto::{
    AcceptInvitation, AuditAction, CreatedAgentInvitation, ErrorCode, InvitationMailState, InviteAgent, Role, TeamRequest, UpdateWorkspace,
};
use switchboard_testkit::services::EphemeralSmtp;
use switchboard_testkit::{Api, AuditFilter, ClientError, TestApp};
use uuid::Uuid;

use crate::support::{AGENT_PASSWORD, assert_refused, new_agent};

const T0: i64 = 1_800_000_000_000;
const SEVEN_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;

fn invite(email: &str, role: Role) -> InviteAgent {
    InviteAgent { email: email.into(), name: None, role, team_ids: vec![], max_chats: None, locale: None }
}

/// The token of a link `…/app/invite/{token}`.
fn token(link: &str) -> &str {
    link.rsplit_once("/app/invite/").expect("an invitation link").1
}

fn accept(name: &str) -> AcceptInvitation {
    AcceptInvitation { name: name.into(), password: "a long new password".into(), locale: None }
}

/// Asserts an error that names the `email` field.
#[track_caller]
fn assert_email_conflict<T: std::fmt::Debug>(got: Result<T, ClientError>, code: ErrorCode) {
    let Err(ClientError::Api { status: 409, body }) = got else { panic!("expected 409 {code}, got {got:?}") };
    assert_eq!(body.code, code, "{body:?}");
    assert_eq!(body.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["email"], "{body:?}");
}

#[tokio::test]
async fn an_admin_invites_by_mail_and_the_invitee_signs_in_from_the_link_once() {
    let smtp = EphemeralSmtp::start().await.expect("an SMTP server");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let app = TestApp::spawn_with_mail(smtp.port(), clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let support = owner.create_team(&TeamRequest { name: Some("Support".into()), ..Default::default() }).await.unwrap();

    let asked = InviteAgent {
        email: "dilan@newhire.example".into(),
        name: Some("Dilan".into()),
        role: Role::Agent,
        team_ids: vec![support.id],
        max_chats: Some(3),
        locale: Some("en".into()),
    };
    let made = owner.invite_agent(&asked).await.unwrap();
    assert!(made.link.starts_with(&app.url("/app/invite/")), "{}", made.link);
    assert_eq!(token(&made.link).len(), 43, "256 random bits, base64url");
    assert_eq!(made.invitation.mail, InvitationMailState::Queued);
    assert_eq!(made.invitation.expires_at, T0 + SEVEN_DAYS_MS);
    let listed = owner.agent_invitations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].inviter_name.as_deref(), listed[0].mail), (Some(seed.owner.name.as_str()), InvitationMailState::Queued));
    assert!(smtp.messages().unwrap().is_empty(), "nothing is sent in the request");

    let ran = app.run_pending_jobs().await;
    assert!(
        matches!(ran.as_slice(), [r] if matches!(r.kind, Some(JobKind::SendInvitation { .. })) && r.outcome == JobOutcome::Done),
        "{ran:?}"
    );
    let raw = smtp.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    let mail = ReceivedMail::parse(&raw[0]);
    assert!(mail.header("To").is_some_and(|to| to.contains("dilan@newhire.example")), "{:?}", mail.headers);
    assert_eq!(mail.header("Subject"), Some("acme owner invited you to acme on Switchboard"));
    assert_eq!(mail.header("Content-Language"), Some("en"));
    assert!(mail.text.starts_with("Hello Dilan,"), "{}", mail.text);
    assert!(mail.text.contains(&made.link) && mail.html.contains(&format!("href=\"{}\"", made.link)), "both parts carry the link");
    assert!(mail.html.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(mail.text.contains("7 days"), "the expiry is told: {}", mail.text);
    assert_eq!(owner.agent_invitations().await.unwrap()[0].mail, InvitationMailState::Sent);

    // The invitee follows the link: what the page shows, then a password.
    let mut invitee = Api::new(app.url(""));
    let preview = invitee.invitation(token(&made.link)).await.unwrap();
    assert_eq!(
        (
            preview.workspace_name.as_str(),
            preview.email.as_str(),
            preview.role,
            preview.inviter_name.as_deref(),
            preview.two_factor_required
        ),
        ("acme", "dilan@newhire.example", Role::Agent, Some(seed.owner.name.as_str()), false)
    );
    let me = invitee.accept_invitation(token(&made.link), &accept("Dilan Yıldız")).await.unwrap();
    assert_eq!((me.agent.email.as_str(), me.agent.name.as_str(), me.agent.role), ("dilan@newhire.example", "Dilan Yıldız", Role::Agent));
    assert_eq!(me.agent.max_chats, Some(3));
    assert!(!me.two_factor_setup_required);
    assert_eq!(invitee.me().await.unwrap().agent.id, me.agent.id, "the cookie is a session");
    assert_eq!(owner.team(support.id).await.unwrap().agent_ids, [me.agent.id], "joined the invitation's team");
    app.login("dilan@newhire.example", "a long new password").await;

    let mut again = Api::new(app.url(""));
    assert_refused(again.accept_invitation(token(&made.link), &accept("Someone")).await, StatusCode::GONE, ErrorCode::InvitationUsed);
    assert_refused(again.invitation(token(&made.link)).await, StatusCode::GONE, ErrorCode::InvitationUsed);
    assert!(owner.agent_invitations().await.unwrap().is_empty(), "an accepted invitation is no longer pending");
    let audit = owner.audit(&AuditFilter { action: Some(AuditAction::InvitationAccepted), ..Default::default() }).await.unwrap();
    assert_eq!(audit.entries.len(), 1);
}

#[tokio::test]
async fn revoked_replaced_and_expired_links_are_refused_and_a_resend_revives_an_expired_one() {
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let anyone = Api::new(app.url(""));

    // Without [mail], nothing is queued: the link in the answer is the only way.
    let revoked = owner.invite_agent(&invite("rev@newhire.example", Role::Agent)).await.unwrap();
    assert_eq!(revoked.invitation.mail, InvitationMailState::NotSent);
    assert!(app.run_pending_jobs().await.is_empty());
    owner.revoke_agent_invitation(revoked.invitation.id).await.unwrap();
    assert_refused(anyone.invitation(token(&revoked.link)).await, StatusCode::NOT_FOUND, ErrorCode::InvitationInvalid);
    assert_refused(
        anyone.clone().accept_invitation(token(&revoked.link), &accept("Rev")).await,
        StatusCode::NOT_FOUND,
        ErrorCode::InvitationInvalid,
    );
    assert_refused(owner.revoke_agent_invitation(revoked.invitation.id).await, StatusCode::NOT_FOUND, ErrorCode::AgentInvitationNotFound);
    assert_refused(anyone.invitation("not-a-token").await, StatusCode::NOT_FOUND, ErrorCode::InvitationInvalid);

    let first = owner.invite_agent(&invite("re@newhire.example", Role::Admin)).await.unwrap();
    let second = owner.resend_agent_invitation(first.invitation.id).await.unwrap();
    assert_ne!(first.link, second.link);
    assert_refused(anyone.invitation(token(&first.link)).await, StatusCode::NOT_FOUND, ErrorCode::InvitationInvalid);
    assert_eq!(anyone.invitation(token(&second.link)).await.unwrap().role, Role::Admin);

    let late = owner.invite_agent(&invite("late@newhire.example", Role::Agent)).await.unwrap();
    clock.advance(SEVEN_DAYS_MS);
    assert_refused(anyone.invitation(token(&late.link)).await, StatusCode::GONE, ErrorCode::InvitationExpired);
    assert_refused(
        anyone.clone().accept_invitation(token(&late.link), &accept("Late")).await,
        StatusCode::GONE,
        ErrorCode::InvitationExpired,
    );
    let listed = owner.agent_invitations().await.unwrap();
    assert!(listed.iter().any(|i| i.id == late.invitation.id && i.expires_at <= clock_now(&clock)), "an expired one is listed, to resend");
    let revived = owner.resend_agent_invitation(late.invitation.id).await.unwrap();
    assert_eq!(revived.invitation.expires_at, T0 + 2 * SEVEN_DAYS_MS);
    let mut late_comer = Api::new(app.url(""));
    late_comer.accept_invitation(token(&revived.link), &accept("Late")).await.unwrap();
    // An expired invitation also gives way to a fresh one for the same address (the
    // owner signs in again: fourteen days have passed, and so has their session).
    clock.advance(SEVEN_DAYS_MS);
    let owner = app.owner(&seed).await;
    assert_email_conflict(owner.invite_agent(&invite("late@newhire.example", Role::Agent)).await, ErrorCode::EmailTaken);
    let fresh = owner.invite_agent(&invite("re@newhire.example", Role::Agent)).await.unwrap();
    assert_eq!(owner.agent_invitations().await.unwrap().iter().map(|i| i.id).collect::<Vec<_>>(), [fresh.invitation.id]);
}

fn clock_now(clock: &ManualClock) -> i64 {
    use switchboard_core::Clock;
    clock.now().0
}

#[tokio::test]
async fn only_admins_invite_only_owners_invite_owners_and_an_address_is_invited_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let (_, admin) = new_agent(&app, &owner, "adam@acme.example", Role::Admin).await;

    assert_refused(agent.invite_agent(&invite("x@newhire.example", Role::Agent)).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.agent_invitations().await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(admin.invite_agent(&invite("boss@newhire.example", Role::Owner)).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    let boss = owner.invite_agent(&invite("boss@newhire.example", Role::Owner)).await.unwrap();
    assert_refused(admin.revoke_agent_invitation(boss.invitation.id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(admin.resend_agent_invitation(boss.invitation.id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.revoke_agent_invitation(boss.invitation.id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);

    let made: CreatedAgentInvitation = admin.invite_agent(&invite("new@newhire.example", Role::Agent)).await.unwrap();
    assert_email_conflict(admin.invite_agent(&invite("new@newhire.example", Role::Admin)).await, ErrorCode::InvitationPending);
    assert_email_conflict(admin.invite_agent(&invite("ana@acme.example", Role::Agent)).await, ErrorCode::EmailTaken);
    let bad_team = InviteAgent { team_ids: vec![Uuid::now_v7()], ..invite("t@newhire.example", Role::Agent) };
    crate::support::assert_invalid(admin.invite_agent(&bad_team).await, "team_ids");
    let bad_locale = InviteAgent { locale: Some("de".into()), ..invite("l@newhire.example", Role::Agent) };
    crate::support::assert_invalid(admin.invite_agent(&bad_locale).await, "locale");
    crate::support::assert_invalid(admin.invite_agent(&invite("not an address", Role::Agent)).await, "email");

    // The address signs in meanwhile (an admin created the agent by hand): the link is refused.
    new_agent(&app, &owner, "new@newhire.example", Role::Agent).await;
    let mut late = Api::new(app.url(""));
    assert_email_conflict(late.accept_invitation(token(&made.link), &accept("New")).await, ErrorCode::EmailTaken);
    assert_email_conflict(admin.resend_agent_invitation(made.invitation.id).await, ErrorCode::EmailTaken);
    // A short password is refused before the invitation is used.
    let other = admin.invite_agent(&invite("p@newhire.example", Role::Agent)).await.unwrap();
    let short = AcceptInvitation { password: "short".into(), ..accept("P") };
    crate::support::assert_invalid(late.accept_invitation(token(&other.link), &short).await, "password");
    late.accept_invitation(token(&other.link), &AcceptInvitation { password: AGENT_PASSWORD.into(), ..accept("P") }).await.unwrap();
}

#[tokio::test]
async fn a_workspace_that_requires_two_factor_signs_the_new_agent_in_to_set_it_up_first() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    owner.update_workspace(&UpdateWorkspace { require_two_factor: Some(true), ..Default::default() }).await.unwrap();
    let made = owner.invite_agent(&invite("sec@newhire.example", Role::Agent)).await.unwrap();
    let mut invitee = Api::new(app.url(""));
    assert!(invitee.invitation(token(&made.link)).await.unwrap().two_factor_required);
    let me = invitee.accept_invitation(token(&made.link), &accept("Sec")).await.unwrap();
    assert!(me.two_factor_setup_required, "as a first sign-in without a second factor");
    assert!(invitee.me().await.unwrap().two_factor_setup_required);
    assert_refused(invitee.agents().await, StatusCode::FORBIDDEN, ErrorCode::TwoFactorSetupRequired);
    invitee.begin_two_factor().await.expect("the session may set it up");
}

#[tokio::test]
async fn a_mail_server_that_refuses_is_retried_the_failure_shows_and_a_resend_mails_a_new_link() {
    let smtp = EphemeralSmtp::start().await.expect("an SMTP server");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let app = TestApp::spawn_with_mail(smtp.port(), clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;

    smtp.refuse(true).unwrap();
    let fa = InviteAgent { locale: Some("fa".into()), name: Some("دلارام".into()), ..invite("delaram@newhire.example", Role::Admin) };
    let made = owner.invite_agent(&fa).await.unwrap();
    let ran = app.run_pending_jobs().await;
    assert!(matches!(ran.as_slice(), [r] if matches!(&r.outcome, JobOutcome::Failed(e) if e.contains("451"))), "{ran:?}");
    let listed = owner.agent_invitations().await.unwrap();
    assert_eq!(listed[0].mail, InvitationMailState::Failed);
    let error = listed[0].mail_error.as_deref().unwrap_or_default();
    assert!(error.contains("451") && !error.contains("delaram@"), "the server's answer, without the address: {error}");
    assert!(app.run_pending_jobs().await.is_empty(), "the retry waits for its backoff");

    smtp.refuse(false).unwrap();
    clock.advance(10_000);
    let ran = app.run_pending_jobs().await;
    assert!(matches!(ran.as_slice(), [r] if r.outcome == JobOutcome::Done), "{ran:?}");
    let raw = smtp.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    let mail = ReceivedMail::parse(&raw[0]);
    assert!(
        mail.header("Subject").is_some_and(|s| s.contains("acme owner") && s.contains("دعوت")),
        "in Persian: {:?}",
        mail.header("Subject")
    );
    assert!(mail.html.contains(r#"<html lang="fa" dir="rtl">"#));
    assert!(mail.text.contains("سلام دلارام") && mail.text.contains(&made.link), "{}", mail.text);
    assert_eq!(owner.agent_invitations().await.unwrap()[0].mail, InvitationMailState::Sent);

    let resent = owner.resend_agent_invitation(made.invitation.id).await.unwrap();
    assert_eq!(resent.invitation.mail, InvitationMailState::Queued);
    app.run_pending_jobs().await;
    let raw = smtp.wait_for_messages(2, Duration::from_secs(10)).await.unwrap();
    assert_eq!(raw.len(), 2, "one mail per link, none lost or doubled");
    let second = ReceivedMail::parse(&raw[1]);
    assert!(second.text.contains(&resent.link) && !second.text.contains(&made.link));
    assert_refused(Api::new(app.url("")).invitation(token(&made.link)).await, StatusCode::NOT_FOUND, ErrorCode::InvitationInvalid);
    Api::new(app.url("")).accept_invitation(token(&resent.link), &accept("دلارام")).await.unwrap();
}

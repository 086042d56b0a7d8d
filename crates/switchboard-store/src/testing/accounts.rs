//! Contract cases for account security (issue 17): sessions listed and ended one by
//! one, API tokens' cheap use record and expiry, second factors with their recovery
//! codes, and the audit log with its coalesced reads.

use std::sync::Arc;

use switchboard_domain::*;

use super::{agent, fixture};
use crate::*;

fn session(f: &super::Fixture, hash: &str, created: i64) -> Session {
    Session {
        id: SessionId::new(),
        token_hash: hash.into(),
        agent_id: f.agent.id,
        workspace_id: f.ws.id,
        csrf_token: "c".into(),
        created_at: Timestamp(created),
        expires_at: Timestamp(10_000),
        last_used_at: Timestamp(created),
        user_agent: Some(format!("agent {hash}")),
        ip: Some("198.51.100.7".into()),
        must_enrol: false,
    }
}

pub async fn an_agent_lists_and_ends_their_sessions_one_by_one(store: Arc<dyn Store>) {
    let f = fixture(&*store, "s").await;
    let other = fixture(&*store, "o").await;
    let (laptop, phone) = (session(&f, "laptop", 100), session(&f, "phone", 200));
    let old = Session { expires_at: Timestamp(300), ..session(&f, "old", 50) };
    for s in [&laptop, &phone, &old] {
        store.create_session(s).await.unwrap();
    }
    let listed = store.agent_sessions(f.ws.id, f.agent.id, Timestamp(400)).await.unwrap();
    assert_eq!(listed, vec![phone.clone(), laptop.clone()], "newest first, expired ones left out");
    assert!(store.agent_sessions(other.ws.id, f.agent.id, Timestamp(400)).await.unwrap().is_empty(), "scoped to the workspace");

    store.touch_session(laptop.id, Timestamp(500)).await.unwrap();
    store.touch_session(laptop.id, Timestamp(450)).await.unwrap();
    assert_eq!(store.session("laptop", Timestamp(600)).await.unwrap().unwrap().last_used_at, Timestamp(500), "never moves back");

    let wrong = store.delete_session_by_id(other.ws.id, f.agent.id, phone.id).await;
    assert!(matches!(wrong, Err(StoreError::NotFound(Entity::Session))), "another workspace cannot end it");
    let wrong = store.delete_session_by_id(f.ws.id, other.agent.id, phone.id).await;
    assert!(matches!(wrong, Err(StoreError::NotFound(Entity::Session))), "nor another agent");
    store.delete_session_by_id(f.ws.id, f.agent.id, phone.id).await.unwrap();
    assert!(store.session("phone", Timestamp(600)).await.unwrap().is_none());
    assert!(store.session("laptop", Timestamp(600)).await.unwrap().is_some(), "the other session stays");
    assert!(matches!(store.delete_session_by_id(f.ws.id, f.agent.id, phone.id).await, Err(StoreError::NotFound(Entity::Session))));

    store.create_session(&phone).await.unwrap();
    let ended = store.delete_other_sessions(f.agent.id, "laptop").await.unwrap();
    let mut expected = vec![phone.id, old.id];
    expected.sort();
    let mut ended = ended;
    ended.sort();
    assert_eq!(ended, expected, "says which sessions ended (expired ones too)");
}

pub async fn a_token_records_its_use_at_most_once_a_minute_and_keeps_its_expiry(store: Arc<dyn Store>) {
    let f = fixture(&*store, "t").await;
    let token = ApiToken {
        id: ApiTokenId::new(),
        workspace_id: f.ws.id,
        name: "CRM".into(),
        role: Role::Agent,
        prefix: "sb_xyz".into(),
        created_at: Timestamp(0),
        last_used_at: None,
        expires_at: Some(Timestamp(500_000)),
    };
    store.create_api_token(&token, "h").await.unwrap();
    let last_used = |t: Option<ApiToken>| t.unwrap().last_used_at;
    assert_eq!(last_used(store.use_api_token("h", Timestamp(1_000)).await.unwrap()), Some(Timestamp(1_000)));
    store.use_api_token("h", Timestamp(30_000)).await.unwrap();
    let listed = store.api_tokens(f.ws.id).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(Timestamp(1_000)), "a use within the minute writes nothing");
    assert_eq!(listed[0].expires_at, Some(Timestamp(500_000)));
    store.use_api_token("h", Timestamp(61_000)).await.unwrap();
    assert_eq!(store.api_tokens(f.ws.id).await.unwrap()[0].last_used_at, Some(Timestamp(61_000)), "a minute later it is recorded");
    let expired = store.use_api_token("h", Timestamp(600_000)).await.unwrap().unwrap();
    assert_eq!(expired.expires_at, Some(Timestamp(500_000)), "an expired token is still found, so core can say it expired");
}

pub async fn a_second_factor_is_enrolled_replaced_and_removed_with_its_recovery_codes(store: Arc<dyn Store>) {
    let f = fixture(&*store, "f").await;
    let other = fixture(&*store, "g").await;
    assert_eq!(store.two_factor(f.ws.id, f.agent.id).await.unwrap(), None);
    let pending = TwoFactor { secret: "JBSWY3DPEHPK3PXP".into(), enabled_at: None, last_step: 0 };
    store.set_two_factor(f.ws.id, f.agent.id, Some(&pending), &[]).await.unwrap();
    assert_eq!(store.two_factor(f.ws.id, f.agent.id).await.unwrap(), Some(pending.clone()));
    assert_eq!(store.two_factor(other.ws.id, f.agent.id).await.unwrap(), None, "scoped to the workspace");
    let wrong = store.set_two_factor(other.ws.id, f.agent.id, Some(&pending), &[]).await;
    assert!(matches!(wrong, Err(StoreError::NotFound(Entity::Agent))), "another workspace cannot enrol the agent");

    let enrolling = Session { must_enrol: true, ..session(&f, "enrolling", 1) };
    store.create_session(&enrolling).await.unwrap();
    assert!(store.session("enrolling", Timestamp(2)).await.unwrap().unwrap().must_enrol);
    let enabled = TwoFactor { enabled_at: Some(Timestamp(7)), last_step: 42, ..pending };
    let codes: Vec<String> = (0..10).map(|i| format!("hash-{i}")).collect();
    store.set_two_factor(f.ws.id, f.agent.id, Some(&enabled), &codes).await.unwrap();
    assert_eq!(store.two_factor(f.ws.id, f.agent.id).await.unwrap(), Some(enabled.clone()));
    assert_eq!(store.recovery_codes_left(f.ws.id, f.agent.id).await.unwrap(), 10);
    assert!(!store.session("enrolling", Timestamp(2)).await.unwrap().unwrap().must_enrol, "enabling lifts the enrolment-only state");

    store.set_two_factor(f.ws.id, f.agent.id, Some(&enabled), &codes[..3]).await.unwrap();
    assert_eq!(store.recovery_codes_left(f.ws.id, f.agent.id).await.unwrap(), 3, "new codes replace the old");
    assert!(!store.use_recovery_code(f.ws.id, f.agent.id, "hash-5", Timestamp(8)).await.unwrap(), "an old code is gone");

    store.set_two_factor(f.ws.id, f.agent.id, None, &[]).await.unwrap();
    assert_eq!(store.two_factor(f.ws.id, f.agent.id).await.unwrap(), None);
    assert_eq!(store.recovery_codes_left(f.ws.id, f.agent.id).await.unwrap(), 0, "removing the factor removes its codes");
}

pub async fn a_totp_step_and_a_recovery_code_are_accepted_once(store: Arc<dyn Store>) {
    let f = fixture(&*store, "r").await;
    let tf = TwoFactor { secret: "JBSWY3DPEHPK3PXP".into(), enabled_at: Some(Timestamp(1)), last_step: 100 };
    store.set_two_factor(f.ws.id, f.agent.id, Some(&tf), &["a".into(), "b".into()]).await.unwrap();
    assert!(!store.use_totp_step(f.ws.id, f.agent.id, 100).await.unwrap(), "the step already used");
    assert!(!store.use_totp_step(f.ws.id, f.agent.id, 99).await.unwrap(), "an earlier step");
    assert!(store.use_totp_step(f.ws.id, f.agent.id, 101).await.unwrap());
    assert!(!store.use_totp_step(f.ws.id, f.agent.id, 101).await.unwrap(), "a replay of the same step");
    assert_eq!(store.two_factor(f.ws.id, f.agent.id).await.unwrap().unwrap().last_step, 101);

    assert!(store.use_recovery_code(f.ws.id, f.agent.id, "a", Timestamp(5)).await.unwrap());
    assert!(!store.use_recovery_code(f.ws.id, f.agent.id, "a", Timestamp(6)).await.unwrap(), "spent");
    assert!(!store.use_recovery_code(f.ws.id, f.agent.id, "zzz", Timestamp(6)).await.unwrap(), "unknown");
    assert_eq!(store.recovery_codes_left(f.ws.id, f.agent.id).await.unwrap(), 1);
    let other = agent(f.ws.id, "other@r.example");
    store.create_agent(&other, "h").await.unwrap();
    assert!(!store.use_recovery_code(f.ws.id, other.id, "b", Timestamp(6)).await.unwrap(), "another agent's code");
}

pub async fn a_workspace_can_require_two_factor(store: Arc<dyn Store>) {
    let f = fixture(&*store, "w").await;
    assert!(!store.workspace(f.ws.id).await.unwrap().require_two_factor);
    store.update_workspace(&Workspace { require_two_factor: true, ..f.ws.clone() }).await.unwrap();
    assert!(store.workspace(f.ws.id).await.unwrap().require_two_factor);
}

fn entry(ws: WorkspaceId, at: i64, actor: Actor, action: AuditAction, target: Option<AuditTarget>) -> AuditEntry {
    AuditEntry { id: AuditEntryId::new(), workspace_id: ws, at: Timestamp(at), actor, action, target, detail: None }
}

pub async fn audit_entries_filter_and_page_newest_first(store: Arc<dyn Store>) {
    let f = fixture(&*store, "a").await;
    let other = fixture(&*store, "b").await;
    let ana = Actor::Agent(f.agent.id);
    let bot = Actor::Integration(ApiTokenId::new());
    let team = AuditTarget::new(AuditTargetKind::Team, TeamId::new());
    let mut written = vec![
        entry(f.ws.id, 10, ana, AuditAction::TeamCreated, Some(team)),
        entry(f.ws.id, 20, bot, AuditAction::TokenCreated, None),
        entry(f.ws.id, 20, ana, AuditAction::TeamChanged, Some(team)),
        entry(f.ws.id, 30, Actor::System, AuditAction::PasswordReset, Some(AuditTarget::new(AuditTargetKind::Agent, f.agent.id))),
        AuditEntry { detail: Some("admin".into()), ..entry(f.ws.id, 40, ana, AuditAction::AgentRoleChanged, None) },
    ];
    for e in &written {
        store.record_audit(e).await.unwrap();
    }
    store.record_audit(&entry(other.ws.id, 15, ana, AuditAction::TeamCreated, Some(team))).await.unwrap();
    written.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));

    let page = |filter: AuditFilter| {
        let store = store.clone();
        async move { store.audit_log(f.ws.id, &filter).await.unwrap() }
    };
    assert_eq!(page(AuditFilter { limit: 100, ..Default::default() }).await, written, "newest first, this workspace's only");

    // Paging by cursor visits every entry once, ties on `at` included.
    let mut seen = vec![];
    let mut before = None;
    loop {
        let got = page(AuditFilter { limit: 2, before, ..Default::default() }).await;
        let Some(last) = got.last() else { break };
        before = Some(AuditCursor { at: last.at, id: last.id });
        seen.extend(got);
    }
    assert_eq!(seen, written);

    let ids = |v: Vec<AuditEntry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let by = |pred: &dyn Fn(&AuditEntry) -> bool| written.iter().filter(|e| pred(e)).map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(page(AuditFilter { actor: Some(ana), limit: 100, ..Default::default() }).await), by(&|e| e.actor == ana));
    assert_eq!(
        ids(page(AuditFilter { actor: Some(Actor::System), limit: 100, ..Default::default() }).await),
        by(&|e| e.actor == Actor::System)
    );
    let action = AuditAction::TeamChanged;
    assert_eq!(ids(page(AuditFilter { action: Some(action), limit: 100, ..Default::default() }).await), by(&|e| e.action == action));
    assert_eq!(ids(page(AuditFilter { target: Some(team), limit: 100, ..Default::default() }).await), by(&|e| e.target == Some(team)));
    let window = AuditFilter { from: Some(Timestamp(20)), to: Some(Timestamp(40)), limit: 100, ..Default::default() };
    assert_eq!(ids(page(window).await), by(&|e| (20..40).contains(&e.at.0)), "from is inclusive, to exclusive");
}

pub async fn repeated_reads_within_the_window_make_one_entry(store: Arc<dyn Store>) {
    let f = fixture(&*store, "c").await;
    let ana = Actor::Agent(f.agent.id);
    let bot = Actor::Integration(ApiTokenId::new());
    let chat = AuditTarget::new(AuditTargetKind::Conversation, ConversationId::new());
    let other_chat = AuditTarget::new(AuditTargetKind::Conversation, ConversationId::new());
    let read = |at: i64, actor, target| entry(f.ws.id, at, actor, AuditAction::ConversationRead, Some(target));
    let since = |at: i64| Timestamp(at - READ_COALESCE_MS + 1);
    assert!(store.record_read(&read(1_000_000, ana, chat), since(1_000_000)).await.unwrap());
    assert!(!store.record_read(&read(1_000_500, ana, chat), since(1_000_500)).await.unwrap(), "the same reader, soon after");
    assert!(store.record_read(&read(1_000_500, bot, chat), since(1_000_500)).await.unwrap(), "another reader");
    assert!(store.record_read(&read(1_000_500, ana, other_chat), since(1_000_500)).await.unwrap(), "another conversation");
    let later = 1_000_000 + READ_COALESCE_MS;
    assert!(store.record_read(&read(later, ana, chat), since(later)).await.unwrap(), "after the window");
    let all = store.audit_log(f.ws.id, &AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.len(), 4);
}

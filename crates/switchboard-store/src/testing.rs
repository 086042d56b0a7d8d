//! The contract suite: what every [`Store`] backend must do, run on SQLite and on
//! PostgreSQL. Each case takes a fresh, empty, migrated store.
//!
//! Backends instantiate it with [`store_contract!`](crate::store_contract).

use std::sync::Arc;

use switchboard_domain::*;

use crate::*;

mod accounts;
mod background;
mod bans;
mod dashboard;
mod inboxes;
mod invitations;
mod live;
mod privacy;
mod proactive;
mod routing;
mod widget;
pub use accounts::*;
pub use background::*;
pub use bans::*;
pub use dashboard::*;
pub use inboxes::*;
pub use invitations::*;
pub use live::*;
pub use privacy::*;
pub use proactive::*;
pub use routing::*;
pub use widget::*;

/// Expands to one `#[tokio::test]` per contract case. `$make` is an async expression
/// yielding `Arc<dyn Store>` (a fresh database each time).
#[macro_export]
macro_rules! store_contract {
    ($make:expr) => {
        $crate::store_contract!(@cases $make;
            workspaces_agents_and_login,
            agent_emails_are_unique_across_the_install,
            sessions_expire_and_can_be_revoked,
            api_tokens_are_found_by_hash_and_record_use,
            teams_keep_their_members,
            conversations_outlive_their_agent_and_team,
            sites_are_found_by_public_key_and_cannot_vanish_under_conversations,
            canned_shortcuts_are_unique_per_workspace,
            contacts_are_updated_found_by_external_id_and_searched,
            page_views_are_listed_newest_first,
            attachments_round_trip,
            a_conversation_log_assigns_gapless_sequences,
            message_retries_with_the_same_client_id_are_not_stored_twice,
            a_posted_message_is_stored_with_its_conversation_seq_and_time,
            starting_twice_with_the_same_first_message_creates_one_conversation,
            changes_to_unknown_conversations_are_rejected_without_side_effects,
            a_change_the_database_refuses_fails_alone,
            no_op_changes_append_nothing,
            a_visitor_reopening_a_resolved_conversation_is_recorded,
            visitors_do_not_replay_private_notes,
            history_pages_backwards,
            the_feed_orders_a_whole_workspace,
            concurrent_commits_never_skip_or_repeat_a_cursor,
            conversations_filter_and_paginate,
            every_read_is_scoped_to_its_workspace,
            message_search_folds_scripts,
            secrets_are_created_once,
            a_job_runs_when_due_and_is_gone_once_completed,
            the_job_queue_counts_due_leased_and_dead_jobs,
            due_jobs_are_claimed_earliest_first_up_to_the_limit,
            a_dedupe_key_keeps_one_pending_job,
            two_runners_never_claim_the_same_job,
            a_lost_lease_is_claimed_again_and_the_stale_runner_cannot_finish,
            failed_jobs_retry_with_backoff_then_stay_dead,
            consumer_cursors_start_at_zero_and_are_kept_per_workspace,
            every_site_is_a_website_inbox,
            a_workspace_keeps_its_time_zone,
            a_workspace_keeps_its_presence_and_visibility_settings,
            sites_and_teams_keep_their_business_hours,
            the_newest_event_of_a_kind_is_found_however_far_back,
            a_rating_is_kept_on_the_conversation_and_replaced_by_the_next,
            transcript_requests_are_stored_unsent_for_the_workspaces_conversation,
            contact_events_page_newest_first_within_their_workspace,
            unread_counts_team_messages_after_the_visitors_read_mark,
            agents_activity_only_moves_forward,
            an_agent_keeps_status_notifications_and_activity,
            changing_a_password_can_keep_the_current_session,
            personal_canned_responses_are_their_agents_own,
            managed_labels_are_unique_renamed_and_deleted,
            the_waiting_sort_pages_longest_waiting_first,
            unread_counts_the_contacts_messages_after_the_teams_read_mark,
            inbox_counts_are_per_view_and_per_workspace,
            a_restricted_scope_lists_and_counts_only_what_the_agent_may_see,
            ten_thousand_conversations_page_exactly_once_in_both_orders,
            an_agent_lists_and_ends_their_sessions_one_by_one,
            a_token_records_its_use_at_most_once_a_minute_and_keeps_its_expiry,
            a_second_factor_is_enrolled_replaced_and_removed_with_its_recovery_codes,
            a_totp_step_and_a_recovery_code_are_accepted_once,
            a_workspace_can_require_two_factor,
            audit_entries_filter_and_page_newest_first,
            repeated_reads_within_the_window_make_one_entry,
            retention_removes_what_its_preview_counts_and_keeps_open_recent_and_other_sites,
            erasing_a_contact_removes_their_words_files_and_traces_and_keeps_a_tombstone,
            blob_deletions_stay_queued_until_done,
            bans_of_every_kind_round_trip_newest_first_within_their_workspace,
            a_site_keeps_its_banned_behaviour_and_masking,
            routing_settings_are_kept,
            a_guarded_assignment_never_passes_capacity,
            a_claim_is_a_compare_and_set_on_unassigned,
            queues_serve_priority_then_waiting_time,
            a_site_keeps_its_tracking_mode_and_conversion_events,
            visits_are_written_in_batches_and_read_newest_first_with_their_pages,
            an_invitation_is_kept_and_answered_once,
            triggers_round_trip_update_and_delete_within_their_workspace,
            firings_are_counted_and_invitation_outcomes_count_once,
            conversions_are_credited_counted_and_paged_newest_first,
            a_contacts_firings_and_conversions_are_listed_for_the_export,
            points_are_given_once_per_key_and_kept_on_the_contact,
            pending_actions_merge_and_are_taken_once,
            an_invitation_is_pending_once_per_email_until_revoked_or_expired,
            a_resend_replaces_the_link_and_only_the_current_links_mail_is_recorded,
            accepting_makes_the_agent_a_member_of_the_teams_once,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let store: std::sync::Arc<dyn $crate::Store> = $make.await;
            $crate::testing::$case(store).await;
        }
    )*};
}

/// A workspace with one site and one contact, the starting point of most cases.
pub struct Fixture {
    pub ws: Workspace,
    pub site: Site,
    pub contact: Contact,
    pub agent: Agent,
}

pub fn workspace(name: &str) -> Workspace {
    Workspace::new(WorkspaceId::new(), name.into(), Timestamp(1))
}

pub fn agent(ws: WorkspaceId, email: &str) -> Agent {
    Agent {
        id: AgentId::new(),
        workspace_id: ws,
        email: Email::parse(email).unwrap(),
        name: "Ana".into(),
        role: Role::Agent,
        avatar_url: None,
        locale: Locale::default(),
        max_chats: None,
        status: AgentStatus::Online,
        notifications: NotificationPrefs::default(),
        active: true,
        created_at: Timestamp(1),
    }
}

pub fn site(ws: WorkspaceId) -> Site {
    Site {
        id: SiteId::new(),
        workspace_id: ws,
        name: "Shop".into(),
        public_key: format!("pk_{}", uuid::Uuid::new_v4().simple()),
        allowed_origins: vec![Origin::parse("https://shop.example").unwrap()],
        appearance: Appearance::default(),
        prechat_form: vec![PrechatField {
            key: "email".into(),
            label: "E-mail".into(),
            kind: PrechatFieldKind::Email,
            required: true,
            options: vec![],
        }],
        identity_secret: "secret".into(),
        retention_days: None,
        banned_behaviour: BannedBehaviour::Hide,
        masking: masking::Masking::default(),
        business_hours: None,
        default_team_id: None,
        tracking: TrackingMode::On,
        conversion_events: vec![],
        created_at: Timestamp(1),
    }
}

pub fn contact(ws: WorkspaceId, site: Option<SiteId>) -> Contact {
    Contact {
        id: ContactId::new(),
        workspace_id: ws,
        site_id: site,
        external_id: None,
        name: None,
        email: None,
        phone: None,
        attributes: Attributes::new(),
        device: DeviceInfo::default(),
        country: None,
        first_seen: Timestamp(1),
        last_seen: Timestamp(1),
        lead_score: Default::default(),
    }
}

/// A plain-text message by `author`, to post.
pub fn text(author: Actor, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        author,
        client_id: client_id.map(str::to_owned),
        kind: MessageKind::Text,
        body: body.into(),
        format: MessageFormat::Text,
        attachments: vec![],
    }
}

pub async fn fixture(store: &dyn Store, name: &str) -> Fixture {
    let ws = workspace(name);
    store.create_workspace(&ws).await.unwrap();
    let site = site(ws.id);
    store.create_site(&site).await.unwrap();
    let contact = contact(ws.id, Some(site.id));
    store.create_contact(&contact).await.unwrap();
    let agent = agent(ws.id, &format!("{}@{}.example", uuid::Uuid::new_v4().simple(), name));
    store.create_agent(&agent, "hash").await.unwrap();
    Fixture { ws, site, contact, agent }
}

/// Starts a conversation for the fixture's contact, with an optional first message.
pub async fn start(store: &dyn Store, f: &Fixture, first: Option<&str>) -> Committed {
    let conversation = Conversation::new(f.ws.id, f.site.id, f.contact.id, Timestamp::now());
    let first_message = first.map(|b| text(Actor::Contact(f.contact.id), b, Some(&uuid::Uuid::new_v4().to_string())));
    store.commit(f.ws.id, Change::Start { conversation, first_message }).await.unwrap()
}

pub async fn say(store: &dyn Store, f: &Fixture, conv: ConversationId, actor: Actor, body: &str) -> Committed {
    let message = text(actor, body, Some(&uuid::Uuid::new_v4().to_string()));
    store.commit(f.ws.id, Change::Post { conversation_id: conv, message, at: Timestamp::now() }).await.unwrap()
}

fn all(audience: Audience) -> EventQuery {
    EventQuery::replay(0, 1000, audience)
}

pub async fn workspaces_agents_and_login(store: Arc<dyn Store>) {
    let ws = workspace("acme");
    store.create_workspace(&ws).await.unwrap();
    assert_eq!(store.workspace(ws.id).await.unwrap(), ws);
    assert_eq!(store.workspaces().await.unwrap(), vec![ws.clone()]);

    let mut ana = agent(ws.id, "ana@acme.example");
    store.create_agent(&ana, "h1").await.unwrap();
    let (found, hash) = store.agent_credentials(&ana.email).await.unwrap().unwrap();
    assert_eq!((found, hash.as_str()), (ana.clone(), "h1"));

    ana.name = "Ana María".into();
    ana.role = Role::Admin;
    ana.locale = Locale::parse("tr").unwrap();
    store.update_agent(&ana).await.unwrap();
    store.set_password(ws.id, ana.id, "h2").await.unwrap();
    let (found, hash) = store.agent_credentials(&ana.email).await.unwrap().unwrap();
    assert_eq!((found, hash.as_str()), (ana.clone(), "h2"));
    assert_eq!(store.agents(ws.id).await.unwrap(), vec![ana.clone()]);

    store.delete_agent(ws.id, ana.id).await.unwrap();
    assert!(matches!(store.agent(ws.id, ana.id).await, Err(StoreError::NotFound(Entity::Agent))));
    assert!(store.agent_credentials(&ana.email).await.unwrap().is_none());
    assert!(matches!(store.workspace(WorkspaceId::new()).await, Err(StoreError::NotFound(Entity::Workspace))));
}

pub async fn agent_emails_are_unique_across_the_install(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let twin = agent(b.ws.id, a.agent.email.as_str());
    assert!(matches!(store.create_agent(&twin, "h").await, Err(StoreError::Conflict("email"))));
}

pub async fn sessions_expire_and_can_be_revoked(store: Arc<dyn Store>) {
    let f = fixture(&*store, "s").await;
    let session = Session {
        id: SessionId::new(),
        token_hash: "t1".into(),
        agent_id: f.agent.id,
        workspace_id: f.ws.id,
        csrf_token: "c".into(),
        created_at: Timestamp(100),
        expires_at: Timestamp(200),
        last_used_at: Timestamp(100),
        user_agent: Some("Mozilla/5.0 Firefox/128.0".into()),
        ip: Some("203.0.113.9".into()),
        must_enrol: false,
    };
    store.create_session(&session).await.unwrap();
    assert_eq!(store.session("t1", Timestamp(150)).await.unwrap(), Some(session.clone()));
    assert_eq!(store.session("t1", Timestamp(200)).await.unwrap(), None, "expired");
    store.delete_session("t1").await.unwrap();
    assert_eq!(store.session("t1", Timestamp(150)).await.unwrap(), None);

    let t2 = Session { id: SessionId::new(), token_hash: "t2".into(), ..session.clone() };
    store.create_session(&t2).await.unwrap();
    assert_eq!(store.delete_agent_sessions(f.agent.id).await.unwrap(), vec![t2.id], "says which sessions ended");
    assert_eq!(store.session("t2", Timestamp(150)).await.unwrap(), None);
}

pub async fn api_tokens_are_found_by_hash_and_record_use(store: Arc<dyn Store>) {
    let f = fixture(&*store, "t").await;
    let token = ApiToken {
        id: ApiTokenId::new(),
        workspace_id: f.ws.id,
        name: "CRM".into(),
        role: Role::Admin,
        prefix: "sb_abc".into(),
        created_at: Timestamp(5),
        last_used_at: None,
        expires_at: Some(Timestamp(1_000_000)),
    };
    store.create_api_token(&token, "hash-1").await.unwrap();
    let used = store.use_api_token("hash-1", Timestamp(9)).await.unwrap().unwrap();
    assert_eq!(used, ApiToken { last_used_at: Some(Timestamp(9)), ..token.clone() });
    assert_eq!(store.api_tokens(f.ws.id).await.unwrap(), vec![used]);
    assert!(store.use_api_token("other", Timestamp(9)).await.unwrap().is_none());
    store.delete_api_token(f.ws.id, token.id).await.unwrap();
    assert!(store.use_api_token("hash-1", Timestamp(9)).await.unwrap().is_none());
    assert!(matches!(store.delete_api_token(f.ws.id, token.id).await, Err(StoreError::NotFound(Entity::ApiToken))));
}

pub async fn teams_keep_their_members(store: Arc<dyn Store>) {
    let f = fixture(&*store, "t").await;
    let bob = agent(f.ws.id, "bob@t.example");
    store.create_agent(&bob, "h").await.unwrap();
    let mut team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Billing".into(),
        agent_ids: vec![f.agent.id],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    let dup = Team { id: TeamId::new(), ..team.clone() };
    assert!(matches!(store.create_team(&dup).await, Err(StoreError::Conflict("name"))));
    team.agent_ids = vec![bob.id, f.agent.id];
    team.agent_ids.sort();
    team.name = "Facturación".into();
    store.update_team(&team).await.unwrap();
    let mut got = store.team(f.ws.id, team.id).await.unwrap();
    got.agent_ids.sort();
    assert_eq!(got, team);
    store.delete_agent(f.ws.id, bob.id).await.unwrap();
    assert_eq!(store.teams(f.ws.id).await.unwrap()[0].agent_ids, vec![f.agent.id]);
    store.delete_team(f.ws.id, team.id).await.unwrap();
    assert!(store.teams(f.ws.id).await.unwrap().is_empty());
}

/// Deleting an agent or a team unassigns their conversations; the conversations carry
/// on, and what is written next does not bring the assignment back.
pub async fn conversations_outlive_their_agent_and_team(store: Arc<dyn Store>) {
    let f = fixture(&*store, "gone").await;
    let bob = agent(f.ws.id, "bob@gone.example");
    store.create_agent(&bob, "h").await.unwrap();
    let team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Sales".into(),
        agent_ids: vec![bob.id],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    let conv = start(&*store, &f, Some("hello")).await.conversation.id;
    let assign = EventData::Assigned { agent_id: Some(bob.id), team_id: Some(team.id), reason: AssignReason::Manual, note: None };
    let assigned =
        store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: Actor::System, data: assign, at: Timestamp::now() });
    assert_eq!(assigned.await.unwrap().conversation.assignee_id, Some(bob.id));
    say(&*store, &f, conv, Actor::Agent(bob.id), "bob here").await;

    store.delete_agent(f.ws.id, bob.id).await.unwrap();
    let after = say(&*store, &f, conv, Actor::Contact(f.contact.id), "still there?").await;
    assert_eq!((after.conversation.assignee_id, after.conversation.team_id), (None, Some(team.id)));

    store.delete_team(f.ws.id, team.id).await.unwrap();
    let after = say(&*store, &f, conv, Actor::Agent(f.agent.id), "I can help").await;
    assert_eq!((after.conversation.assignee_id, after.conversation.team_id), (None, None));
    let stored = store.conversation(f.ws.id, conv).await.unwrap();
    assert_eq!(Conversation { unread: None, ..stored.clone() }, after.conversation);
    assert_eq!(stored.last_seq, 6);
}

pub async fn sites_are_found_by_public_key_and_cannot_vanish_under_conversations(store: Arc<dyn Store>) {
    let f = fixture(&*store, "s").await;
    assert_eq!(store.site_by_key(&f.site.public_key).await.unwrap(), f.site);
    let mut site = f.site.clone();
    site.name = "متجر".into();
    site.allowed_origins = vec![];
    site.appearance.locale = Locale::parse("ar").unwrap();
    site.appearance.position = LauncherPosition::Start;
    store.update_site(&site).await.unwrap();
    assert_eq!(store.site(f.ws.id, site.id).await.unwrap(), site);
    assert!(matches!(store.site_by_key("pk_nope").await, Err(StoreError::NotFound(Entity::Site))));

    start(&*store, &f, None).await;
    assert!(matches!(store.delete_site(f.ws.id, site.id).await, Err(StoreError::InUse(Entity::Site))));
    let spare = self::site(f.ws.id);
    store.create_site(&spare).await.unwrap();
    store.delete_site(f.ws.id, spare.id).await.unwrap();
    assert_eq!(store.sites(f.ws.id).await.unwrap(), vec![site]);
}

pub async fn canned_shortcuts_are_unique_per_workspace(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let mut hi = CannedResponse {
        id: CannedResponseId::new(),
        workspace_id: a.ws.id,
        shortcut: "hi".into(),
        body: "Hello! How can I help?".into(),
        owner_id: None,
        created_at: Timestamp(1),
    };
    store.create_canned(&hi).await.unwrap();
    let again = CannedResponse { id: CannedResponseId::new(), ..hi.clone() };
    assert!(matches!(store.create_canned(&again).await, Err(StoreError::Conflict("shortcut"))));
    store.create_canned(&CannedResponse { workspace_id: b.ws.id, ..again }).await.unwrap();
    hi.body = "مرحبا".into();
    store.update_canned(&hi).await.unwrap();
    assert_eq!(store.canned_responses(a.ws.id, None).await.unwrap(), vec![hi.clone()]);
    store.delete_canned(a.ws.id, hi.id).await.unwrap();
    assert!(matches!(store.canned(a.ws.id, hi.id).await, Err(StoreError::NotFound(Entity::CannedResponse))));
}

pub async fn contacts_are_updated_found_by_external_id_and_searched(store: Arc<dyn Store>) {
    let f = fixture(&*store, "c").await;
    let mut c = f.contact.clone();
    c.external_id = Some("user-42".into());
    c.name = Some("Zeynep Yılmaz".into());
    c.email = Some(Email::parse("zeynep@example.com").unwrap());
    c.attributes.insert("plan".into(), AttributeValue::Text("pro".into()));
    c.device = DeviceInfo { browser: Some("Firefox".into()), os: Some("Linux".into()), device: None, language: Some("tr".into()) };
    c.country = Some("TR".into());
    c.last_seen = Timestamp(50);
    store.update_contact(&c).await.unwrap();
    assert_eq!(store.contact(f.ws.id, c.id).await.unwrap(), c);
    assert_eq!(store.contact_by_external_id(f.ws.id, "user-42").await.unwrap(), Some(c.clone()));

    let mut other = contact(f.ws.id, None);
    other.name = Some("علی رضایی".into());
    store.create_contact(&other).await.unwrap();
    other.external_id = Some("user-42".into());
    assert!(matches!(store.update_contact(&other).await, Err(StoreError::Conflict("external_id"))));

    let find = |q: &str| {
        let store = store.clone();
        let q = q.to_owned();
        async move {
            let terms = search::query_terms(&q);
            store.search_contacts(f.ws.id, &terms, 10).await.unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("YILMAZ").await, vec![c.id], "Turkish ı/I fold");
    assert_eq!(find("zeynep@example").await, vec![c.id]);
    assert_eq!(find("علي").await, vec![other.id], "Arabic yeh finds Persian yeh");
    assert!(find("nobody").await.is_empty());
    assert!(find("100%").await.is_empty(), "wildcards are literal");

    // A page of inbox rows reads its contacts at once; unknown ids and another workspace's are left out.
    let g = fixture(&*store, "c2").await;
    let mut found = store.contacts_by_id(f.ws.id, &[c.id, other.id, g.contact.id, ContactId::new()]).await.unwrap();
    found.sort_by_key(|x| x.id);
    let mut want = vec![c.clone(), store.contact(f.ws.id, other.id).await.unwrap()];
    want.sort_by_key(|x| x.id);
    assert_eq!(found, want);
    assert!(store.contacts_by_id(f.ws.id, &[]).await.unwrap().is_empty());
}

/// Records one page view the way live tracking does: a visit of its own (on `site`)
/// and its page, in one batch.
pub async fn view_page(store: &dyn Store, ws: WorkspaceId, site: SiteId, contact: ContactId, page: PageView) {
    let visit = Visit {
        id: VisitId::new(),
        workspace_id: ws,
        site_id: site,
        contact_id: contact,
        number: 1,
        started_at: page.at,
        last_seen_at: page.at,
        referrer: None,
        utm: Utm::default(),
        device: DeviceInfo::default(),
        country: None,
    };
    let pages = vec![VisitPageRow { visit_id: visit.id, contact_id: contact, page }];
    store.record_live(ws, &LiveBatch { visits: vec![visit], pages, seen: vec![] }).await.unwrap();
}

pub async fn page_views_are_listed_newest_first(store: Arc<dyn Store>) {
    let f = fixture(&*store, "p").await;
    for (i, url) in ["https://shop.example/", "https://shop.example/pricing", "https://shop.example/cart"].iter().enumerate() {
        let view = PageView { url: (*url).into(), title: Some(format!("Page {i}")), referrer: None, at: Timestamp(i as i64) };
        view_page(&*store, f.ws.id, f.site.id, f.contact.id, view).await;
    }
    let views = store.page_views(f.ws.id, f.contact.id, 2).await.unwrap();
    let urls: Vec<_> = views.iter().map(|v| v.url.as_str()).collect();
    assert_eq!(urls, ["https://shop.example/cart", "https://shop.example/pricing"]);
    let stranger = fixture(&*store, "q").await;
    assert!(store.page_views(stranger.ws.id, f.contact.id, 10).await.unwrap().is_empty());
}

pub async fn attachments_round_trip(store: Arc<dyn Store>) {
    let f = fixture(&*store, "a").await;
    let a = Attachment {
        id: AttachmentId::new(),
        workspace_id: f.ws.id,
        uploader: Actor::Contact(f.contact.id),
        filename: "صورة.png".into(),
        content_type: "image/png".into(),
        size: 1234,
        width: Some(640),
        height: Some(480),
        blob_key: "ab/cd".into(),
        created_at: Timestamp(3),
    };
    store.create_attachment(&a).await.unwrap();
    assert_eq!(store.attachment(f.ws.id, a.id).await.unwrap(), a);

    let conv = start(&*store, &f, None).await.conversation;
    let mut message = text(Actor::Contact(f.contact.id), "see picture", Some("c-1"));
    message.attachments = vec![a.clone()];
    let done = store.commit(f.ws.id, Change::Post { conversation_id: conv.id, message, at: Timestamp(9) }).await.unwrap();
    let events = store.conversation_events(f.ws.id, conv.id, &all(Audience::Contact)).await.unwrap();
    assert_eq!(events.last().unwrap(), &done.events[0]);
    let EventData::Message(stored) = &events.last().unwrap().data else { panic!("not a message") };
    assert_eq!(stored.attachments, vec![a]);
}

pub async fn a_conversation_log_assigns_gapless_sequences(store: Arc<dyn Store>) {
    let f = fixture(&*store, "log").await;
    let visitor = Actor::Contact(f.contact.id);
    let agent = Actor::Agent(f.agent.id);
    let started = start(&*store, &f, Some("hello")).await;
    let conv = started.conversation.id;
    assert_eq!(started.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(started.events[0].data, EventData::ConversationStarted);
    assert!(started.conversation.waiting_since.is_some());

    let reply = say(&*store, &f, conv, agent, "hi, how can I help?").await;
    assert_eq!(reply.events[0].seq, 3);
    let EventData::Message(m) = &reply.events[0].data else { panic!() };
    assert_eq!((m.seq, m.conversation_id, m.workspace_id), (3, conv, f.ws.id));
    assert!(reply.conversation.first_reply_at.is_some());

    let assign = EventData::Assigned { agent_id: Some(f.agent.id), team_id: None, reason: AssignReason::Manual, note: None };
    let at = Timestamp::now();
    store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: agent, data: assign, at }).await.unwrap();
    let receipt = EventData::Receipt { side: Side::Visitor, kind: ReceiptKind::Read, up_to_seq: 3 };
    store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: visitor, data: receipt, at }).await.unwrap();
    let resolve = EventData::StatusChanged { status: Status::Resolved };
    let done = store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: agent, data: resolve, at }).await.unwrap();

    let stored = store.conversation(f.ws.id, conv).await.unwrap();
    assert_eq!(stored.unread, Some(1), "a read counts the contact's unread messages; the writer does not");
    assert_eq!(Conversation { unread: None, ..stored.clone() }, done.conversation, "the returned conversation is what was stored");
    assert_eq!(stored.last_seq, 6);
    assert_eq!(stored.status, Status::Resolved);
    assert_eq!(stored.assignee_id, Some(f.agent.id));
    assert_eq!(stored.visitor.read_seq, 3);

    let events = store.conversation_events(f.ws.id, conv, &all(Audience::Agents)).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let kinds: Vec<_> = events.iter().map(|e| e.data.kind()).collect();
    assert_eq!(kinds, ["conversation_started", "message", "message", "assigned", "receipt", "status_changed"]);
    let feed = store.feed(f.ws.id, 0, 100).await.unwrap();
    assert_eq!(feed, events, "the feed holds the same events");
}

/// A caller posts a `NewMessage`; the log decides its id, conversation, `seq` and time,
/// and reads it back with exactly those.
pub async fn a_posted_message_is_stored_with_its_conversation_seq_and_time(store: Arc<dyn Store>) {
    let f = fixture(&*store, "posted").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let agent = Actor::Agent(f.agent.id);
    let mut note = text(agent, "refund approved", Some("n-1"));
    note.kind = MessageKind::Note;
    let done = store.commit(f.ws.id, Change::Post { conversation_id: conv, message: note, at: Timestamp(1234) }).await.unwrap();
    let posted = done.events[0].data.message().expect("a note event").clone();
    assert_eq!((posted.workspace_id, posted.conversation_id, posted.seq), (f.ws.id, conv, 3), "after started and the first message");
    assert_eq!((posted.author, posted.kind, posted.created_at), (agent, MessageKind::Note, Timestamp(1234)));
    assert_eq!((done.events[0].seq, done.events[0].at), (3, Timestamp(1234)));
    let stored = store.conversation_events(f.ws.id, conv, &all(Audience::Agents)).await.unwrap();
    assert_eq!(stored.last().and_then(|e| e.data.message()), Some(&posted), "read back as it was numbered");

    let recorded = Change::Record { conversation_id: conv, actor: agent, data: EventData::Message(posted), at: Timestamp(1235) };
    assert!(matches!(store.commit(f.ws.id, recorded).await, Err(StoreError::Invalid(_))), "a message is posted, never recorded");
    assert_eq!(store.conversation(f.ws.id, conv).await.unwrap().last_seq, 3);
}

pub async fn message_retries_with_the_same_client_id_are_not_stored_twice(store: Arc<dyn Store>) {
    let f = fixture(&*store, "idem").await;
    let conv = start(&*store, &f, None).await.conversation.id;
    let visitor = Actor::Contact(f.contact.id);
    let send = |body: &str| Change::Post { conversation_id: conv, message: text(visitor, body, Some("client-1")), at: Timestamp::now() };
    let first = store.commit(f.ws.id, send("hello")).await.unwrap();
    let again = store.commit(f.ws.id, send("hello")).await.unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(first.events, again.events, "the retry gets the original message back");
    // The same client id from another author is a different message.
    let agent = Actor::Agent(f.agent.id);
    let message = text(agent, "hi", Some("client-1"));
    let other = store.commit(f.ws.id, Change::Post { conversation_id: conv, message, at: Timestamp::now() }).await.unwrap();
    assert!(!other.replayed);
    let events = store.conversation_events(f.ws.id, conv, &all(Audience::Agents)).await.unwrap();
    assert_eq!(events.len(), 3);
}

pub async fn starting_twice_with_the_same_first_message_creates_one_conversation(store: Arc<dyn Store>) {
    let f = fixture(&*store, "start").await;
    let visitor = Actor::Contact(f.contact.id);
    let make = || Change::Start {
        conversation: Conversation::new(f.ws.id, f.site.id, f.contact.id, Timestamp::now()),
        first_message: Some(text(visitor, "first", Some("c-start"))),
    };
    let one = store.commit(f.ws.id, make()).await.unwrap();
    let two = store.commit(f.ws.id, make()).await.unwrap();
    assert!(two.replayed);
    assert_eq!(one.conversation.id, two.conversation.id);
    let filter = ConversationFilter { contact_id: Some(f.contact.id), limit: 10, ..Default::default() };
    assert_eq!(store.conversations(f.ws.id, &filter).await.unwrap().len(), 1);
}

/// A change can pass every rule and still be refused by the database (here: a new
/// conversation whose id is taken). Changes batched with it must not go down with it.
pub async fn a_change_the_database_refuses_fails_alone(store: Arc<dyn Store>) {
    let f = fixture(&*store, "refused").await;
    let taken = start(&*store, &f, None).await.conversation;
    let busy = start(&*store, &f, None).await.conversation.id;
    let visitor = Actor::Contact(f.contact.id);
    let mut clash = Conversation::new(f.ws.id, f.site.id, f.contact.id, Timestamp::now());
    clash.id = taken.id;
    let mut changes: Vec<Change> = (0..40)
        .map(|i| Change::Post { conversation_id: busy, message: text(visitor, &format!("m{i}"), None), at: Timestamp::now() })
        .collect();
    changes.insert(20, Change::Start { conversation: clash, first_message: Some(text(visitor, "clash", Some("c-clash"))) });
    // Submitted at once, so the writer batches them.
    let ws = f.ws.id;
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move { store.commit(ws, c).await })
        })
        .collect();
    let mut results = vec![];
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(results[20].is_err(), "the clashing start is refused");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 40, "every other change is committed");
    let events = store.conversation_events(f.ws.id, busy, &all(Audience::Agents)).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=41).collect::<Vec<i64>>());
    assert_eq!(store.conversation_events(f.ws.id, taken.id, &all(Audience::Agents)).await.unwrap().len(), 1);
    let feed = store.feed(f.ws.id, 0, 1000).await.unwrap();
    let feed_seqs: Vec<i64> = feed.iter().map(|e| e.feed_seq).collect();
    assert_eq!(feed_seqs, (1..=feed.len() as i64).collect::<Vec<i64>>(), "the feed has no gap where the refused change was");
}

pub async fn changes_to_unknown_conversations_are_rejected_without_side_effects(store: Arc<dyn Store>) {
    let f = fixture(&*store, "unknown").await;
    let other = fixture(&*store, "other").await;
    let conv = start(&*store, &other, None).await.conversation.id;
    let agent = Actor::Agent(f.agent.id);
    let message = text(agent, "hi", Some("x"));
    // A conversation of another workspace is as unknown as a made-up id.
    for id in [ConversationId::new(), conv] {
        let change = Change::Post { conversation_id: id, message: message.clone(), at: Timestamp::now() };
        assert!(matches!(store.commit(f.ws.id, change).await, Err(StoreError::NotFound(Entity::Conversation))));
    }
    // A visitor cannot write into another visitor's conversation of the same workspace.
    let stranger = contact(other.ws.id, Some(other.site.id));
    store.create_contact(&stranger).await.unwrap();
    let intruder = Actor::Contact(stranger.id);
    let change = Change::Post { conversation_id: conv, message: text(intruder, "let me in", Some("y")), at: Timestamp::now() };
    assert!(matches!(store.commit(other.ws.id, change).await, Err(StoreError::NotFound(Entity::Conversation))));
    let receipt = EventData::Receipt { side: Side::Agent, kind: ReceiptKind::Read, up_to_seq: 99 };
    let change = Change::Record { conversation_id: conv, actor: Actor::Agent(other.agent.id), data: receipt, at: Timestamp::now() };
    assert!(matches!(store.commit(other.ws.id, change).await, Err(StoreError::Invalid(_))));
    assert_eq!(store.feed(f.ws.id, 0, 10).await.unwrap(), vec![]);
    assert_eq!(store.feed(other.ws.id, 0, 10).await.unwrap().len(), 1, "only conversation_started");
    // The writer is still healthy after rejecting.
    say(&*store, &other, conv, Actor::Agent(other.agent.id), "still works").await;
}

pub async fn no_op_changes_append_nothing(store: Arc<dyn Store>) {
    let f = fixture(&*store, "noop").await;
    let conv = start(&*store, &f, None).await.conversation.id;
    let data = EventData::StatusChanged { status: Status::Open };
    let done =
        store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: Actor::System, data, at: Timestamp::now() }).await.unwrap();
    assert!(done.events.is_empty());
    assert_eq!(done.conversation.last_seq, 1);
}

pub async fn a_visitor_reopening_a_resolved_conversation_is_recorded(store: Arc<dyn Store>) {
    let f = fixture(&*store, "reopen").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let resolve = EventData::StatusChanged { status: Status::Resolved };
    store
        .commit(f.ws.id, Change::Record { conversation_id: conv, actor: Actor::Agent(f.agent.id), data: resolve, at: Timestamp::now() })
        .await
        .unwrap();
    let again = say(&*store, &f, conv, Actor::Contact(f.contact.id), "one more question").await;
    let kinds: Vec<_> = again.events.iter().map(|e| (e.data.kind(), e.seq)).collect();
    assert_eq!(kinds, [("message", 4), ("status_changed", 5)]);
    assert_eq!(again.events[1].actor, Actor::System);
    assert_eq!(again.conversation.status, Status::Open);
    assert_eq!(store.conversation(f.ws.id, conv).await.unwrap().status, Status::Open);
}

pub async fn visitors_do_not_replay_private_notes(store: Arc<dyn Store>) {
    let f = fixture(&*store, "notes").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let agent = Actor::Agent(f.agent.id);
    let mut note = text(agent, "customer is on the old plan", Some("n1"));
    note.kind = MessageKind::Note;
    store.commit(f.ws.id, Change::Post { conversation_id: conv, message: note, at: Timestamp::now() }).await.unwrap();
    let labels = EventData::LabelsChanged { labels: parse_labels(&["vip"]).unwrap() };
    store.commit(f.ws.id, Change::Record { conversation_id: conv, actor: agent, data: labels, at: Timestamp::now() }).await.unwrap();
    say(&*store, &f, conv, agent, "hello!").await;

    let seen = |a| {
        let store = store.clone();
        async move { store.conversation_events(f.ws.id, conv, &all(a)).await.unwrap().iter().map(|e| e.data.kind()).collect::<Vec<_>>() }
    };
    assert_eq!(seen(Audience::Contact).await, ["conversation_started", "message", "message"]);
    assert_eq!(seen(Audience::Agents).await, ["conversation_started", "message", "note", "labels_changed", "message"]);
}

pub async fn history_pages_backwards(store: Arc<dyn Store>) {
    let f = fixture(&*store, "hist").await;
    let conv = start(&*store, &f, None).await.conversation.id;
    for i in 0..10 {
        say(&*store, &f, conv, Actor::Contact(f.contact.id), &format!("m{i}")).await;
    }
    let q = EventQuery { after_seq: None, before_seq: Some(11), limit: 3, newest_first: true, audience: Audience::Agents };
    let page = store.conversation_events(f.ws.id, conv, &q).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [10, 9, 8]);
    let q = EventQuery { after_seq: Some(2), before_seq: Some(5), limit: 10, newest_first: false, audience: Audience::Agents };
    let page = store.conversation_events(f.ws.id, conv, &q).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
}

pub async fn the_feed_orders_a_whole_workspace(store: Arc<dyn Store>) {
    let f = fixture(&*store, "feed").await;
    let one = start(&*store, &f, Some("a")).await.conversation.id;
    let two = start(&*store, &f, Some("b")).await.conversation.id;
    say(&*store, &f, one, Actor::Agent(f.agent.id), "c").await;
    let feed = store.feed(f.ws.id, 0, 100).await.unwrap();
    assert_eq!(feed.iter().map(|e| e.feed_seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(store.feed_head(f.ws.id).await.unwrap(), 5);
    let empty = fixture(&*store, "empty").await;
    assert_eq!(store.feed_head(empty.ws.id).await.unwrap(), 0);
    assert_eq!(feed.iter().map(|e| e.conversation_id).collect::<Vec<_>>(), [one, one, two, two, one]);
    assert_eq!(store.feed(f.ws.id, 3, 1).await.unwrap()[0].feed_seq, 4);
}

pub async fn concurrent_commits_never_skip_or_repeat_a_cursor(store: Arc<dyn Store>) {
    let f = Arc::new(fixture(&*store, "burst").await);
    let mut convs = vec![];
    for _ in 0..4 {
        convs.push(start(&*store, &f, None).await.conversation.id);
    }
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, f, conv) = (store.clone(), f.clone(), convs[i % 4]);
            tokio::spawn(async move { say(&*store, &f, conv, Actor::Contact(f.contact.id), &format!("m{i}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let feed = store.feed(f.ws.id, 0, 10_000).await.unwrap();
    assert_eq!(feed.iter().map(|e| e.feed_seq).collect::<Vec<_>>(), (1..=204).collect::<Vec<_>>());
    for conv in convs {
        let events = store.conversation_events(f.ws.id, conv, &all(Audience::Agents)).await.unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=51).collect::<Vec<_>>());
    }
}

pub async fn conversations_filter_and_paginate(store: Arc<dyn Store>) {
    let f = fixture(&*store, "list").await;
    let mut ids = vec![];
    for i in 0..5 {
        let c = start(&*store, &f, Some(&format!("q{i}"))).await.conversation;
        ids.push(c.id);
    }
    let agent = Actor::Agent(f.agent.id);
    // Strictly later than every start, so the order below does not depend on timing.
    let at = Timestamp::now().plus_millis(1000);
    let assign = EventData::Assigned { agent_id: Some(f.agent.id), team_id: None, reason: AssignReason::Manual, note: None };
    store.commit(f.ws.id, Change::Record { conversation_id: ids[1], actor: agent, data: assign, at }).await.unwrap();
    let resolve = EventData::StatusChanged { status: Status::Resolved };
    store.commit(f.ws.id, Change::Record { conversation_id: ids[2], actor: agent, data: resolve, at: at.plus_millis(1) }).await.unwrap();
    let label = EventData::LabelsChanged { labels: parse_labels(&["billing"]).unwrap() };
    store.commit(f.ws.id, Change::Record { conversation_id: ids[3], actor: agent, data: label, at: at.plus_millis(2) }).await.unwrap();

    let list = |filter: ConversationFilter| {
        let store = store.clone();
        async move { store.conversations(f.ws.id, &filter).await.unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>() }
    };
    let all_ids = list(ConversationFilter { limit: 50, ..Default::default() }).await;
    assert_eq!(all_ids.len(), 5);
    assert_eq!(&all_ids[..2], &[ids[3], ids[2]], "the most recent activity comes first");

    assert_eq!(list(ConversationFilter { status: Some("resolved"), limit: 50, ..Default::default() }).await, [ids[2]]);
    let mine = ConversationFilter { assignee: Some(AssigneeFilter::Agent(f.agent.id)), limit: 50, ..Default::default() };
    assert_eq!(list(mine).await, [ids[1]]);
    let unassigned =
        ConversationFilter { assignee: Some(AssigneeFilter::Unassigned), status: Some("open"), limit: 50, ..Default::default() };
    assert_eq!(list(unassigned).await.len(), 3);
    let billing = ConversationFilter { label: Some(Label::parse("billing").unwrap()), limit: 50, ..Default::default() };
    assert_eq!(list(billing).await, [ids[3]]);

    // Walk the list two at a time with cursors: every conversation exactly once.
    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = store.conversations(f.ws.id, &ConversationFilter { after, limit: 2, ..Default::default() }).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(ConversationCursor::after(last, ConversationSort::LastActivity));
        seen.extend(page.iter().map(|c| c.id));
    }
    assert_eq!(seen, all_ids);
}

pub async fn every_read_is_scoped_to_its_workspace(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let conv = start(&*store, &b, Some("secret question")).await.conversation.id;
    let team = Team {
        id: TeamId::new(),
        workspace_id: b.ws.id,
        name: "T".into(),
        agent_ids: vec![],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    let canned = CannedResponse {
        id: CannedResponseId::new(),
        workspace_id: b.ws.id,
        shortcut: "x".into(),
        body: "y".into(),
        owner_id: None,
        created_at: Timestamp(1),
    };
    store.create_canned(&canned).await.unwrap();

    let ws = a.ws.id;
    assert!(matches!(store.conversation(ws, conv).await, Err(StoreError::NotFound(Entity::Conversation))));
    assert!(matches!(store.conversation_events(ws, conv, &all(Audience::Agents)).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.agent(ws, b.agent.id).await, Err(StoreError::NotFound(Entity::Agent))));
    assert!(matches!(store.site(ws, b.site.id).await, Err(StoreError::NotFound(Entity::Site))));
    assert!(matches!(store.contact(ws, b.contact.id).await, Err(StoreError::NotFound(Entity::Contact))));
    assert!(matches!(store.team(ws, team.id).await, Err(StoreError::NotFound(Entity::Team))));
    assert!(matches!(store.canned(ws, canned.id).await, Err(StoreError::NotFound(Entity::CannedResponse))));
    assert!(matches!(store.delete_agent(ws, b.agent.id).await, Err(StoreError::NotFound(Entity::Agent))));
    assert!(matches!(store.delete_site(ws, b.site.id).await, Err(StoreError::NotFound(Entity::Site))));
    assert!(matches!(store.delete_team(ws, team.id).await, Err(StoreError::NotFound(Entity::Team))));
    assert!(matches!(store.delete_canned(ws, canned.id).await, Err(StoreError::NotFound(Entity::CannedResponse))));
    let mut moved = b.agent.clone();
    moved.workspace_id = ws;
    assert!(matches!(store.update_agent(&moved).await, Err(StoreError::NotFound(Entity::Agent))));
    let mut contact = b.contact.clone();
    contact.workspace_id = ws;
    assert!(matches!(store.update_contact(&contact).await, Err(StoreError::NotFound(Entity::Contact))));
    assert!(store.conversations(ws, &ConversationFilter { limit: 10, ..Default::default() }).await.unwrap().is_empty());
    assert!(store.search_messages(ws, &["secret".into()], 10).await.unwrap().is_empty());
    assert!(store.search_contacts(ws, &[], 10).await.unwrap().iter().all(|c| c.workspace_id == ws));
    assert_eq!(store.agents(ws).await.unwrap(), vec![a.agent.clone()]);
    assert_eq!(store.sites(ws).await.unwrap(), vec![a.site.clone()]);
}

pub async fn message_search_folds_scripts(store: Arc<dyn Store>) {
    let f = fixture(&*store, "search").await;
    let conv = start(&*store, &f, Some("سلام، سفارش من کجاست؟")).await.conversation.id;
    let agent = Actor::Agent(f.agent.id);
    say(&*store, &f, conv, agent, "İstanbul deposundan gönderildi").await;
    say(&*store, &f, conv, agent, "مُحَمَّد will call you back about the refund").await;

    let find = |q: &str| {
        let store = store.clone();
        let terms = search::query_terms(q);
        async move { store.search_messages(f.ws.id, &terms, 10).await.unwrap().into_iter().map(|h| h.message.body).collect::<Vec<_>>() }
    };
    assert_eq!(find("سفارش كجاست").await, ["سلام، سفارش من کجاست؟"], "Arabic kaf finds Persian keheh");
    assert_eq!(find("ISTANBUL").await, ["İstanbul deposundan gönderildi"]);
    assert_eq!(find("gonder").await, ["İstanbul deposundan gönderildi"], "prefix and accents");
    assert_eq!(find("محمد refund").await, ["مُحَمَّد will call you back about the refund"]);
    assert!(find("refund missing-word").await.is_empty(), "every term must match");
    assert!(find("").await.is_empty());
}

pub async fn secrets_are_created_once(store: Arc<dyn Store>) {
    let first = store.secret("visitor-token", "one".into()).await.unwrap();
    let second = store.secret("visitor-token", "two".into()).await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
}

/// A database written before migration 0004, when a message was a `messages` row that
/// its event referred to. Each backend's upgrade test inserts [`upgrade_0004::rows`]
/// (with its own column types) at schema 0003, migrates, and runs [`upgrade_0004::check`].
pub mod upgrade_0004 {
    use super::*;

    pub const WORKSPACE: &str = "0190a000-0000-7000-8000-000000000001";
    pub const SITE: &str = "0190a000-0000-7000-8000-000000000002";
    pub const CONTACT: &str = "0190a000-0000-7000-8000-000000000003";
    pub const AGENT: &str = "0190a000-0000-7000-8000-000000000004";
    pub const CONVERSATION: &str = "0190a000-0000-7000-8000-000000000005";
    pub const MESSAGE: &str = "0190a000-0000-7000-8000-000000000006";
    pub const NOTE: &str = "0190a000-0000-7000-8000-000000000007";

    /// A conversation started by a visitor's message, then an agent's note: the rows the
    /// log wrote before 0004, minus `messages.search` (PostgreSQL adds it).
    pub fn rows() -> Vec<String> {
        vec![
            format!("INSERT INTO workspaces (id, name, feed_seq, created_at) VALUES ('{WORKSPACE}', 'Upgraded', 3, 1)"),
            format!("INSERT INTO sites VALUES ('{SITE}', '{WORKSPACE}', 'Shop', 'pk_upgraded', '[]', '{{}}', '[]', 'secret', 1)"),
            format!(
                "INSERT INTO contacts (id, workspace_id, site_id, attributes, search_text, first_seen, last_seen) \
                 VALUES ('{CONTACT}', '{WORKSPACE}', '{SITE}', '{{}}', '', 1, 1)"
            ),
            format!(
                "INSERT INTO agents VALUES ('{AGENT}', '{WORKSPACE}', 'ana@upgraded.example', 'Ana', 'agent', NULL, 'en', 5, 'hash', 1)"
            ),
            format!(
                "INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, priority, labels, last_seq, created_at, \
                 last_message_at, last_message_seq, updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, \
                 agent_read_seq) VALUES ('{CONVERSATION}', '{WORKSPACE}', '{SITE}', '{CONTACT}', 'open', 'none', '[]', 3, 1, 3, 3, 3, \
                 0, 0, 0, 0)"
            ),
            format!(
                "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, \
                 body, format, attachments, created_at) VALUES ('{MESSAGE}', '{WORKSPACE}', '{CONVERSATION}', 2, 'contact', \
                 '{CONTACT}', 'contact:{CONTACT}', 'client-1', 'text', 'Where is my refund?', 'text', '[]', 2)"
            ),
            format!(
                "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, \
                 body, format, attachments, created_at) VALUES ('{NOTE}', '{WORKSPACE}', '{CONVERSATION}', 3, 'agent', '{AGENT}', \
                 'agent:{AGENT}', NULL, 'note', 'Refund sent on Monday', 'markdown', '[]', 3)"
            ),
            format!(
                "INSERT INTO events VALUES ('{WORKSPACE}', 1, '{CONVERSATION}', 1, 'conversation_started', 'everyone', 'contact', \
                 '{CONTACT}', NULL, '{{}}', 1)"
            ),
            format!(
                "INSERT INTO events VALUES ('{WORKSPACE}', 2, '{CONVERSATION}', 2, 'message', 'everyone', 'contact', '{CONTACT}', \
                 '{MESSAGE}', '{{}}', 2)"
            ),
            format!(
                "INSERT INTO events VALUES ('{WORKSPACE}', 3, '{CONVERSATION}', 3, 'note', 'agents', 'agent', '{AGENT}', '{NOTE}', \
                 '{{}}', 3)"
            ),
        ]
    }

    /// The upgraded store still has both messages, finds them, and knows the visitor's
    /// client id: a retry gets the stored message back instead of a second copy.
    pub async fn check(store: Arc<dyn Store>) {
        let id = |raw: &str| uuid::Uuid::parse_str(raw).unwrap();
        let (ws, conv, contact) = (WorkspaceId(id(WORKSPACE)), ConversationId(id(CONVERSATION)), ContactId(id(CONTACT)));
        let events = store.conversation_events(ws, conv, &all(Audience::Agents)).await.unwrap();
        let messages: Vec<&Message> = events.iter().filter_map(|e| e.data.message()).collect();
        assert_eq!(events.len(), 3);
        assert_eq!(messages.len(), 2, "{events:?}");
        let (asked, note) = (messages[0], messages[1]);
        assert_eq!((asked.id, asked.seq, asked.client_id.as_deref()), (MessageId(id(MESSAGE)), 2, Some("client-1")));
        assert_eq!((asked.body.as_str(), asked.author, asked.kind), ("Where is my refund?", Actor::Contact(contact), MessageKind::Text));
        assert_eq!((note.id, note.kind, note.format), (MessageId(id(NOTE)), MessageKind::Note, MessageFormat::Markdown));
        let visitor = store.conversation_events(ws, conv, &all(Audience::Contact)).await.unwrap();
        assert_eq!(visitor.len(), 2, "the note stays private");

        let mut found: Vec<String> =
            store.search_messages(ws, &search::query_terms("refund"), 10).await.unwrap().into_iter().map(|h| h.message.body).collect();
        found.sort();
        assert_eq!(found, ["Refund sent on Monday", "Where is my refund?"], "the search index covers the old messages");

        let retry = NewMessage {
            author: asked.author,
            client_id: asked.client_id.clone(),
            kind: asked.kind,
            body: asked.body.clone(),
            format: asked.format,
            attachments: asked.attachments.clone(),
        };
        let again = store.commit(ws, Change::Post { conversation_id: conv, message: retry, at: Timestamp(9) }).await.unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, vec![events[1].clone()]);
        let message = text(Actor::Contact(contact), "Thanks!", Some("client-2"));
        let next = store.commit(ws, Change::Post { conversation_id: conv, message, at: Timestamp(10) }).await.unwrap();
        assert_eq!((next.events[0].seq, next.events[0].feed_seq), (4, 4), "the log goes on where it was");
    }
}

//! Contract cases for inboxes (a site is a website inbox), workspace time zones, the
//! newest event of a kind (how the automatic reply outside hours is given once per closed
//! period), and the upgrade of a database written before inboxes existed (migration 0006).

use std::sync::Arc;

use switchboard_domain::*;

use super::{fixture, say, site, start};
use crate::*;

pub async fn every_site_is_a_website_inbox(store: Arc<dyn Store>) {
    let f = fixture(&*store, "inboxes").await;
    let other = fixture(&*store, "elsewhere").await;
    let website = |s: &Site| Inbox {
        id: InboxId::from(s.id),
        workspace_id: s.workspace_id,
        name: s.name.clone(),
        kind: InboxKind::Website,
        created_at: s.created_at,
    };
    assert_eq!(store.inboxes(f.ws.id).await.unwrap(), vec![website(&f.site)]);

    let mut second = site(f.ws.id);
    second.created_at = Timestamp(2);
    store.create_site(&second).await.unwrap();
    second.name = "فروشگاه".into();
    store.update_site(&second).await.unwrap();
    assert_eq!(store.inboxes(f.ws.id).await.unwrap(), vec![website(&f.site), website(&second)], "renaming a site renames its inbox");

    let started = start(&*store, &f, Some("hello")).await.conversation;
    assert_eq!((started.inbox_id, started.inbox_kind), (InboxId::from(f.site.id), InboxKind::Website));
    let by_inbox = |inbox: InboxId| ConversationFilter { inbox_id: Some(inbox), limit: 10, ..Default::default() };
    let found = store.conversations(f.ws.id, &by_inbox(InboxId::from(f.site.id))).await.unwrap();
    assert_eq!(
        found.iter().map(|c| (c.id, c.inbox_id, c.inbox_kind)).collect::<Vec<_>>(),
        vec![(started.id, started.inbox_id, started.inbox_kind)]
    );
    assert!(store.conversations(f.ws.id, &by_inbox(InboxId::from(second.id))).await.unwrap().is_empty());
    assert!(store.conversations(other.ws.id, &by_inbox(InboxId::from(f.site.id))).await.unwrap().is_empty(), "scoped to the workspace");

    store.delete_site(f.ws.id, second.id).await.unwrap();
    assert_eq!(store.inboxes(f.ws.id).await.unwrap(), vec![website(&f.site)], "deleting a site deletes its inbox");
    assert_eq!(store.inboxes(other.ws.id).await.unwrap(), vec![website(&other.site)]);
}

pub async fn a_workspace_keeps_its_time_zone(store: Arc<dyn Store>) {
    let f = fixture(&*store, "zoned").await;
    let other = fixture(&*store, "unzoned").await;
    assert_eq!(store.workspace(f.ws.id).await.unwrap().time_zone, TimeZone::utc(), "UTC until told otherwise");

    let mut ws = f.ws.clone();
    ws.time_zone = TimeZone::parse("Asia/Tehran").unwrap();
    ws.name = "Zoned".into();
    store.update_workspace(&ws).await.unwrap();
    assert_eq!(store.workspace(f.ws.id).await.unwrap(), ws);
    assert_eq!(store.workspace(other.ws.id).await.unwrap().time_zone, TimeZone::utc());

    let missing = Workspace { id: WorkspaceId::new(), ..ws };
    assert!(matches!(store.update_workspace(&missing).await, Err(StoreError::NotFound(Entity::Workspace))));
}

/// Issue 14's workspace settings: auto-away (minutes, or never) and inbox visibility.
pub async fn a_workspace_keeps_its_presence_and_visibility_settings(store: Arc<dyn Store>) {
    let f = fixture(&*store, "settings").await;
    let stored = store.workspace(f.ws.id).await.unwrap();
    assert_eq!(
        (stored.auto_away_minutes, stored.inbox_visibility),
        (Some(Workspace::DEFAULT_AUTO_AWAY_MINUTES), InboxVisibility::All),
        "the defaults"
    );
    let mut ws = stored.clone();
    ws.auto_away_minutes = None;
    ws.inbox_visibility = InboxVisibility::Teams;
    store.update_workspace(&ws).await.unwrap();
    assert_eq!(store.workspace(f.ws.id).await.unwrap(), ws, "never away, restricted inboxes");
    ws.auto_away_minutes = Some(1440);
    store.update_workspace(&ws).await.unwrap();
    assert_eq!(store.workspace(f.ws.id).await.unwrap().auto_away_minutes, Some(1440));
}

/// A database written before migration 0006, when a conversation had a site and no
/// inbox. Each backend's upgrade test runs the migrations up to 0005, inserts
/// [`upgrade_0006::rows`], migrates, and runs [`upgrade_0006::check`].
pub mod upgrade_0006 {
    use super::*;

    pub const WORKSPACE: &str = "0190b000-0000-7000-8000-000000000001";
    pub const SITE: &str = "0190b000-0000-7000-8000-000000000002";
    pub const CONTACT: &str = "0190b000-0000-7000-8000-000000000003";
    pub const CONVERSATION: &str = "0190b000-0000-7000-8000-000000000005";

    /// A workspace with a site, a contact and a conversation started by the visitor.
    pub fn rows() -> Vec<String> {
        vec![
            format!("INSERT INTO workspaces (id, name, feed_seq, created_at) VALUES ('{WORKSPACE}', 'Upgraded', 1, 1)"),
            format!(
                "INSERT INTO sites VALUES ('{SITE}', '{WORKSPACE}', 'Shop', 'pk_upgraded_0006', '[]', '{}', '[]', 'secret', 1)",
                crate::codec::encode_appearance(&Appearance::default()).replace('\'', "''")
            ),
            format!(
                "INSERT INTO contacts (id, workspace_id, site_id, attributes, search_text, first_seen, last_seen) \
                 VALUES ('{CONTACT}', '{WORKSPACE}', '{SITE}', '{{}}', '', 1, 1)"
            ),
            format!(
                "INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, priority, labels, last_seq, created_at, \
                 last_message_seq, updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) \
                 VALUES ('{CONVERSATION}', '{WORKSPACE}', '{SITE}', '{CONTACT}', 'open', 'none', '[]', 1, 1, 0, 1, 0, 0, 0, 0)"
            ),
            format!(
                "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at) \
                 VALUES ('{WORKSPACE}', 1, '{CONVERSATION}', 1, 'conversation_started', 'everyone', 'contact', '{CONTACT}', '{{}}', 1)"
            ),
        ]
    }

    /// The site is now a website inbox, the conversation is in it, the workspace is on
    /// UTC, and the site's widget still finds its conversation.
    pub async fn check(store: Arc<dyn Store>) {
        let id = |raw: &str| uuid::Uuid::parse_str(raw).unwrap();
        let (ws, site, conv) = (WorkspaceId(id(WORKSPACE)), SiteId(id(SITE)), ConversationId(id(CONVERSATION)));
        let inbox = InboxId::from(site);
        let inboxes = store.inboxes(ws).await.unwrap();
        assert_eq!(
            inboxes,
            vec![Inbox { id: inbox, workspace_id: ws, name: "Shop".into(), kind: InboxKind::Website, created_at: Timestamp(1) }]
        );
        assert_eq!(store.workspace(ws).await.unwrap().time_zone, TimeZone::utc());
        assert_eq!(store.site_by_key("pk_upgraded_0006").await.unwrap().id, site);

        let conversation = store.conversation(ws, conv).await.unwrap();
        assert_eq!((conversation.site_id, conversation.inbox_id, conversation.inbox_kind), (site, inbox, InboxKind::Website));
        let filter = ConversationFilter { inbox_id: Some(inbox), limit: 10, ..Default::default() };
        assert_eq!(store.conversations(ws, &filter).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), vec![conv]);
        let filter = ConversationFilter { site_id: Some(site), limit: 10, ..Default::default() };
        assert_eq!(store.conversations(ws, &filter).await.unwrap().len(), 1, "site filters keep working");
        assert!(matches!(store.delete_site(ws, site).await, Err(StoreError::InUse(Entity::Site))));
    }
}

/// Business hours (issue 14) are kept on sites and teams, and removed again.
pub async fn sites_and_teams_keep_their_business_hours(store: Arc<dyn Store>) {
    let f = fixture(&*store, "hours").await;
    let range = |day, open, close| WeeklyRange { day, open, close };
    let new_year = Holiday { date: parse_date("2027-01-01", "date").unwrap(), name: "Yılbaşı".into() };
    let hours = BusinessHours::new(
        TimeZone::parse("Europe/Istanbul").unwrap(),
        vec![range(1, 9 * 60, 17 * 60), range(5, 22 * 60, 2 * 60)],
        vec![new_year],
    )
    .unwrap();
    let mut site = store.site(f.ws.id, f.site.id).await.unwrap();
    assert_eq!(site.business_hours, None, "always open until told otherwise");
    site.business_hours = Some(hours.clone());
    store.update_site(&site).await.unwrap();
    assert_eq!(store.site(f.ws.id, f.site.id).await.unwrap().business_hours, Some(hours.clone()));

    let team = Team {
        id: TeamId::new(),
        workspace_id: f.ws.id,
        name: "Night shift".into(),
        agent_ids: vec![],
        business_hours: Some(hours.clone()),
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    };
    store.create_team(&team).await.unwrap();
    assert_eq!(store.team(f.ws.id, team.id).await.unwrap(), team);
    let always = Team { business_hours: None, ..team.clone() };
    store.update_team(&always).await.unwrap();
    assert_eq!(store.team(f.ws.id, team.id).await.unwrap().business_hours, None);
    site.business_hours = None;
    store.update_site(&site).await.unwrap();
    assert_eq!(store.site(f.ws.id, f.site.id).await.unwrap().business_hours, None);
}

/// The automatic reply outside hours is owed once per closed period, known by its
/// reopening: the newest `outside_hours` event of a conversation is found however many
/// messages came after it, and only within its own workspace.
pub async fn the_newest_event_of_a_kind_is_found_however_far_back(store: Arc<dyn Store>) {
    let f = fixture(&*store, "notices").await;
    let other = fixture(&*store, "elsewhere").await;
    let conv = start(&*store, &f, Some("anyone there?")).await.conversation.id;
    assert_eq!(store.last_event_of_kind(f.ws.id, conv, "outside_hours").await.unwrap(), None, "never told");

    let notice = |reopens_at: i64| Change::Record {
        conversation_id: conv,
        actor: Actor::System,
        data: EventData::OutsideHours { reopens_at: Some(Timestamp(reopens_at)) },
        at: Timestamp::now(),
    };
    store.commit(f.ws.id, notice(1_000)).await.unwrap();
    for i in 0..120 {
        say(&*store, &f, conv, Actor::Contact(f.contact.id), &format!("still here {i}")).await;
    }
    let second = store.commit(f.ws.id, notice(2_000)).await.unwrap().events[0].seq;
    for i in 0..120 {
        say(&*store, &f, conv, Actor::Contact(f.contact.id), &format!("and now {i}")).await;
    }
    let found = store.last_event_of_kind(f.ws.id, conv, "outside_hours").await.unwrap().expect("told twice");
    assert_eq!(found.seq, second, "the newest, 120 messages back");
    assert_eq!(found.data, EventData::OutsideHours { reopens_at: Some(Timestamp(2_000)) });
    let first_message = store.last_event_of_kind(f.ws.id, conv, "message").await.unwrap().expect("messages");
    assert!(first_message.seq > second, "any kind, the newest of it");

    let refused = store.last_event_of_kind(other.ws.id, conv, "outside_hours").await;
    assert!(matches!(refused, Err(StoreError::NotFound(_))), "another workspace's conversation: {refused:?}");
    let unknown = store.last_event_of_kind(f.ws.id, ConversationId::new(), "outside_hours").await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

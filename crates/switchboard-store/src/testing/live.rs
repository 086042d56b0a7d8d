//! Contract cases of live tracking (issue 15): a site's tracking settings, visits and
//! their pages written in batches and read back newest first, and invitations.

use std::sync::Arc;

use switchboard_domain::*;

use super::fixture;
use crate::*;

fn visit(f: &super::Fixture, number: u32, started_at: i64) -> Visit {
    Visit {
        id: VisitId::new(),
        workspace_id: f.ws.id,
        site_id: f.site.id,
        contact_id: f.contact.id,
        number,
        started_at: Timestamp(started_at),
        last_seen_at: Timestamp(started_at),
        referrer: Some("https://search.example/?q=shoes".into()),
        utm: Utm { source: Some("news".into()), campaign: Some("spring".into()), ..Utm::default() },
        device: DeviceInfo { browser: Some("Firefox".into()), os: Some("Linux".into()), device: None, language: Some("tr-TR".into()) },
        country: Some("TR".into()),
    }
}

fn page(v: &Visit, url: &str, at: i64) -> VisitPageRow {
    VisitPageRow {
        visit_id: v.id,
        contact_id: v.contact_id,
        page: PageView { url: url.into(), title: Some(format!("Sayfa {at}")), referrer: None, at: Timestamp(at) },
    }
}

pub async fn a_site_keeps_its_tracking_mode_and_conversion_events(store: Arc<dyn Store>) {
    let f = fixture(&*store, "t").await;
    assert_eq!(f.site.tracking, TrackingMode::On, "the default");
    let mut site = f.site.clone();
    site.tracking = TrackingMode::Consent;
    site.conversion_events = vec!["purchase".into(), "تسجيل".into()];
    store.update_site(&site).await.unwrap();
    assert_eq!(store.site(f.ws.id, site.id).await.unwrap(), site);
    site.tracking = TrackingMode::Off;
    site.conversion_events = vec![];
    store.update_site(&site).await.unwrap();
    assert_eq!(store.site_by_key(&site.public_key).await.unwrap(), site);
}

pub async fn visits_are_written_in_batches_and_read_newest_first_with_their_pages(store: Arc<dyn Store>) {
    let f = fixture(&*store, "v").await;
    let first = visit(&f, 1, 1_000);
    let second = visit(&f, 2, 5_000_000);
    // The first batch starts a visit and its first page; the next ones add pages and
    // move how far it went (never back).
    let batch = LiveBatch { visits: vec![first.clone()], pages: vec![page(&first, "https://shop.example/", 1_000)], seen: vec![] };
    store.record_live(f.ws.id, &batch).await.unwrap();
    let batch = LiveBatch {
        visits: vec![second.clone()],
        pages: vec![page(&first, "https://shop.example/pricing", 2_000), page(&second, "https://shop.example/cart", 5_000_000)],
        seen: vec![(first.id, Timestamp(2_000)), (first.id, Timestamp(1_500))],
    };
    store.record_live(f.ws.id, &batch).await.unwrap();
    assert_eq!(store.visit_count(f.ws.id, f.site.id, f.contact.id).await.unwrap(), 2);

    let visits = store.visits(f.ws.id, f.contact.id, None, 10).await.unwrap();
    assert_eq!(visits.iter().map(|v| v.visit.number).collect::<Vec<_>>(), [2, 1], "newest first");
    assert_eq!(visits[1].visit, Visit { last_seen_at: Timestamp(2_000), ..first.clone() });
    let urls: Vec<_> = visits[1].pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls, ["https://shop.example/", "https://shop.example/pricing"], "pages oldest first");
    assert_eq!(visits[0].pages.len(), 1);

    // Paged: after the newest, the older one.
    let cursor = VisitCursor { started_at: visits[0].visit.started_at, id: visits[0].visit.id };
    let older = store.visits(f.ws.id, f.contact.id, Some(cursor), 1).await.unwrap();
    assert_eq!(older.iter().map(|v| v.visit.id).collect::<Vec<_>>(), [first.id]);
    let cursor = VisitCursor { started_at: older[0].visit.started_at, id: older[0].visit.id };
    assert!(store.visits(f.ws.id, f.contact.id, Some(cursor), 10).await.unwrap().is_empty());

    // Another workspace sees none of it, and cannot write into it.
    let stranger = fixture(&*store, "w").await;
    assert!(store.visits(stranger.ws.id, f.contact.id, None, 10).await.unwrap().is_empty());
    assert_eq!(store.visit_count(stranger.ws.id, f.site.id, f.contact.id).await.unwrap(), 0);
    let foreign = LiveBatch { visits: vec![visit(&f, 3, 9_000_000)], pages: vec![page(&first, "https://evil.example/", 9)], seen: vec![] };
    store.record_live(stranger.ws.id, &foreign).await.unwrap();
    assert_eq!(store.visit_count(f.ws.id, f.site.id, f.contact.id).await.unwrap(), 2, "nothing written across workspaces");
    assert_eq!(store.visits(f.ws.id, f.contact.id, None, 10).await.unwrap()[1].pages.len(), 2);
}

pub async fn an_invitation_is_kept_and_answered_once(store: Arc<dyn Store>) {
    let f = fixture(&*store, "i").await;
    let invitation = Invitation {
        id: InvitationId::new(),
        workspace_id: f.ws.id,
        site_id: f.site.id,
        contact_id: f.contact.id,
        body: Some("Merhaba! Yardım edebilir miyim?".into()),
        agent_id: Some(f.agent.id),
        trigger_id: None,
        open: false,
        typing_ms: 1200,
        created_at: Timestamp(7),
    };
    store.add_invitation(&invitation).await.unwrap();
    let stored = store.invitation(f.ws.id, invitation.id).await.unwrap();
    assert_eq!(stored, StoredInvitation { invitation: invitation.clone(), answered_at: None, conversation_id: None });

    let conv = super::start(&*store, &f, None).await.conversation;
    assert!(store.invitation_answered(f.ws.id, invitation.id, conv.id, Timestamp(9)).await.unwrap());
    let other = super::start(&*store, &f, Some("again")).await.conversation;
    assert!(!store.invitation_answered(f.ws.id, invitation.id, other.id, Timestamp(10)).await.unwrap(), "the first answer stays");
    let stored = store.invitation(f.ws.id, invitation.id).await.unwrap();
    assert_eq!((stored.answered_at, stored.conversation_id), (Some(Timestamp(9)), Some(conv.id)));

    let stranger = fixture(&*store, "j").await;
    assert!(matches!(store.invitation(stranger.ws.id, invitation.id).await, Err(StoreError::NotFound(Entity::Invitation))));
    let foreign = Invitation { id: InvitationId::new(), workspace_id: stranger.ws.id, ..invitation };
    assert!(matches!(store.add_invitation(&foreign).await, Err(StoreError::NotFound(Entity::Contact))), "not the workspace's contact");
}

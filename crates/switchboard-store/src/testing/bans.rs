//! Contract cases for bans and the site's privacy settings (issue 17): what every
//! backend keeps of a ban, in which order it lists them, and that one workspace never
//! sees or lifts another's.

use std::sync::Arc;

use switchboard_domain::masking::Masking;
use switchboard_domain::*;

use super::fixture;
use crate::*;

fn ban(ws: WorkspaceId, target: BanTarget, at: i64, expires_at: Option<i64>, by: Actor) -> Ban {
    Ban {
        id: BanId::new(),
        workspace_id: ws,
        target,
        reason: "spam, again — سبام".into(),
        expires_at: expires_at.map(Timestamp),
        created_by: by,
        created_at: Timestamp(at),
    }
}

pub async fn bans_of_every_kind_round_trip_newest_first_within_their_workspace(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let by_ip = ban(a.ws.id, BanTarget::Ip(IpRange::parse("2001:db8::/48").unwrap()), 10, None, Actor::Agent(a.agent.id));
    let by_v4 = ban(a.ws.id, BanTarget::Ip(IpRange::parse("203.0.113.7").unwrap()), 20, Some(5_000), Actor::Integration(ApiTokenId::new()));
    let by_contact = ban(a.ws.id, BanTarget::Contact(a.contact.id), 30, Some(9_000), Actor::Agent(a.agent.id));
    let by_email = ban(a.ws.id, BanTarget::Email(Email::parse("troll@example.com").unwrap()), 40, None, Actor::System);
    let theirs = ban(b.ws.id, BanTarget::Contact(b.contact.id), 50, None, Actor::Agent(b.agent.id));
    for x in [&by_ip, &by_v4, &by_contact, &by_email, &theirs] {
        store.create_ban(x).await.unwrap();
    }
    assert_eq!(store.bans(a.ws.id).await.unwrap(), [by_email.clone(), by_contact.clone(), by_v4.clone(), by_ip.clone()], "newest first");
    assert_eq!(store.bans(b.ws.id).await.unwrap(), std::slice::from_ref(&theirs));

    assert!(matches!(store.delete_ban(b.ws.id, by_v4.id).await, Err(StoreError::NotFound(Entity::Ban))), "not another's");
    store.delete_ban(a.ws.id, by_v4.id).await.unwrap();
    assert!(matches!(store.delete_ban(a.ws.id, by_v4.id).await, Err(StoreError::NotFound(Entity::Ban))), "lifted once");
    assert_eq!(store.bans(a.ws.id).await.unwrap(), [by_email, by_contact, by_ip]);
    assert_eq!(store.bans(b.ws.id).await.unwrap(), [theirs]);
}

pub async fn a_site_keeps_its_banned_behaviour_and_masking(store: Arc<dyn Store>) {
    let f = fixture(&*store, "m").await;
    let stored = store.site(f.ws.id, f.site.id).await.unwrap();
    assert_eq!((stored.banned_behaviour, stored.masking), (BannedBehaviour::Hide, Masking::default()), "hide and cards only by default");
    let mut changed = f.site.clone();
    changed.banned_behaviour = BannedBehaviour::Message;
    changed.masking = Masking { emails: true, phones: false };
    store.update_site(&changed).await.unwrap();
    assert_eq!(store.site(f.ws.id, f.site.id).await.unwrap(), changed);
    changed.masking = Masking { emails: false, phones: true };
    store.update_site(&changed).await.unwrap();
    assert_eq!(store.site_by_key(&f.site.public_key).await.unwrap(), changed);
}

//! The rules of live sessions, called on core directly (the sockets only parse, call
//! these and send): typing ownership, presence, following the feed, page views.

mod support;

use std::sync::Arc;
use std::time::Duration;

use switchboard_bus::BusMessage;
use switchboard_core::*;
use switchboard_domain::*;

struct Shop {
    _dir: tempfile::TempDir,
    core: Core,
    owner: Principal,
    site: Site,
}

async fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, core) = support::open(dir.path()).await;
    let core = core.with_clock(Arc::new(ManualClock::new(Timestamp(5_000_000))));
    let (owner, site) = support::shop(&core).await;
    Shop { _dir: dir, core, owner, site }
}

impl Shop {
    async fn visitor(&self) -> Visitor {
        let hello = VisitorHello { site_key: self.site.public_key.clone(), ..Default::default() };
        self.core.visitor(hello).await.unwrap()
    }

    async fn start(&self, v: &mut Visitor, body: &str) -> ConversationId {
        let draft = Draft { body: body.into(), ..Default::default() };
        let done = self.core.visitor_send(v, None, draft).await.unwrap();
        v.committed(&done);
        done.conversation.id
    }
}

/// The next message on a subscription, or a failure after a second.
async fn next(rx: &mut switchboard_bus::Receiver) -> Arc<BusMessage> {
    let delivery = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await.expect("a message within a second");
    delivery.expect("the bus is open").message.clone()
}

#[tokio::test]
async fn a_visitor_types_into_their_own_conversation_and_nobody_elses() {
    let shop = shop().await;
    let mut alice = shop.visitor().await;
    let mut mallory = shop.visitor().await;
    let hers = shop.start(&mut alice, "hello").await;
    shop.start(&mut mallory, "hi").await;
    let (mut feed, _) = shop.core.follow_feed(&shop.owner).await.unwrap();

    let refused = shop.core.visitor_typing(&mallory, hers, true).await;
    assert!(matches!(refused, Err(Error::NotFound(Entity::Conversation))), "{refused:?}");

    shop.core.visitor_typing(&alice, hers, true).await.unwrap();
    match &*next(&mut feed).await {
        BusMessage::Typing { conversation_id, actor, typing } => {
            assert_eq!((*conversation_id, *actor, *typing), (hers, alice.actor(), true));
        }
        other => panic!("expected typing, got {other:?}"),
    }
    assert!(feed.try_recv().is_err(), "the refused typing was never published");
}

#[tokio::test]
async fn a_visitor_knows_their_conversations_after_the_inbox_and_after_starting_one() {
    let shop = shop().await;
    let mut alice = shop.visitor().await;
    let started = shop.start(&mut alice, "hello").await;
    assert!(alice.knows(started), "a conversation the visitor started is remembered");

    // The same contact on a new socket knows nothing yet, and learns from the inbox.
    let mut again = shop
        .core
        .visitor(VisitorHello { site_key: shop.site.public_key.clone(), token: Some(alice.token.clone()), ..Default::default() })
        .await
        .unwrap();
    assert!(!again.knows(started));
    let inbox = shop.core.visitor_inbox(&mut again).await.unwrap();
    assert_eq!(inbox.iter().map(|c| c.id).collect::<Vec<_>>(), [started]);
    assert!(again.knows(started));
    // Unknown but their own: typing still works, checked against the store.
    let fresh = shop
        .core
        .visitor(VisitorHello { site_key: shop.site.public_key.clone(), token: Some(alice.token.clone()), ..Default::default() })
        .await
        .unwrap();
    shop.core.visitor_typing(&fresh, started, false).await.unwrap();
}

#[tokio::test]
async fn a_visitor_cannot_follow_someone_elses_conversation() {
    let shop = shop().await;
    let mut alice = shop.visitor().await;
    let mallory = shop.visitor().await;
    let hers = shop.start(&mut alice, "hello").await;
    assert!(matches!(shop.core.follow_conversation(&mallory, hers).await, Err(Error::NotFound(Entity::Conversation))));
    let mut live = shop.core.follow_conversation(&alice, hers).await.unwrap();
    let draft = Draft { body: "more".into(), ..Default::default() };
    shop.core.visitor_send(&alice, Some(hers), draft).await.unwrap();
    // Started (1) and the first message (2) came before: the new message is 3.
    assert!(matches!(&*next(&mut live).await, BusMessage::Event { event, .. } if event.seq == 3));
}

#[tokio::test]
async fn an_integration_has_no_presence() {
    let shop = shop().await;
    let token = Principal { actor: Actor::Integration(ApiTokenId::new()), ..shop.owner };
    shop.core.agent_connected(&token).await;
    assert!(shop.core.agents_online(shop.owner.workspace_id).is_empty());
}

#[tokio::test]
async fn following_the_feed_misses_nothing_committed_after_the_head() {
    let shop = shop().await;
    let mut alice = shop.visitor().await;
    shop.start(&mut alice, "before").await; // conversation_started, message: feed 1–2
    let (mut feed, head) = shop.core.follow_feed(&shop.owner).await.unwrap();
    assert_eq!(head, 2);
    shop.start(&mut alice, "after").await;
    assert!(matches!(&*next(&mut feed).await, BusMessage::Event { event, .. } if event.feed_seq == Some(3)));
}

#[tokio::test]
async fn core_stamps_a_page_view_with_its_own_clock() {
    let shop = shop().await;
    let alice = shop.visitor().await;
    let view = NewPageView { url: "https://shop.example/pricing".into(), title: Some("Pricing".into()), referrer: None, again: false };
    assert!(shop.core.live_page(&alice, false, true, view).await.unwrap(), "the site tracks");
    let views = shop.core.page_views(&shop.owner, alice.contact.id, None).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!((views[0].url.as_str(), views[0].at), ("https://shop.example/pricing", Timestamp(5_000_000)));

    let bad = shop.core.live_page(&alice, false, false, NewPageView { url: "javascript:alert(1)".into(), ..Default::default() }).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
}

/// Each open visitor socket is an entry in the node's registry, not a bus subscription
/// of its own: a ban that refuses its visitor, or the erasure of its contact, tells it
/// (through the workspace's one watcher), the others are left alone, and a socket that
/// closes is forgotten.
#[tokio::test]
async fn a_visitor_socket_is_told_when_a_ban_or_an_erasure_ends_it_and_forgotten_when_it_closes() {
    let shop = shop().await;
    let (alice, bob, carol) = (shop.visitor().await, shop.visitor().await, shop.visitor().await);
    let mut alices = shop.core.visitor_connected(&alice);
    let mut bobs = shop.core.visitor_connected(&bob);
    let mut carols = shop.core.visitor_connected(&carol);
    assert_eq!(shop.core.visitor_sockets(), 3);
    let within = Duration::from_secs(1);

    let ban = NewBan { target: BanTarget::Contact(alice.contact.id), reason: "spam".into(), expires_at: None };
    shop.core.create_ban(&shop.owner, ban).await.unwrap();
    let told = tokio::time::timeout(within, alices.notice()).await.expect("told within a second");
    assert!(matches!(told, Notice::Kick(Kick::Banned)), "{told:?}");

    shop.core.erase_contact(&shop.owner, bob.contact.id).await.unwrap();
    let told = tokio::time::timeout(within, bobs.notice()).await.expect("told within a second");
    assert!(matches!(told, Notice::Kick(Kick::Erased)), "{told:?}");

    assert!(carols.try_notice().is_none(), "carol is neither banned nor erased");
    assert!(carols.is_live());
    assert_eq!(shop.core.visitor_sockets(), 1, "the sockets told are forgotten");
    drop(carols);
    assert_eq!(shop.core.visitor_sockets(), 0, "a closed socket is forgotten");
}

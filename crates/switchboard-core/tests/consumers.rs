//! Log consumers: a component following a workspace's feed resumes from its stored
//! cursor after a restart, without missing or repeating an event.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use switchboard_core::*;
use switchboard_domain::*;
use switchboard_store::Store;

/// Remembers the `feed_seq` of every event it handled; fails on `fail_at`, once.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<i64>>,
    fail_at: Mutex<Option<i64>>,
    handled: tokio::sync::Notify,
}

#[async_trait]
impl FeedHandler for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    async fn handle(&self, event: &Event) -> Result<()> {
        if self.fail_at.lock().unwrap().take_if(|at| *at == event.feed_seq).is_some() {
            return Err(Error::Unavailable("the webhook endpoint is down".into()));
        }
        self.seen.lock().unwrap().push(event.feed_seq);
        self.handled.notify_one();
        Ok(())
    }
}

async fn open(dir: &Path) -> (Arc<dyn Store>, Core) {
    let (store, _, core) = support::open(dir).await;
    (store, core)
}

async fn shop(core: &Core) -> (WorkspaceId, Visitor) {
    let (owner, site) = support::shop(core).await;
    let hello =
        VisitorHello { site_key: site.public_key, origin: Default::default(), token: None, device: DeviceInfo::default(), ip: None };
    (owner.workspace_id, core.visitor(hello).await.unwrap())
}

async fn say(core: &Core, visitor: &Visitor, body: &str) {
    let draft = Draft { client_id: None, body: body.into(), format: MessageFormat::Text, attachments: vec![] };
    let conversation = core.visitor_conversations(visitor).await.unwrap().first().map(|c| c.id);
    core.visitor_send(visitor, conversation, draft).await.unwrap();
}

#[tokio::test]
async fn a_consumer_resumes_after_a_restart_without_missing_or_repeating_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, core) = open(dir.path()).await;
    let (ws, visitor) = shop(&core).await;
    say(&core, &visitor, "one").await; // conversation_started, message: feed 1–2
    say(&core, &visitor, "two").await; // 3

    let before = Recorder::default();
    assert_eq!(core.consume_feed(ws, &before).await.unwrap(), 3);
    assert_eq!(*before.seen.lock().unwrap(), [1, 2, 3]);
    assert_eq!(core.consume_feed(ws, &before).await.unwrap(), 0, "nothing new");
    say(&core, &visitor, "three").await; // 4
    store.close().await;

    // A new process, a new consumer of the same name: it starts after what was handled.
    let (store, core) = open(dir.path()).await;
    say(&core, &visitor, "four").await; // 5
    say(&core, &visitor, "five").await; // 6
    let after = Recorder { fail_at: Mutex::new(Some(6)), ..Default::default() };
    assert!(core.consume_feed(ws, &after).await.is_err(), "the endpoint is down at event 6");
    assert_eq!(*after.seen.lock().unwrap(), [4, 5]);
    assert_eq!(store.consumer_cursor("recorder", ws).await.unwrap(), 5, "the cursor stays before the failed event");
    assert_eq!(core.consume_feed(ws, &after).await.unwrap(), 1);
    assert_eq!(*after.seen.lock().unwrap(), [4, 5, 6]);
    store.close().await;
}

#[tokio::test]
async fn a_background_consumer_follows_new_events_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, core) = open(dir.path()).await;
    let (ws, visitor) = shop(&core).await;
    say(&core, &visitor, "before it started").await; // 1–2
    let recorder = Arc::new(Recorder::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = core.spawn_feed_consumer(ws, recorder.clone(), async move {
        let _ = stopped.await;
    });
    say(&core, &visitor, "while it runs").await; // 3
    tokio::time::timeout(Duration::from_secs(10), async {
        while recorder.seen.lock().unwrap().len() < 3 {
            recorder.handled.notified().await;
        }
    })
    .await
    .expect("the consumer caught up and followed");
    assert_eq!(*recorder.seen.lock().unwrap(), [1, 2, 3]);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), consumer).await.expect("the consumer stopped").unwrap();
}

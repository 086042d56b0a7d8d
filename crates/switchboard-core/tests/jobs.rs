//! Timers as durable jobs: a snoozed conversation wakes at its time, driven by a clock
//! the test moves and jobs the test runs (the worker loop is tested once, at the end).

mod support;

use std::sync::Arc;
use std::time::Duration;

use switchboard_bus::{Bus, BusMessage, LocalBus, Topic};
use switchboard_core::*;
use switchboard_domain::*;
use switchboard_proto as wire;
use switchboard_store::{Audience, EventQuery, JobState, NewJob, Store};

const HOUR: i64 = 3_600_000;

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<LocalBus>,
    clock: Arc<ManualClock>,
    core: Core,
    agent: Principal,
    visitor: Visitor,
    conversation: ConversationId,
}

/// A workspace whose visitor has started a conversation, with a clock the test moves.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (store, bus, core) = support::open(dir.path()).await;
    let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
    let core = core.with_clock(clock.clone());
    let (agent, site) = support::shop(&core).await;
    let visitor = core
        .visitor(VisitorHello {
            site_key: site.public_key.clone(),
            origin: Default::default(),
            token: None,
            device: DeviceInfo::default(),
            ip: None,
        })
        .await
        .unwrap();
    let draft = Draft { client_id: None, body: "hello?".into(), format: MessageFormat::Text, attachments: vec![] };
    let conversation = core.visitor_send(&visitor, None, draft).await.unwrap().conversation.id;
    World { _dir: dir, store, bus, clock, core, agent, visitor, conversation }
}

impl World {
    async fn status(&self) -> Status {
        self.core.conversation(&self.agent, self.conversation).await.unwrap().status
    }

    async fn events(&self) -> Vec<Event> {
        let all = EventQuery::replay(0, 1000, Audience::Agents);
        self.store.conversation_events(self.agent.workspace_id, self.conversation, &all).await.unwrap()
    }

    async fn snooze_for(&self, ms: i64) -> Timestamp {
        let until = self.clock.now().plus_millis(ms);
        self.core.set_status(&self.agent, self.conversation, Status::Snoozed { until }).await.unwrap();
        until
    }
}

#[tokio::test]
async fn a_snoozed_conversation_reopens_when_its_time_comes() {
    let w = world().await;
    let until = w.snooze_for(HOUR).await;
    assert!(w.core.run_pending_jobs().await.unwrap().is_empty(), "nothing is due yet");
    w.clock.advance(HOUR - 1);
    assert!(w.core.run_pending_jobs().await.unwrap().is_empty(), "a millisecond early");
    assert_eq!(w.status().await, Status::Snoozed { until });

    w.clock.advance(1);
    let ran = w.core.run_pending_jobs().await.unwrap();
    let wake = JobKind::WakeConversation { workspace_id: w.agent.workspace_id, conversation_id: w.conversation, until };
    assert_eq!(ran.iter().map(|r| (r.kind.clone(), r.outcome.clone())).collect::<Vec<_>>(), [(Some(wake), JobOutcome::Done)]);
    assert_eq!(w.status().await, Status::Open);
    let last = w.events().await.pop().unwrap();
    assert_eq!((last.actor, last.data, last.at), (Actor::System, EventData::StatusChanged { status: Status::Open }, until));
    assert!(w.core.run_pending_jobs().await.unwrap().is_empty(), "it ran once");
}

#[tokio::test]
async fn a_conversation_reopened_before_its_time_is_left_alone() {
    let w = world().await;
    w.snooze_for(HOUR).await;
    w.core.set_status(&w.agent, w.conversation, Status::Resolved).await.unwrap();
    let before = w.events().await.len();
    w.clock.advance(HOUR);
    let ran = w.core.run_pending_jobs().await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].outcome, JobOutcome::Done);
    assert_eq!(w.status().await, Status::Resolved, "resolved stays resolved");
    assert_eq!(w.events().await.len(), before, "no event recorded");
}

#[tokio::test]
async fn snoozing_again_moves_the_wake_up() {
    let w = world().await;
    w.snooze_for(HOUR).await;
    let later = w.snooze_for(3 * HOUR).await;
    w.clock.advance(HOUR);
    assert!(w.core.run_pending_jobs().await.unwrap().is_empty(), "one timer per conversation, now at the later time");
    assert_eq!(w.status().await, Status::Snoozed { until: later });
    w.clock.set(later);
    assert_eq!(w.core.run_pending_jobs().await.unwrap().len(), 1);
    assert_eq!(w.status().await, Status::Open);
}

#[tokio::test]
async fn a_job_that_cannot_be_read_fails_and_is_kept_dead() {
    let w = world().await;
    let id = w
        .store
        .enqueue_job(&NewJob { kind: "send_fax".into(), payload: "{}".into(), due_at: w.clock.now(), dedupe_key: None, max_attempts: 1 })
        .await
        .unwrap();
    let ran = w.core.run_pending_jobs().await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!((ran[0].id, ran[0].kind.clone()), (id, None));
    assert!(matches!(&ran[0].outcome, JobOutcome::Failed(e) if e.contains("unknown job kind")), "{:?}", ran[0].outcome);
    let dead = w.store.job(id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(w.core.run_pending_jobs().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_worker_runs_due_jobs_when_woken_and_stops_on_shutdown() {
    let w = world().await;
    let mut feed = w.bus.subscribe(Topic::Workspace(w.agent.workspace_id));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = w.core.spawn_job_worker(async move {
        let _ = stopped.await;
    });
    w.snooze_for(HOUR).await;
    w.clock.advance(HOUR);
    // Any enqueued job wakes the worker, which then runs everything due.
    let draft = Draft { client_id: None, body: "me too".into(), format: MessageFormat::Text, attachments: vec![] };
    let other = w.core.visitor_send(&w.visitor, None, draft).await.unwrap().conversation.id;
    assert_ne!(other, w.conversation);
    w.core.set_status(&w.agent, other, Status::Snoozed { until: w.clock.now().plus_millis(HOUR) }).await.unwrap();

    let reopened = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let BusMessage::Event { event, .. } = &*feed.recv().await.unwrap().message
                && event.conversation_id == w.conversation.0
                && matches!(event.body, wire::EventBody::StatusChanged { status: wire::ConversationStatus::Open, .. })
            {
                return event.actor.kind;
            }
        }
    })
    .await
    .expect("the worker reopened the conversation");
    assert_eq!(reopened, wire::ActorKind::System);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker).await.expect("the worker stopped").unwrap();
}
